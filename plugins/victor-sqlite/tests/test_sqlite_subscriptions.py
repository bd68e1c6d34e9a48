"""Subscriptions on SQLite see other processes' appends, found by ``PRAGMA data_version``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_appender import BatchEvent

from victor_sqlite import SQLiteEventStore

APPENDER = Path(__file__).with_name("sqlite_appender.py")
PROCESSES = 2
BATCHES = 20
#: Batch n of a writer holds 1 + n % 5 events.
EVENTS = PROCESSES * sum(1 + n % 5 for n in range(BATCHES))


@pytest.mark.asyncio
async def test_a_subscription_follows_appends_of_other_processes_in_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    store = SQLiteEventStore(path)
    await store.append("setup", BatchEvent(writer="setup"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    async with store.subscribe(2, poll_interval=0.02) as subscription:
        children = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(APPENDER),
                str(path),
                f"writer{n}",
                str(BATCHES),
                stdout=subprocess.DEVNULL,
                env=env,
            )
            for n in range(PROCESSES)
        ]
        delivered = []

        async def follow() -> None:
            async for recorded in subscription:
                delivered.append(recorded)
                if len(delivered) == EVENTS:
                    return

        await asyncio.wait_for(follow(), 120)
        for child in children:
            assert await child.wait() == 0

    expected = [r.position async for r in store.read_all(from_position=2)]
    await store.close()
    assert [r.position for r in delivered] == expected
    per_writer = {
        (e.writer, e.batch, e.index)
        for e in (r.event for r in delivered)
        if isinstance(e, BatchEvent)
    }
    assert len(per_writer) == EVENTS
