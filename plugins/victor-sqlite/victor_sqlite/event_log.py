"""The SQLite event recorder: one table, one thread hop per call.

Global positions are the table's ``INTEGER PRIMARY KEY``, assigned inside the write
transaction that took the database's write lock with ``BEGIN IMMEDIATE``. Write transactions
of every connection and process commit one at a time, so positions are unique, increase in
commit order, and a reader never sees a position appear below one it has already read.
Events are never deleted, so a position is never reused.

Event ids are unique per stream, by a unique index on ``(stream_id, event_id)``. An append
looks its ids up in that index inside its write transaction, so a retry is recognised (and
answered with the first result) or a reused id refused before anything is written; the
index keeps that true of any other writer to the file as well.

The ``*_in`` functions take a raw :class:`sqlite3.Connection` and run on the worker thread;
:func:`append_in` can join a larger transaction (a unit of work that also writes entities).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from victor_core.backend import (
    AppendResult,
    AppendSignal,
    ConfigurationError,
    EventRecorder,
    ExpectedVersion,
    NewEventRecord,
    StoredEventRecord,
    check_append,
    dumps,
)
from victor_sqlite.database import NOT_HERE, SQLiteDatabase
from victor_sqlite.schema import SchemaPart

if TYPE_CHECKING:
    from victor_sqlite.transactions import SQLiteTransactionManager

_EVENT_ID_INDEX = (
    "CREATE UNIQUE INDEX victor_events_event_id ON victor_events (stream_id, event_id)"
)


def _index_event_ids(connection: sqlite3.Connection, where: str) -> None:
    """Version 1 to 2: event ids become unique per stream, which appends rely on.

    A file written before then may hold an event twice in a stream (a retried append stored
    again); it cannot get the index, and is refused, untouched, with the first such event.
    """
    try:
        connection.execute(_EVENT_ID_INDEX)
    except sqlite3.IntegrityError:
        stream_id, event_id, count = connection.execute(
            "SELECT stream_id, event_id, COUNT(*) FROM victor_events"
            " GROUP BY stream_id, event_id HAVING COUNT(*) > 1 LIMIT 1"
        ).fetchone()
        raise ConfigurationError(
            f"{where} holds event {event_id} {count} times in stream {stream_id!r} (an append "
            "retried before victor-sqlite recognised retries stored it again), so its events "
            "cannot be given the unique index that version 2 of the events schema adds; the "
            "file was left as it is, at version 1. Keep using it with the victor-sqlite that "
            "wrote it, or copy its events into a new file leaving out the repeated ones"
        ) from None


EVENTS = SchemaPart(
    name="events",
    version=2,
    statements=(
        """
        CREATE TABLE victor_events (
            position INTEGER PRIMARY KEY,
            stream_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            type_name TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            data TEXT NOT NULL,
            timestamp TEXT NOT NULL,
            UNIQUE (stream_id, version)
        )
        """,
        _EVENT_ID_INDEX,
    ),
    migrations={1: _index_event_ids},
)

_COLUMNS = "position, stream_id, version, event_id, type_name, schema_version, data, timestamp"
_HEAD = (
    "SELECT (SELECT MAX(version) FROM victor_events WHERE stream_id = ?),"
    " (SELECT MAX(position) FROM victor_events)"
)
_INSERT = f"INSERT INTO victor_events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_READ_STREAM = (
    f"SELECT {_COLUMNS} FROM victor_events WHERE stream_id = ? AND version BETWEEN ? AND ?"
    " ORDER BY version LIMIT ?"
)
_READ_ALL = f"SELECT {_COLUMNS} FROM victor_events WHERE position >= ? ORDER BY position LIMIT ?"
_FIND_ONE = f"SELECT {_COLUMNS} FROM victor_events WHERE stream_id = ? AND event_id = ?"
_FIND_MANY = (
    f"SELECT {_COLUMNS} FROM victor_events WHERE stream_id = ?"
    " AND event_id IN (SELECT value FROM json_each(?))"
)
_STREAM_VERSION = "SELECT MAX(version) FROM victor_events WHERE stream_id = ?"
_FIRST_LATER = "SELECT MIN(version) FROM victor_events WHERE stream_id = ? AND timestamp > ?"
_NO_END = 2**63 - 1
#: Most records one read takes on the event loop's thread (SQLiteDatabase.read_here): a
#: default read_all page (500), about a millisecond of SQLite. That is less than the loop
#: then spends decoding those records, and less than a hop to the worker and back costs
#: once the loop is busy; a longer read's rest goes to the worker.
_READ_HERE = 500

_Row = tuple[Any, ...]


def timestamp_text(moment: datetime) -> str:
    """A UTC datetime as fixed-width text, so that SQL compares times as strings correctly."""
    # Plain isoformat() is the same text, and quicker, unless it would leave out a zero
    # fraction of a second.
    return moment.isoformat() if moment.microsecond else moment.isoformat(timespec="microseconds")


def append_in(
    connection: sqlite3.Connection,
    stream_id: str,
    records: Sequence[NewEventRecord],
    expected_version: ExpectedVersion,
) -> AppendResult:
    """Append *records* inside the caller's write transaction (``BEGIN IMMEDIATE``)."""
    return _append_rows_in(connection, stream_id, _rows(records), expected_version, records)


