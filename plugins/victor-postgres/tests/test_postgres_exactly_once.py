"""SIGKILL a projection whose read model is in its PostgreSQL database: nothing lost or repeated.

Each batch's read-model update and its checkpoint commit in one transaction, and the server
rolls back the transaction of a client that dies before ``COMMIT``. So after any kill the
read model holds exactly the events up to the checkpoint, and a restarted runner goes on
from there: in the end every event is in the read model once. Each round kills the runner
once it has reported a random number of committed batches and a random moment after that,
so the kill lands in the middle of its work however slow the machine is, never before it
started, and at any point of a batch: handling, committing, or between the two.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).with_name("postgres_tally_runner.py")
sys.path.insert(0, str(RUNNER.parent))
from postgres_appender import BatchEvent  # noqa: E402
from postgres_tally_runner import PROJECTION, Tally  # noqa: E402

from victor_postgres import PostgresEventStore, PostgresRepository  # noqa: E402

pytestmark = pytest.mark.asyncio

EVENTS = 200
ROUNDS = 5
#: A round kills the runner after this many committed batches (of 4), chosen at random.
BATCHES_BEFORE_KILL = (1, 6)
#: ...and then up to this many seconds later, so the kill falls at any point of a batch.
PHASE = 0.15


def spawn(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(RUNNER), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


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


async def read_back(url: str) -> tuple[int, list[int]]:
    """The saved checkpoint and the batches the read model holds, in the order applied."""
    async with PostgresEventStore(url) as store, PostgresRepository(Tally, url) as tallies:
        assert store.checkpoints is not None
        tally = await tallies.get("tally")
        return await store.checkpoints.load(PROJECTION), [] if tally is None else tally.batches


async def test_a_killed_runner_neither_loses_nor_repeats_an_event(url: str) -> None:
    async with PostgresEventStore(url) as store:
        appended = await store.append(
            "s", [BatchEvent(writer="w", batch=n) for n in range(1, EVENTS + 1)]
        )
    positions = appended.positions

    def up_to(checkpoint: int) -> list[int]:
        return [n for n, p in enumerate(positions, start=1) if p <= checkpoint]

    seed = random.randrange(2**32)
    chooser = random.Random(seed)
    for round_number in range(ROUNDS):
        child = spawn(url)
        try:
            count = chooser.randint(*BATCHES_BEFORE_KILL)
            reported = await asyncio.to_thread(reported_batches, child, count)
            await asyncio.sleep(chooser.uniform(0, PHASE))
        finally:
            child.send_signal(signal.SIGKILL)
            output, errors = await asyncio.to_thread(child.communicate)
        assert child.returncode == -signal.SIGKILL, f"the runner failed by itself: {errors}"
        reported += [int(line) for line in output.split()]

        checkpoint, batches = await read_back(url)
        assert checkpoint >= reported[-1], (
            f"a checkpoint the runner reported committed was lost (random seed {seed}, "
            f"round {round_number})"
        )
        assert batches == up_to(checkpoint), (
            f"after a SIGKILL the read model must hold exactly the events up to the "
            f"checkpoint {checkpoint} (random seed {seed}, round {round_number})"
        )

    child = spawn(url)
    try:
        async with asyncio.timeout(120):
            while True:
                checkpoint, batches = await read_back(url)
                if checkpoint == positions[-1]:
                    break
                await asyncio.sleep(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        await asyncio.to_thread(child.communicate)
    assert batches == list(range(1, EVENTS + 1)), "every event is in the read model once"
