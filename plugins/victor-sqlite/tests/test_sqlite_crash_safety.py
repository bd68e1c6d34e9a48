"""SIGKILL at random moments never leaves half an append behind.

Two child processes append numbered batches to one file and are killed with SIGKILL at a
random moment (sometimes while opening the file, mostly mid-append), several times over the
same file. After each kill, every batch is wholly present or wholly absent, every batch a
child reported as appended is present, stream versions are contiguous and global positions
unique and increasing.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlite_log_check import check_log

APPENDER = Path(__file__).with_name("sqlite_appender.py")
ROUNDS = 6
WRITERS_PER_ROUND = 2

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def spawn(path: Path, writer: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(APPENDER), str(path), writer, "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_sigkill_at_random_moments_never_leaves_part_of_a_batch(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    chooser = random.Random(seed)
    path = tmp_path / "crash.db"
    kept: dict[str, set[int]] = {}

    for round_number in range(ROUNDS):
        writers = [f"round{round_number}-writer{n}" for n in range(WRITERS_PER_ROUND)]
        children = [spawn(path, writer) for writer in writers]
        time.sleep(chooser.uniform(0.2, 1.0))
        for child in children:
            child.send_signal(signal.SIGKILL)
        reported = {}
        for writer, child in zip(writers, children, strict=True):
            output, errors = child.communicate()
            assert child.returncode == -signal.SIGKILL, f"the child failed by itself: {errors}"
            reported[writer] = {int(line) for line in output.split()}

        found = asyncio.run(check_log(path))

        context = f"(random seed {seed}, round {round_number})"
        for writer in writers:
            present = found.get(writer, set())
            assert reported[writer] <= present, f"an acknowledged batch was lost {context}"
            assert present == set(range(len(present))), f"batches were skipped {context}"
        for writer, batches in kept.items():
            assert found.get(writer, set()) == batches, (
                f"an earlier round's batches changed {context}"
            )
        kept.update({writer: found.get(writer, set()) for writer in writers})

    assert sum(len(batches) for batches in kept.values()) > 0, "no child ever appended"