def _rows(records: Sequence[NewEventRecord]) -> list[_Row]:
    """Each record's columns after position, stream id and version, in the table's order.

    The recorder builds them on the event loop, before the hop, so that the worker holds
    the write lock for the SQL alone.
    """
    return [
        (r.event_id, r.type_name, r.schema_version, r.data, timestamp_text(r.timestamp))
        for r in records
    ]


def _append_rows_in(
    connection: sqlite3.Connection,
    stream_id: str,
    rows: list[_Row],
    expected_version: ExpectedVersion,
    records: Sequence[NewEventRecord],
) -> AppendResult:
    """:func:`append_in` of rows made by :func:`_rows`: what runs while the lock is held."""
    current, last_position = connection.execute(_HEAD, (stream_id,)).fetchone()
    current = current or 0
    earlier = check_append(
        stream_id, records, expected_version, current, _reused_in(connection, stream_id, records)
    )
    if earlier is not None:
        return earlier
    first = (last_position or 0) + 1
    connection.executemany(
        _INSERT,
        [(first + n, stream_id, current + 1 + n, *row) for n, row in enumerate(rows)],
    )
    return AppendResult(stream_id, current + len(rows), tuple(range(first, first + len(rows))))


def _reused_in(
    connection: sqlite3.Connection, stream_id: str, records: Sequence[NewEventRecord]
) -> list[StoredEventRecord]:
    """The stream's records whose event ids the append gives again: one probe of the index."""
    if len(records) == 1:
        found = connection.execute(_FIND_ONE, (stream_id, records[0].event_id)).fetchall()
    else:
        ids = dumps([record.event_id for record in records])
        found = connection.execute(_FIND_MANY, (stream_id, ids)).fetchall()
    return _stored(found) if found else []


def _stored(rows: list[Any]) -> list[StoredEventRecord]:
    # Columns in the order of StoredEventRecord's fields, the timestamp last. The record is
    # a named tuple: built as one, without the call of its __new__, which costs a frame.
    new, record, parse = tuple.__new__, StoredEventRecord, datetime.fromisoformat
    return [
        new(record, (row[0], row[1], row[2], row[3], row[4], row[5], row[6], parse(row[7])))
        for row in rows
    ]


def _read_stream_in(
    connection: sqlite3.Connection, stream_id: str, first: int, last: int, limit: int
) -> list[StoredEventRecord]:
    return _stored(connection.execute(_READ_STREAM, (stream_id, first, last, limit)).fetchall())


def _read_all_in(
    connection: sqlite3.Connection, from_position: int, limit: int
) -> list[StoredEventRecord]:
    return _stored(connection.execute(_READ_ALL, (from_position, limit)).fetchall())


def _stream_version_in(connection: sqlite3.Connection, stream_id: str) -> int:
    return int(connection.execute(_STREAM_VERSION, (stream_id,)).fetchone()[0] or 0)


def _version_at_in(connection: sqlite3.Connection, stream_id: str, moment: str) -> int:
    first_later = connection.execute(_FIRST_LATER, (stream_id, moment)).fetchone()[0]
    if first_later is None:
        return _stream_version_in(connection, stream_id)
    return int(first_later) - 1


