"""The SQLite snapshot recorder: every snapshot of a stream, keyed by stream and version."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from victor_core import SnapshotRecord, SnapshotRecorder
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.event_log import timestamp_text
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
    if row is None:
        return None
    stream, version, aggregate_type, fingerprint, state, taken_at = row
    return SnapshotRecord(
        stream_id=stream,
        version=version,
        aggregate_type=aggregate_type,
        fingerprint=fingerprint,
        state=state,
        taken_at=datetime.fromisoformat(taken_at),
    )


class SQLiteSnapshotRecorder(SnapshotRecorder):
    """A :class:`~victor_core.SnapshotRecorder` on a shared :class:`SQLiteDatabase`."""

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
