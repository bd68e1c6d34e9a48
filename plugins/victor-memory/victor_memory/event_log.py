"""The in-memory event recorder.

Records are kept serialized, exactly as a database would keep them. An append does all of
its work without awaiting, under a lock, so no other coroutine or thread can observe or
interleave with half of it: that is what makes it atomic here. Each stream's event ids are
indexed, so that an append finds the ones it reuses (a retry, or a mistake) in one lookup
per event, as a database finds them in its unique index.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from victor_core.backend import (
    AppendBroadcast,
    AppendResult,
    EventRecorder,
    ExpectedVersion,
    NewEventRecord,
    StoredEventRecord,
    check_append,
)

if TYPE_CHECKING:
    from victor_memory.transactions import MemoryTransactionManager


class MemoryEventLog:
    """The records of one in-memory storage: one global list, indexed by stream."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[StoredEventRecord] = []
        self.streams: dict[str, list[StoredEventRecord]] = {}
        #: Wakes subscriptions in any thread; notified once an append is in place for good.
        self.appended = AppendBroadcast()
        #: stream id -> event id -> the version it is stored at
        self.event_ids: dict[str, dict[str, int]] = {}

    def append_holding_lock(
        self,
        stream_id: str,
        records: Sequence[NewEventRecord],
        expected_version: ExpectedVersion,
    ) -> AppendResult:
        """Append *records* to *stream_id*; the caller holds :attr:`lock`.

        A unit of work's commit calls this for each of its appends while it holds the locks
        of everything it writes, so that its appends and entity writes land together.
        """
        stream = self.streams.get(stream_id, [])
        ids = self.event_ids.get(stream_id)
        reused = [stream[ids[r.event_id] - 1] for r in records if r.event_id in ids] if ids else []
        earlier = check_append(stream_id, records, expected_version, len(stream), reused)
        if earlier is not None:
            return earlier
        first_position = len(self.records) + 1
        first_version = len(stream) + 1
        # A stored record is its place (position, stream, version) followed by the fields of
        # the new record, in the same order: both are named tuples, so it is built as one,
        # by concatenation, which is quicker than unpacking.
        new = tuple.__new__
        stored = [
            new(StoredEventRecord, (first_position + n, stream_id, first_version + n) + record)  # noqa: RUF005
            for n, record in enumerate(records)
        ]
        self.records.extend(stored)
        self.streams.setdefault(stream_id, stream).extend(stored)
        count = len(stored)
        versions = range(first_version, first_version + count)
        self.event_ids.setdefault(stream_id, {}).update(
            zip([record.event_id for record in records], versions, strict=True)
        )
        return AppendResult(
            stream_id,
            first_version + count - 1,
            tuple(range(first_position, first_position + count)),
        )

    def take_back_holding_lock(self, stream_id: str, record_count: int, stream_length: int) -> None:
        """Undo an append to *stream_id*: keep the first records of the log and of the stream.

        A unit of work whose commit fails after an append calls this, still holding the lock.
        """
        del self.records[record_count:]
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        ids = self.event_ids.get(stream_id, {})
        for record in stream[stream_length:]:
            ids.pop(record.event_id, None)
        del stream[stream_length:]
        if not stream:
            del self.streams[stream_id]
            self.event_ids.pop(stream_id, None)


class InMemoryEventRecorder(EventRecorder):
    """An :class:`~victor_core.backend.EventRecorder` over a :class:`MemoryEventLog`."""

    def __init__(self, log: MemoryEventLog) -> None:
        self.log = log

    async def append(
        self,
        stream_id: str,
        records: Sequence[NewEventRecord],
        expected_version: ExpectedVersion,
    ) -> AppendResult:
        with self.log.lock:
            result = self.log.append_holding_lock(stream_id, records, expected_version)
        self.log.appended.notify(result.positions[-1])
        return result

    async def read_stream(
        self,
        stream_id: str,
        from_version: int,
        to_version: int | None,
        limit: int | None,
    ) -> Sequence[StoredEventRecord]:
        # Reads take the lock too: a reader in another thread must not see a unit of work's
        # commit halfway, which it could if that commit is then undone.
        with self.log.lock:
            stream = self.log.streams.get(stream_id, [])
            end = len(stream) if to_version is None else min(to_version, len(stream))
            selected = stream[from_version - 1 : end]
        return selected if limit is None else selected[:limit]

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        with self.log.lock:
            return self.log.records[from_position - 1 : from_position - 1 + limit]

    async def last_position(self) -> int:
        with self.log.lock:
            return len(self.log.records)

    def append_signal(self) -> AppendBroadcast:
        return self.log.appended

    async def stream_version(self, stream_id: str) -> int:
        with self.log.lock:
            return len(self.log.streams.get(stream_id, ()))

    def transaction_manager(self) -> MemoryTransactionManager:
        """The in-process memory's manager: in-memory writes all commit together."""
        # Here, not at the top: that module imports this one.
        from victor_memory.transactions import MemoryTransactionManager

        return MemoryTransactionManager()
