"""Defects in reading: a bound dropped, positions taken for offsets."""

from __future__ import annotations

from collections.abc import Sequence

from tests.broken_backends.memory_based import BrokenMemory
from victor_core import EventStore
from victor_core.backend import AppendResult, ExpectedVersion, NewEventRecord, StoredEventRecord
from victor_memory.event_log import InMemoryEventRecorder, MemoryEventLog
from victor_memory.store import InMemoryEventStore


class LimitWithoutTo(InMemoryEventRecorder):
    """With a limit, the query is built without its upper bound."""

    async def read_stream(
        self, stream_id: str, from_version: int, to_version: int | None, limit: int | None
    ) -> Sequence[StoredEventRecord]:
        if limit is None:
            return await super().read_stream(stream_id, from_version, to_version, None)
        with self.log.lock:
            return self.log.streams.get(stream_id, [])[from_version - 1 :][:limit]


class ToVersionIgnoredWithLimit(BrokenMemory):
    name = "broken-to-version"
    defect = "read_stream ignores to_version when a limit is given"

    def broken_store(self, store: InMemoryEventStore) -> EventStore:
        store.recorder = LimitWithoutTo(store.storage.event_log)
        return store


class SequenceLog(MemoryEventLog):
    """Positions from a sequence that every append uses up, refused or not (as SQL's do)."""

    def __init__(self) -> None:
        super().__init__()
        self.sequence = 0

    def append_holding_lock(
        self, stream_id: str, records: Sequence[NewEventRecord], expected_version: ExpectedVersion
    ) -> AppendResult:
        self.sequence += 1
        result = super().append_holding_lock(stream_id, records, expected_version)
        renumbered = [
            record._replace(position=record.position + self.sequence)
            for record in self.records[-len(records) :]
        ]
        self.records[-len(records) :] = renumbered
        self.streams[stream_id][-len(records) :] = renumbered
        return result._replace(positions=tuple(r.position for r in renumbered))


class PositionAsOffset(InMemoryEventRecorder):
    """``read_all`` as ``OFFSET from_position - 1``: right only while positions have no gaps."""

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        with self.log.lock:
            return self.log.records[from_position - 1 : from_position - 1 + limit]


class ReadAllByOffset(BrokenMemory):
    name = "broken-read-all-offset"
    defect = "read_all takes the position for an offset into the log, which has gaps"

    def broken_store(self, store: InMemoryEventStore) -> EventStore:
        storage = store.storage
        if not isinstance(storage.event_log, SequenceLog):
            storage.event_log = SequenceLog()
        store.recorder = PositionAsOffset(storage.event_log)
        return store


to_version = ToVersionIgnoredWithLimit()
read_all_offset = ReadAllByOffset()
