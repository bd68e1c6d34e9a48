"""The PostgreSQL snapshot recorder: every snapshot of a stream, keyed by stream and version."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from victor_core.backend import EventRecorder, SnapshotRecord, SnapshotRecorder, StoredEventRecord
from victor_postgres.database import PostgresDatabase
from victor_postgres.event_log import EVENTS, PostgresEventRecorder, read_stream_in
from victor_postgres.schema import SchemaPart

SNAPSHOTS = SchemaPart(
    name="snapshots",
    version=1,
    statements=(
        """
        CREATE TABLE victor_snapshots (
            stream_id text COLLATE "C" NOT NULL,
            version bigint NOT NULL,
            aggregate_type text COLLATE "C" NOT NULL,
            fingerprint text COLLATE "C" NOT NULL,
            state text NOT NULL,
            taken_at timestamptz NOT NULL,
            PRIMARY KEY (stream_id, version)
        )
        """,
    ),
)

_COLUMNS = "stream_id, version, aggregate_type, fingerprint, state, taken_at"
_SAVE = (
    f"INSERT INTO victor_snapshots ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (stream_id, version) DO UPDATE SET aggregate_type = excluded.aggregate_type,"
    " fingerprint = excluded.fingerprint, state = excluded.state, taken_at = excluded.taken_at"
)
_LATEST = (
    f"SELECT {_COLUMNS} FROM victor_snapshots WHERE stream_id = $1 AND version <= $2"
    " ORDER BY version DESC LIMIT 1"
)
_PAGE = (
    f"SELECT {_COLUMNS} FROM victor_snapshots WHERE (stream_id, version) > ($1, $2)"
    " ORDER BY stream_id, version LIMIT $3"
)
_LARGEST = 2**63 - 1


async def _save_in(connection: asyncpg.Connection, record: SnapshotRecord) -> None:
    await connection.execute(
        _SAVE,
        record.stream_id,
        record.version,
        record.aggregate_type,
        record.fingerprint,
        record.state,
        record.taken_at,
    )


async def _latest_in(
    connection: asyncpg.Connection, stream_id: str, max_version: int
) -> SnapshotRecord | None:
    row = await connection.fetchrow(_LATEST, stream_id, max_version)
    return None if row is None else _record(row)


def _record(row: asyncpg.Record) -> SnapshotRecord:
    stream, version, aggregate_type, fingerprint, state, taken_at = row
    return SnapshotRecord(
        stream_id=stream,
        version=version,
        aggregate_type=aggregate_type,
        fingerprint=fingerprint,
        state=state,
        taken_at=taken_at,
    )


async def _page_in(
    connection: asyncpg.Connection, after: tuple[str, int], limit: int
) -> list[SnapshotRecord]:
    # stream_id is COLLATE "C": byte order of UTF-8, which is code point order.
    return [_record(row) for row in await connection.fetch(_PAGE, *after, limit)]


async def _latest_and_events_in(
    connection: asyncpg.Connection, stream_id: str, max_version: int
) -> tuple[SnapshotRecord | None, list[StoredEventRecord]]:
    # One snapshot of the database for both reads.
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        snapshot = await _latest_in(connection, stream_id, max_version)
        start = 1 if snapshot is None else snapshot.version + 1
        if start > max_version:
            return snapshot, []
        return snapshot, await read_stream_in(connection, stream_id, start, max_version, None)


class PostgresSnapshotRecorder(SnapshotRecorder):
    """A :class:`~victor_core.backend.SnapshotRecorder` on a shared :class:`PostgresDatabase`."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    async def save_snapshot(self, record: SnapshotRecord) -> None:
        await self.database.ensure(SNAPSHOTS)
        await self.database.run(_save_in, record)

    async def latest_snapshot(
        self, stream_id: str, max_version: int | None
    ) -> SnapshotRecord | None:
        await self.database.ensure(SNAPSHOTS)
        limit = _LARGEST if max_version is None else min(max_version, _LARGEST)
        return await self.database.run(_latest_in, stream_id, limit)

    async def latest_snapshot_and_events(
        self, events: EventRecorder, stream_id: str, max_version: int | None
    ) -> tuple[SnapshotRecord | None, Sequence[StoredEventRecord]]:
        """Both on one connection when *events* is on the same database (as in a store it made)."""
        if not (isinstance(events, PostgresEventRecorder) and events.database is self.database):
            return await super().latest_snapshot_and_events(events, stream_id, max_version)
        await self.database.ensure(SNAPSHOTS)
        await self.database.ensure(EVENTS)
        limit = _LARGEST if max_version is None else min(max_version, _LARGEST)
        return await self.database.run(_latest_and_events_in, stream_id, limit)

    async def read_snapshots(
        self, after: tuple[str, int] | None, limit: int
    ) -> Sequence[SnapshotRecord]:
        await self.database.ensure(SNAPSHOTS)
        # Every stream id is non-empty, so ("", 0) precedes them all.
        return await self.database.run(_page_in, after or ("", 0), limit)
