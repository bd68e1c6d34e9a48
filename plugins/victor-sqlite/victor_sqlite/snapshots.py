"""The SQLite snapshot recorder: every snapshot of a stream, keyed by stream and version."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from victor_core.backend import EventRecorder, SnapshotRecord, SnapshotRecorder, StoredEventRecord
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.event_log import EVENTS, SQLiteEventRecorder, _read_stream_in, timestamp_text
from victor_sqlite.schema import SchemaPart

SNAPSHOTS = SchemaPart(
    name="snapshots",
    version=1,
    statements=(
        """
        CREATE TABLE victor_snapshots (
            stream_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            aggregate_type TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            state TEXT NOT NULL,
            taken_at TEXT NOT NULL,
            PRIMARY KEY (stream_id, version)
        ) WITHOUT ROWID
        """,
    ),
)

_COLUMNS = "stream_id, version, aggregate_type, fingerprint, state, taken_at"
_SAVE = f"INSERT OR REPLACE INTO victor_snapshots ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
_LATEST = (
    f"SELECT {_COLUMNS} FROM victor_snapshots WHERE stream_id = ? AND version <= ?"
    " ORDER BY version DESC LIMIT 1"
)
_PAGE = (
    f"SELECT {_COLUMNS} FROM victor_snapshots WHERE (stream_id, version) > (?, ?)"
    " ORDER BY stream_id, version LIMIT ?"
)
_NO_END = 2**63 - 1


def _save_in(connection: sqlite3.Connection, record: SnapshotRecord) -> None:
    connection.execute(
        _SAVE,
        (
            record.stream_id,
            record.version,
            record.aggregate_type,
            record.fingerprint,
            record.state,
            timestamp_text(record.taken_at),
        ),
    )


def _latest_in(
    connection: sqlite3.Connection, stream_id: str, max_version: int
) -> SnapshotRecord | None:
    row = connection.execute(_LATEST, (stream_id, max_version)).fetchone()
    return None if row is None else _record(row)


def _record(row: Any) -> SnapshotRecord:
    stream, version, aggregate_type, fingerprint, state, taken_at = row
    return SnapshotRecord(
        stream_id=stream,
        version=version,
        aggregate_type=aggregate_type,
        fingerprint=fingerprint,
        state=state,
        taken_at=datetime.fromisoformat(taken_at),
    )


def _page_in(
    connection: sqlite3.Connection, after: tuple[str, int], limit: int
) -> list[SnapshotRecord]:
    # TEXT compares with memcmp over UTF-8: byte order, which is code point order.
    rows = connection.execute(_PAGE, (*after, limit)).fetchall()
    return [_record(row) for row in rows]


def _latest_and_events_in(
    connection: sqlite3.Connection, stream_id: str, max_version: int
) -> tuple[SnapshotRecord | None, list[StoredEventRecord]]:
    snapshot = _latest_in(connection, stream_id, max_version)
    start = 1 if snapshot is None else snapshot.version + 1
    if start > max_version:
        return snapshot, []
    return snapshot, _read_stream_in(connection, stream_id, start, max_version, -1)


class SQLiteSnapshotRecorder(SnapshotRecorder):
    """A :class:`~victor_core.backend.SnapshotRecorder` on a shared :class:`SQLiteDatabase`."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database

    async def save_snapshot(self, record: SnapshotRecord) -> None:
        await self.database.ensure(SNAPSHOTS)
        await self.database.write(_save_in, record)

    async def latest_snapshot(
        self, stream_id: str, max_version: int | None
    ) -> SnapshotRecord | None:
        await self.database.ensure(SNAPSHOTS)
        limit = _NO_END if max_version is None else max_version
        return await self.database.run(_latest_in, stream_id, limit)

    async def latest_snapshot_and_events(
        self, events: EventRecorder, stream_id: str, max_version: int | None
    ) -> tuple[SnapshotRecord | None, Sequence[StoredEventRecord]]:
        """Both in one hop when *events* is on the same database (as in a store it made)."""
        if not (isinstance(events, SQLiteEventRecorder) and events.database is self.database):
            return await super().latest_snapshot_and_events(events, stream_id, max_version)
        await self.database.ensure(SNAPSHOTS)
        await self.database.ensure(EVENTS)
        limit = _NO_END if max_version is None else max_version
        return await self.database.run(_latest_and_events_in, stream_id, limit)

    async def read_snapshots(
        self, after: tuple[str, int] | None, limit: int
    ) -> Sequence[SnapshotRecord]:
        await self.database.ensure(SNAPSHOTS)
        # Every stream id is non-empty, so ("", 0) precedes them all.
        return await self.database.run(_page_in, after or ("", 0), limit)
