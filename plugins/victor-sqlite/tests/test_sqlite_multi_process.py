"""Several processes appending to one file at once lose, duplicate and reorder nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlite_log_check import check_log

APPENDER = Path(__file__).with_name("sqlite_appender.py")
PROCESSES = 3
BATCHES = 120


def test_concurrent_processes_append_every_batch_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    children = [
        subprocess.Popen(
            [sys.executable, str(APPENDER), str(path), f"writer{n}", str(BATCHES)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(PROCESSES)
    ]
    for child in children:
        _, errors = child.communicate(timeout=120)
        assert child.returncode == 0, errors

    found = asyncio.run(check_log(path))

    assert found == {f"writer{n}": set(range(BATCHES)) for n in range(PROCESSES)}
