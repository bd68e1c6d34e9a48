"""SIGKILL a projection whose read model is in the same SQLite file: nothing lost or repeated.

Each batch's read-model update and its checkpoint commit in one transaction, so after any
kill the read model holds exactly the events up to the checkpoint, and a restarted runner
goes on from there: in the end every event is in the read model once. Each round kills the
runner once it has reported a random number of committed batches, so the kill lands in the
middle of its work however slow the machine is, never before it started.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sigkill_rounds import spawn
from sqlite_appender import BatchEvent
from sqlite_tally_runner import PROJECTION, Tally

from victor_sqlite import SQLiteDatabase, SQLiteEventStore, SQLiteRepository

RUNNER = Path(__file__).with_name("sqlite_tally_runner.py")
EVENTS = 200
ROUNDS = 5
#: A round kills the runner after this many committed batches (of 4), chosen at random.
BATCHES_BEFORE_KILL = (1, 6)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


async def read_back(path: Path) -> tuple[int, list[int]]:
    database = SQLiteDatabase(path)
    try:
        checkpoints = SQLiteEventStore(database).checkpoints
        assert checkpoints is not None
        tally = await SQLiteRepository(Tally, database).get("tally")
        return await checkpoints.load(PROJECTION), [] if tally is None else tally.positions
    finally:
        await database.close()


def reported_batches(child: subprocess.Popen[str], count: int) -> list[int]:
    """The first *count* checkpoints the runner printed, read as it prints them."""
    assert child.stdout is not None
    positions: list[int] = []
    while len(positions) < count:
        line = child.stdout.readline()
        if not line:
            _, errors = child.communicate()
            pytest.fail(f"the runner ended after {len(positions)} batches: {errors}")
        positions.append(int(line))
    return positions


async def append_all(path: Path) -> None:
    async with SQLiteEventStore(path) as store:
        await store.append("s", [BatchEvent(writer="w", batch=n) for n in range(1, EVENTS + 1)])


def test_a_killed_runner_neither_loses_nor_repeats_an_event(tmp_path: Path) -> None:
    path = tmp_path / "tally.db"
    asyncio.run(append_all(path))
    seed = random.randrange(2**32)
    chooser = random.Random(seed)
    for round_number in range(ROUNDS):
        child = spawn(RUNNER, [str(path)])
        try:
            reported = reported_batches(child, chooser.randint(*BATCHES_BEFORE_KILL))
        finally:
            child.send_signal(signal.SIGKILL)
            output, errors = child.communicate()
        assert child.returncode == -signal.SIGKILL, f"the runner failed by itself: {errors}"
        reported += [int(line) for line in output.split()]

        checkpoint, positions = asyncio.run(read_back(path))
        assert checkpoint >= reported[-1], (
            f"a checkpoint the runner reported committed was lost (random seed {seed}, "
            f"round {round_number})"
        )
        assert positions == list(range(1, checkpoint + 1)), (
            f"after a SIGKILL the read model must hold exactly the events up to the "
            f"checkpoint {checkpoint} (random seed {seed}, round {round_number})"
        )

    child = spawn(RUNNER, [str(path)])
    try:

        async def until_done() -> tuple[int, list[int]]:
            async with asyncio.timeout(120):
                while True:
                    found = await read_back(path)
                    if found[0] == EVENTS:
                        return found
                    await asyncio.sleep(0.1)

        checkpoint, positions = asyncio.run(until_done())
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert positions == list(range(1, EVENTS + 1)), "every event is in the read model once"
