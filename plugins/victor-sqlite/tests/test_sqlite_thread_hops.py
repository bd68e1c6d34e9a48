"""Each store operation costs one hand-off to the connection's thread, however many statements.

A hand-off costs far more than SQLite needs for a small statement, so this is what the
store's throughput depends on (benchmarks/bench_event_store.py measures it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import pytest_asyncio

from victor_core import Aggregate, AggregateRepository, Event
from victor_core.backend import ConcurrencyError
from victor_sqlite import SQLiteEventStore

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Ticked(Event):
    __event_type__ = "victor.test.sqlite.hops.Ticked"
    n: int = 0


class Clock(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0

    def _apply_Ticked(self, event: Ticked) -> None:
        self.id = event.aggregate_id
        self.ticks += 1


class Hops:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, operation: Any) -> int:
        """How many hand-offs awaiting *operation* takes."""
        before = self.count
        await operation
        return self.count - before


@pytest_asyncio.fixture
async def hops(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hops]:
    counter = Hops()
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counter.count += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    yield counter


@pytest_asyncio.fixture
async def store(tmp_path: Path, hops: Hops) -> AsyncIterator[SQLiteEventStore]:
    opened = SQLiteEventStore(tmp_path / "e.db")
    await opened.append("warm-up", Ticked())  # opens the connection and creates the schema
    assert opened.checkpoints is not None
    assert opened.snapshots is not None
    await opened.checkpoints.load("warm-up")
    await opened.snapshots.latest_snapshot("warm-up", None)
    yield opened
    await opened.close()


async def test_an_append_of_many_events_is_one_hop(store: SQLiteEventStore, hops: Hops) -> None:
    events = [Ticked(n=n) for n in range(50)]

    assert await hops(store.append("s", events, expected_version=0)) == 1
    assert await store.stream_version("s") == 50


async def test_a_rejected_append_is_one_hop(store: SQLiteEventStore, hops: Hops) -> None:
    before = hops.count

    with pytest.raises(ConcurrencyError):
        await store.append("warm-up", Ticked(), expected_version=0)

    assert hops.count - before == 1


async def test_reads_are_one_hop_each_and_short_streams_none(
    store: SQLiteEventStore, hops: Hops
) -> None:
    await store.append("s", [Ticked(n=n) for n in range(5)])

    assert await hops(store.read_stream("s")) == 0  # read on the loop's own connection
    assert await hops(store.stream_version("s")) == 1
    assert await hops(store.version_at("s", datetime.now(UTC))) == 1

    async def read_everything() -> None:
        assert len([r async for r in store.read_all(page_size=4)]) == 6

    # Two short pages (4 and 2 records), read on the loop's own connection as well.
    assert await hops(read_everything()) == 0
    await store.append("long", [Ticked(n=n) for n in range(700)])

    async def read_default_page() -> None:
        assert len([r async for r in store.read_all(from_position=7, limit=500)]) == 500

    # A page of the default size is read here whole: decoding it holds the loop longer.
    assert await hops(read_default_page()) == 0

    async def read_long_page() -> None:
        assert len([r async for r in store.read_all(from_position=7, page_size=1000)]) == 700

    # A longer page: its first records here, its rest in one hop.
    assert await hops(read_long_page()) == 1


async def test_saving_an_aggregate_is_one_hop_and_loading_it_none(
    store: SQLiteEventStore, hops: Hops
) -> None:
    repository = AggregateRepository(store, Clock)
    clock = Clock()
    for n in range(10):
        clock.apply(Ticked(n=n, aggregate_id="clock-1"))

    assert await hops(repository.save(clock)) == 1
    assert await hops(repository.load("clock-1")) == 0


async def test_snapshot_and_checkpoint_operations_are_one_hop_each(
    store: SQLiteEventStore, hops: Hops
) -> None:
    assert store.checkpoints is not None
    assert store.snapshots is not None
    repository = AggregateRepository(store, Clock, snapshots=True)
    clock = Clock()
    clock.apply(Ticked(aggregate_id="clock-1"))
    await repository.save(clock)

    assert await hops(repository.take_snapshot(clock)) == 1
    assert await hops(repository.load("clock-1")) == 1  # the snapshot and later events
    assert await hops(store.checkpoints.save("p", 3)) == 1
    assert await hops(store.checkpoints.load("p")) == 1


async def test_a_load_with_snapshots_is_one_hop_whether_or_not_a_snapshot_is_stored(
    store: SQLiteEventStore, hops: Hops
) -> None:
    repository = AggregateRepository(store, Clock, snapshot_every=5)
    clock = Clock()
    for n in range(3):
        clock.apply(Ticked(n=n, aggregate_id="clock-1"))
    await repository.save(clock)

    assert await hops(repository.load("clock-1")) == 1  # no snapshot stored yet
    for n in range(4):
        clock.apply(Ticked(n=n, aggregate_id="clock-1"))
    await repository.save(clock)  # passes version 5: snapshot taken
    loaded = await repository.load("clock-1")

    assert (loaded.ticks, loaded.version) == (7, 7)
    assert await hops(repository.load("clock-1")) == 1
    assert await hops(repository.load("clock-1", at_version=6)) == 1
    assert (await repository.load("clock-1", at_version=6)).ticks == 6


async def test_a_snapshot_that_no_longer_fits_costs_one_more_read_for_the_earlier_events(
    store: SQLiteEventStore, hops: Hops
) -> None:
    clock = Clock()
    for n in range(4):
        clock.apply(Ticked(n=n, aggregate_id="clock-1"))
    await AggregateRepository(store, Clock, snapshot_every=3).save(clock)

    class ClockWithAlarm(Clock):
        __aggregate_type__ = "Clock"

        def __init__(self) -> None:
            super().__init__()
            self.alarm = ""

    repository = AggregateRepository(store, ClockWithAlarm, snapshots=True)

    assert await hops(repository.load("clock-1")) == 1  # the earlier events: a short read
    loaded = await repository.load("clock-1")
    assert (loaded.ticks, loaded.version, loaded.alarm) == (4, 4, "")


async def test_a_long_stream_is_read_on_the_worker_after_its_first_records(
    store: SQLiteEventStore, hops: Hops
) -> None:
    await store.append("long", [Ticked(n=n) for n in range(1200)])

    assert await hops(store.read_stream("long")) == 1
    assert [r.event.n for r in await store.read_stream("long")] == list(range(1200))  # type: ignore[attr-defined]
    assert len(await store.read_stream("long", from_version=100, limit=800)) == 800
    assert await hops(store.read_stream("long", limit=400)) == 0


async def test_an_in_memory_database_reads_every_stream_on_the_worker(hops: Hops) -> None:
    async with SQLiteEventStore() as store:
        await store.append("s", [Ticked(n=n) for n in range(5)])

        assert await hops(store.read_stream("s")) == 1
        assert len(await store.read_stream("s")) == 5
