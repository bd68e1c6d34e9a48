"""SIGKILL at random moments never leaves half an append behind.

Two child processes append numbered batches to one file and are killed with SIGKILL at a
random moment (sometimes while opening the file, mostly mid-append), several times over the
same file. After each kill, every batch is wholly present or wholly absent, every batch a
child reported as appended is present, stream versions are contiguous and global positions
unique and increasing.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sigkill_rounds import kill_writers_in_rounds
from sqlite_log_check import check_log

APPENDER = Path(__file__).with_name("sqlite_appender.py")
ROUNDS = 6
WRITERS_PER_ROUND = 2

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def test_sigkill_at_random_moments_never_leaves_part_of_a_batch(tmp_path: Path) -> None:
    kept = kill_writers_in_rounds(
        script=APPENDER,
        path=tmp_path / "crash.db",
        extra_arguments=["0"],
        rounds=ROUNDS,
        writers_per_round=WRITERS_PER_ROUND,
        wait=(0.2, 1.0),
        read_back=lambda path: asyncio.run(check_log(path)),
    )

    assert sum(len(batches) for batches in kept.values()) > 0, "no child ever appended"
