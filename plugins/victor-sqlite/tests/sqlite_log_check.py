"""Checks of a whole event log that the crash and multi-process tests share."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlite_appender import BatchEvent

from victor_core import EventTypeRegistry
from victor_core.backend import EventSerializer
from victor_sqlite import SQLiteEventStore


async def check_log(path: Path) -> dict[str, set[int]]:
    """Assert the log's invariants; return the batches found, by writer."""
    registry = EventTypeRegistry()
    registry.register(BatchEvent, name="victor.test.BatchEvent")
    store = SQLiteEventStore(path, serializer=EventSerializer(registry=registry))
    try:
        recorded = [r async for r in store.read_all(page_size=333)]
    finally:
        await store.close()

    positions = [r.position for r in recorded]
    assert positions == sorted(set(positions)), "global positions are unique and increasing"
    versions: dict[str, list[int]] = defaultdict(list)
    batches: dict[tuple[str, int], list[BatchEvent]] = defaultdict(list)
    for r in recorded:
        versions[r.stream_id].append(r.version)
        event = r.event
        assert isinstance(event, BatchEvent)
        batches[(event.writer, event.batch)].append(event)
    for stream, found in versions.items():
        assert found == list(range(1, len(found) + 1)), f"{stream} versions are contiguous"
    by_writer: dict[str, set[int]] = defaultdict(set)
    for (writer, batch), events in batches.items():
        assert [e.index for e in events] == list(range(events[0].size)), (
            f"batch {batch} of writer {writer} is whole and in order"
        )
        by_writer[writer].add(batch)
    return dict(by_writer)
