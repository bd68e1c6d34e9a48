"""The engine: events kept in plain Python lists, one "database" per name."""

from __future__ import annotations

from collections.abc import Sequence

from victor_core.backend import (
    AppendResult,
    EventRecorder,
    ExpectedVersion,
    LoopBinding,
    NewEventRecord,
    StoredEventRecord,
    check_append,
)

_databases: dict[str, list[StoredEventRecord]] = {}


class ListRecorder(EventRecorder):
    """Every method runs without awaiting, so each one is atomic under asyncio.

    Atomic for the coroutines of one event loop, not for threads: the backend does not
    declare ``threads``, so each method first checks that it runs on the recorder's loop.
    """

    def __init__(self, database: str) -> None:
        self.log = _databases.setdefault(database, [])
        self.loop = LoopBinding(f"example database {database!r}", "example")

    async def append(
        self, stream_id: str, records: Sequence[NewEventRecord], expected_version: ExpectedVersion
    ) -> AppendResult:
        self.loop.check()
        current = await self.stream_version(stream_id)
        ids = {record.event_id for record in records}
        reused = [r for r in self.log if r.stream_id == stream_id and r.event_id in ids]
        earlier = check_append(stream_id, records, expected_version, current, reused)
        if earlier is not None:
            return earlier  # a retry of an append already stored: write nothing
        stored = [
            StoredEventRecord(
                position=len(self.log) + 1 + offset,
                stream_id=stream_id,
                version=current + 1 + offset,
                event_id=record.event_id,
                type_name=record.type_name,
                schema_version=record.schema_version,
                data=record.data,
                timestamp=record.timestamp,
            )
            for offset, record in enumerate(records)
        ]
        self.log.extend(stored)
        return AppendResult(stream_id, stored[-1].version, tuple(r.position for r in stored))

    async def read_stream(
        self, stream_id: str, from_version: int, to_version: int | None, limit: int | None
    ) -> Sequence[StoredEventRecord]:
        self.loop.check()
        selected = [
            r
            for r in self.log
            if r.stream_id == stream_id
            and r.version >= from_version
            and (to_version is None or r.version <= to_version)
        ]
        return selected[:limit] if limit is not None else selected

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        self.loop.check()
        return self.log[from_position - 1 : from_position - 1 + limit]

    async def stream_version(self, stream_id: str) -> int:
        self.loop.check()
        return sum(1 for r in self.log if r.stream_id == stream_id)


def drop(database: str) -> None:
    _databases.pop(database, None)
