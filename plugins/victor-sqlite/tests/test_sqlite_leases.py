"""Competing projection runners in several processes: one active, a SIGKILLed one replaced.

Two child processes run the same projection with a lease on one file. Only one of them
hands events over at a time; when it is killed with SIGKILL, the other takes over once the
lease runs out and goes on from the last committed checkpoint, so every event is handled
and none before that checkpoint is handled again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_appender import BatchEvent

from victor_sqlite import SQLiteEventStore

RUNNER = Path(__file__).with_name("sqlite_lease_runner.py")
# Long enough that a renewal delayed by a loaded machine never lets the lease lapse.
LEASE = 5.0
PATIENCE = 120.0

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]


class Child:
    def __init__(self, process: asyncio.subprocess.Process, owner: str) -> None:
        self.process = process
        self.owner = owner
        self.handled: list[str] = []
        self.committed: list[int] = []
        self.started = False
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            kind, value = line.decode().split()
            if kind == "handled":
                self.handled.append(value)
            elif kind == "started":
                self.started = True
            else:
                self.committed.append(int(value))


async def start(path: Path, owner: str) -> Child:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUNNER),
        str(path),
        owner,
        str(LEASE),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return Child(process, owner)


async def until(
    condition: Callable[[], bool], children: list[Child], killed: Child | None = None
) -> None:
    async with asyncio.timeout(PATIENCE):
        while not condition():
            for child in children:
                if child is not killed and child.process.returncode is not None:
                    pytest.fail(
                        f"runner {child.owner} exited by itself ({child.process.returncode})"
                    )
            await asyncio.sleep(0.02)


async def test_one_runner_is_active_and_a_killed_one_is_replaced_from_its_checkpoint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "leases.db"
    store = SQLiteEventStore(path)
    ids: list[str] = []

    async def append(count: int) -> int:
        events = [BatchEvent(writer="w", batch=len(ids) + n) for n in range(count)]
        ids.extend(event.id for event in events)
        return (await store.append("s", events)).positions[-1]

    await append(1)  # the file exists before the children open it
    children = [await start(path, f"owner{n}") for n in range(2)]
    try:
        await until(lambda: all(c.started for c in children), children)
        await asyncio.sleep(1.0)  # both have asked for the lease by now
        head = await append(12)
        await until(lambda: any(head in c.committed for c in children), children)
        active = [c for c in children if c.handled]
        assert len(active) == 1, "both runners of one projection handled events at once"
        (first,) = active
        (second,) = [c for c in children if c is not first]

        first.process.send_signal(signal.SIGKILL)
        await first.process.wait()
        await first.reader
        checkpoint = max(first.committed)
        head = await append(7)
        await until(lambda: head in second.committed, children, killed=first)

        assert second.handled == ids[checkpoint:], (
            "the runner that took over must go on from the last committed checkpoint"
        )
        assert sorted(set(first.handled) | set(second.handled)) == sorted(ids)
    finally:
        for child in children:
            if child.process.returncode is None:
                child.process.send_signal(signal.SIGKILL)
                await child.process.wait()
        await store.close()
