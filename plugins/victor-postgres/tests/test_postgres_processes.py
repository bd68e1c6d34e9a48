"""Several processes at once, and clients killed mid-write: nothing acknowledged is lost.

A client killed with SIGKILL in the middle of an append or of an open transaction leaves
nothing of it behind; the server ends its transaction when the connection goes, so readers
are not held back by it either.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from victor_postgres import PostgresEventStore

pytestmark = pytest.mark.asyncio

APPENDER = Path(__file__).with_name("postgres_appender.py")
sys.path.insert(0, str(APPENDER.parent))
from postgres_appender import BatchEvent  # noqa: E402


def spawn(url: str, writer: str, batches: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(APPENDER), url, writer, str(batches), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


async def batches_found(store: PostgresEventStore) -> dict[str, set[int]]:
    """Each writer's batches in the log, every one checked to be whole and in order."""
    events: dict[tuple[str, int], list[BatchEvent]] = defaultdict(list)
    positions = []
    async for recorded in store.read_all():
        event = recorded.event
        assert isinstance(event, BatchEvent)
        events[(event.writer, event.batch)].append(event)
        positions.append(recorded.position)
    assert positions == sorted(set(positions)), "positions are unique and rising"
    found: dict[str, set[int]] = defaultdict(set)
    for (writer, batch), parts in events.items():
        assert [e.index for e in parts] == list(range(parts[0].size)), "a batch is whole"
        found[writer].add(batch)
    return dict(found)


async def test_processes_appending_at_once_store_every_batch_once(url: str) -> None:
    writers = [f"writer{n}" for n in range(3)]
    children = [spawn(url, writer, 40) for writer in writers]
    for child in children:
        _, errors = child.communicate(timeout=300)
        assert child.returncode == 0, errors
    store = PostgresEventStore(url)
    assert await batches_found(store) == {writer: set(range(40)) for writer in writers}
    await store.close()


def read_reported(child: subprocess.Popen[str], enough: int) -> list[str]:
    """Lines the child printed, until it has printed *enough* (or ended)."""
    assert child.stdout is not None
    lines = []
    while len(lines) < enough:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    return lines


async def test_a_client_killed_mid_append_loses_nothing_acknowledged_and_leaves_no_part(
    url: str,
) -> None:
    chooser = random.Random()
    reported: dict[str, set[int]] = {}
    for round_number in range(3):
        writers = [f"r{round_number}w{n}" for n in range(2)]
        children = [spawn(url, writer, 0) for writer in writers]
        early = {
            w: read_reported(c, chooser.randint(1, 15))
            for w, c in zip(writers, children, strict=True)
        }
        for child in children:
            child.send_signal(signal.SIGKILL)
        for writer, child in zip(writers, children, strict=True):
            rest, errors = child.communicate(timeout=60)
            assert child.returncode == -signal.SIGKILL, f"the child failed by itself: {errors}"
            reported[writer] = {int(n) for n in [*early[writer], *rest.split()]}
        store = PostgresEventStore(url)
        found = await batches_found(store)
        await store.close()
        for writer, batches in reported.items():
            present = found.get(writer, set())
            assert batches <= present, "a batch the client was told was stored is there"
            assert present == set(range(len(present))), "no batch was skipped"


async def test_a_client_killed_inside_an_open_transaction_leaves_nothing_and_holds_no_reader(
    url: str,
) -> None:
    child = spawn(url, "holder", 3, "hold")
    lines = read_reported(child, 4)
    assert lines == ["0", "1", "2", "holding"], child.stderr.read() if child.stderr else ""
    store = PostgresEventStore(url, catch_up_wait=0)
    await store.append("after", BatchEvent(writer="after", batch=0, index=0, size=1))
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    found: dict[str, set[int]] = {}
    for _ in range(600):  # the server notices the dropped connection and rolls back
        found = await batches_found(store)
        if "after" in found:
            break
        await asyncio.sleep(0.1)
    assert found == {"holder": {0, 1, 2}, "after": {0}}
    await store.close()
