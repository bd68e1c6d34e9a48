"""SIGKILL during units of work never leaves part of one behind.

Two child processes commit units of work to one file (items, a versioned tally and an
aggregate's events, see sqlite_uow_writer.py) and are killed with SIGKILL at a random moment,
several times over the same file. After each kill, every unit is wholly present or wholly
absent in all three places, every unit a child reported as committed is present, and the
tally of each writer adds up exactly the units that are present.
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from sigkill_rounds import kill_writers_in_rounds
from sqlite_uow_writer import Item, ItemCounted, Tally, UnitStarted, unit_size

from victor_core import EventTypeRegistry
from victor_core.backend import EventSerializer
from victor_sqlite import SQLiteEventStore, SQLiteRepository

WRITER = Path(__file__).with_name("sqlite_uow_writer.py")
ROUNDS = 4
WRITERS_PER_ROUND = 2

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


async def units_found(path: Path) -> dict[str, set[int]]:
    """Check that every unit in the file is whole; return the units found, by writer."""
    registry = EventTypeRegistry()
    registry.register(UnitStarted, name="victor.test.uow.UnitStarted")
    registry.register(ItemCounted, name="victor.test.uow.ItemCounted")
    store = SQLiteEventStore(path, serializer=EventSerializer(registry=registry))
    items_repo = SQLiteRepository(Item, path)
    tallies_repo = SQLiteRepository(Tally, path)
    try:
        events = [r async for r in store.read_all()]
        items = await items_repo.find()
        tallies = {tally.id: tally for tally in await tallies_repo.find()}
    finally:
        await store.close()
        await items_repo.close()
        await tallies_repo.close()

    by_stream: dict[str, list[object]] = defaultdict(list)
    for recorded in events:
        by_stream[recorded.stream_id].append(recorded.event)
    from_events: dict[str, set[int]] = defaultdict(set)
    for stream_id, stream in by_stream.items():
        writer, _, unit = stream_id.rpartition("-")
        size = unit_size(int(unit))
        started = stream[0]
        assert isinstance(started, UnitStarted)
        assert started.size == size
        assert [e.index for e in stream[1:] if isinstance(e, ItemCounted)] == list(range(size))
        assert len(stream) == size + 1, f"the events of {stream_id} are whole"
        from_events[writer].add(int(unit))

    indexes: dict[tuple[str, int], list[int]] = defaultdict(list)
    for item in items:
        indexes[(item.writer, item.unit)].append(item.index)
    from_items: dict[str, set[int]] = defaultdict(set)
    for (writer, unit), found in indexes.items():
        assert sorted(found) == list(range(unit_size(unit))), f"{writer} {unit} has all items"
        from_items[writer].add(unit)

    assert from_items == from_events, "each unit's items and events are there together"
    for writer, units in from_items.items():
        tally = tallies[writer]
        assert tally.total == sum(unit_size(unit) for unit in units), "the tally adds up"
        assert tally.version == len(units), "one tally update per unit present"
    assert set(tallies) <= set(from_items), "no tally without its units"
    return dict(from_items)


def test_sigkill_during_units_of_work_never_leaves_part_of_one(tmp_path: Path) -> None:
    kept = kill_writers_in_rounds(
        script=WRITER,
        path=tmp_path / "crash.db",
        rounds=ROUNDS,
        writers_per_round=WRITERS_PER_ROUND,
        wait=(0.4, 1.2),
        read_back=lambda path: asyncio.run(units_found(path)),
    )

    assert sum(len(units) for units in kept.values()) > 0, "no child ever committed"