def _last_position_in(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT MAX(position) FROM victor_events").fetchone()[0] or 0)


def _data_version_in(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA data_version").fetchone()[0])


class SQLiteAppendSignal(AppendSignal):
    """Wakes one subscription: at once for appends in this process, at the poll interval
    for other processes' (SQLite's ``PRAGMA data_version`` changes when another connection
    commits, so a quiet file costs one cheap query per interval and no reads)."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database
        self._version: int | None = None

    async def wait(self, after: int, seconds: float) -> bool:
        if await self.database.appended.wait(after, seconds):
            return True
        if self.database.settings.in_memory or self.database.closed:
            return False
        version = await self.database.run(_data_version_in)
        # The first look only sets the mark: what committed before it was not necessarily
        # read yet, so read once more.
        changed = version != self._version
        self._version = version
        return changed


class SQLiteEventRecorder(EventRecorder):
    """An :class:`~victor_core.backend.EventRecorder` on an :class:`SQLiteDatabase`.

    ``owns_database`` says whether closing the recorder closes the database (it does when
    the store opened the database itself, not when it was handed a shared one).
    """

    def __init__(self, database: SQLiteDatabase, *, owns_database: bool = False) -> None:
        self.database = database
        self.owns_database = owns_database
        self._table_ready = False

    async def append(
        self,
        stream_id: str,
        records: Sequence[NewEventRecord],
        expected_version: ExpectedVersion,
    ) -> AppendResult:
        if not self._table_ready:
            await self.database.ensure(EVENTS)
            self._table_ready = True
        rows = _rows(records)
        result = await self.database.write(
            _append_rows_in, stream_id, rows, expected_version, records
        )
        self.database.appended.notify(result.positions[-1])
        return result

    async def last_position(self) -> int:
        await self.database.ensure(EVENTS)
        return await self.database.run(_last_position_in)

    def append_signal(self) -> AppendSignal:
        return SQLiteAppendSignal(self.database)

    async def read_stream(
        self,
        stream_id: str,
        from_version: int,
        to_version: int | None,
        limit: int | None,
    ) -> Sequence[StoredEventRecord]:
        await self.database.ensure(EVENTS)
        last = _NO_END if to_version is None else to_version
        wanted = -1 if limit is None else limit
        # The first records on the loop's thread (a load is one short read: no hop at all);
        # a longer stream's rest on the worker, so that no read holds up the loop for long.
        here = _READ_HERE if wanted < 0 else min(wanted, _READ_HERE)
        head = self.database.read_here(_read_stream_in, stream_id, from_version, last, here)
        if head is NOT_HERE:
            return await self.database.run(_read_stream_in, stream_id, from_version, last, wanted)
        if len(head) < here or wanted == here:
            return head
        rest = await self.database.run(
            _read_stream_in,
            stream_id,
            head[-1].version + 1,
            last,
            -1 if wanted < 0 else wanted - len(head),
        )
        return head + rest

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        await self.database.ensure(EVENTS)
        # As read_stream: the first records on the loop's thread, the rest of a long page
        # on the worker. A subscription woken by an append reads the few new events with no
        # hop at all. A later read sees a superset of an earlier one (commits are serial and
        # positions rise with them), so the rest continues the first part without a gap.
        here = min(limit, _READ_HERE)
        head = self.database.read_here(_read_all_in, from_position, here)
        if head is NOT_HERE:
            return await self.database.run(_read_all_in, from_position, limit)
        if len(head) < here or limit == here:
            return head
        rest = await self.database.run(_read_all_in, head[-1].position + 1, limit - len(head))
        return head + rest

    async def stream_version(self, stream_id: str) -> int:
        await self.database.ensure(EVENTS)
        return await self.database.run(_stream_version_in, stream_id)

    async def version_at(self, stream_id: str, moment: datetime) -> int:
        await self.database.ensure(EVENTS)
        return await self.database.run(_version_at_in, stream_id, timestamp_text(moment))

    def transaction_manager(self) -> SQLiteTransactionManager:
        """The manager of this store's file: writes to one file commit together."""
        # Here, not at the top: that module imports this one.
        from victor_sqlite.transactions import SQLiteTransactionManager

        return SQLiteTransactionManager(self.database)

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()
