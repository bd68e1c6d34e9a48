"""Defects in what is stored: a timestamp's precision, the order snapshots were saved in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from tests.broken_backends.memory_based import BrokenMemory
from victor_core import EventStore
from victor_core.backend import SnapshotRecord, StoredEventRecord
from victor_memory.event_log import InMemoryEventRecorder
from victor_memory.snapshots import InMemorySnapshotRecorder
from victor_memory.store import InMemoryEventStore


class MillisecondRecorder(InMemoryEventRecorder):
    """Timestamps come back at millisecond precision, as a BSON date keeps them."""

    async def read_stream(
        self, stream_id: str, from_version: int, to_version: int | None, limit: int | None
    ) -> Sequence[StoredEventRecord]:
        found = await super().read_stream(stream_id, from_version, to_version, limit)
        return [_in_milliseconds(record) for record in found]

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        return [_in_milliseconds(record) for record in await super().read_all(from_position, limit)]


def _in_milliseconds(record: StoredEventRecord) -> StoredEventRecord:
    moment = record.timestamp
    return record._replace(timestamp=moment.replace(microsecond=moment.microsecond // 1000 * 1000))


class MillisecondTimestamps(BrokenMemory):
    name = "broken-timestamps"
    defect = "records come back with their timestamps cut to milliseconds"

    def broken_store(self, store: InMemoryEventStore) -> EventStore:
        store.recorder = MillisecondRecorder(store.storage.event_log)
        return store


class LastSavedSnapshot(InMemorySnapshotRecorder):
    """The latest snapshot is the last one saved at or below the version, not the highest."""

    #: Every snapshot saved, in the order of saving, by shelf (one per storage).
    saved: ClassVar[dict[int, list[SnapshotRecord]]] = {}

    async def save_snapshot(self, record: SnapshotRecord) -> None:
        await super().save_snapshot(record)
        self.saved.setdefault(id(self.shelf), []).append(record)

    async def latest_snapshot(
        self, stream_id: str, max_version: int | None
    ) -> SnapshotRecord | None:
        fitting = [
            record
            for record in self.saved.get(id(self.shelf), [])
            if record.stream_id == stream_id
            and (max_version is None or record.version <= max_version)
        ]
        return fitting[-1] if fitting else None


class SnapshotsByInsertionOrder(BrokenMemory):
    name = "broken-snapshots"
    defect = "the latest snapshot is the one saved last, not the highest version"

    def broken_store(self, store: InMemoryEventStore) -> EventStore:
        store.snapshots = LastSavedSnapshot(store.storage.snapshots)
        return store


timestamps = MillisecondTimestamps()
snapshots = SnapshotsByInsertionOrder()
