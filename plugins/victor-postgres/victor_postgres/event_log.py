"""The PostgreSQL event recorder: one table, positions ordered by transaction id.

A global position is the appending transaction's id (``pg_current_xact_id()``) times
:data:`SLOTS`, plus the event's place among the events that transaction appends. Positions
are unique, and known when the append returns. A transaction id is handed out when a
transaction first writes, so transactions finish out of that order; ``read_all`` therefore
returns only events of transactions older than every transaction still running:
``position < pg_snapshot_xmin(pg_current_snapshot()) * SLOTS``. Everything below that bound is
committed (or rolled back, and never visible), so an event that commits later always lands
above every position a reader has already been given: no reader ever skips one.

Appends to different streams take no common lock: each is one ``INSERT`` statement (one
round trip), whose expected-version check reads the stream's head in the same statement and
whose ``UNIQUE (stream_id, version)`` constraint turns a concurrent append to the same stream
into a :class:`~victor_core.ConcurrencyError`. The price is that a transaction left open
anywhere on the server holds back ``read_all`` until it ends (never anything else);
victor's own connections end theirs after ``idle_in_transaction_timeout``. See
``docs/postgres.md``.

Inside a larger transaction (a unit of work's), a later statement sees what transactions
younger than it committed meanwhile, yet its positions stay those of its own, older id: an
append there to a stream whose head a younger transaction wrote would put the new events
below the head. Such an append is refused with :class:`PostgresAppendConflict`, and the
transaction is run again with a new id. An append committed on its own never meets that: its
id is given out after the statement's snapshot, so every row it sees is older.

The ``*_in`` functions take an :class:`asyncpg.Connection`; :func:`append_in` can run in a
larger transaction (a unit of work's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from victor_core.backend import (
    AppendResult,
    AppendSignal,
    ConfigurationError,
    EventRecorder,
    ExpectedVersion,
    NewEventRecord,
    StoredEventRecord,
    StreamState,
    check_append,
    check_expected_version,
)
from victor_postgres.database import PostgresAppendConflict, PostgresDatabase
from victor_postgres.schema import SchemaPart

if TYPE_CHECKING:
    from victor_postgres.transactions import PostgresTransactionManager

#: Positions per transaction: at most this many events are appended in one transaction.
SLOTS = 1 << 20
#: The channel ``NOTIFY`` announces appends on; the payload is the last position appended.
CHANNEL = "victor_events"
_LARGEST = 2**63 - 1

EVENTS = SchemaPart(
    name="events",
    version=1,
    statements=(
        """
        CREATE TABLE victor_events (
            position bigint PRIMARY KEY,
            stream_id text COLLATE "C" NOT NULL,
            version bigint NOT NULL,
            event_id text COLLATE "C" NOT NULL,
            type_name text COLLATE "C" NOT NULL,
            schema_version integer NOT NULL,
            data json NOT NULL,
            timestamp timestamptz NOT NULL,
            UNIQUE (stream_id, version),
            UNIQUE (stream_id, event_id)
        )
        """,
    ),
)

_COLUMNS = "position, stream_id, version, event_id, type_name, schema_version, data, timestamp"
_SELECT = (
    "SELECT position, stream_id, version, event_id, type_name, schema_version, data::text,"
    " timestamp FROM victor_events"
)
# The head of the stream, the first free position of this transaction, the expected-version
# check and the insert, in one statement. $2 is the expected version, or -1 (any), -2 (no
# stream), -3 (stream exists). Nothing is inserted when the head was written by a younger
# transaction (its position is above this transaction's slot): see PostgresAppendConflict.
_APPEND = f"""
WITH head AS (
    SELECT coalesce(max(last.version), 0) AS version, max(last.position) AS position
    FROM (
        SELECT version, position FROM victor_events WHERE stream_id = $1
        ORDER BY version DESC LIMIT 1
    ) AS last
), slot AS (
    SELECT pg_current_xact_id()::text::bigint * {SLOTS} AS first
), younger AS (
    SELECT coalesce(head.position >= slot.first + {SLOTS}, false) AS head FROM head, slot
), base AS (
    SELECT slot.first + coalesce((
        SELECT max(position) + 1 - slot.first FROM victor_events
        WHERE position >= slot.first AND position < slot.first + {SLOTS}
    ), 0) AS position FROM slot
), inserted AS (
    INSERT INTO victor_events ({_COLUMNS})
    SELECT base.position + r.n - 1, $1, head.version + r.n, r.event_id, r.type_name,
           r.schema_version, r.data::json, r.ts
    FROM head, base, younger,
         unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::timestamptz[])
         WITH ORDINALITY AS r(event_id, type_name, schema_version, data, ts, n)
    WHERE NOT younger.head AND ($2::bigint = -1 OR ($2 = -2 AND head.version = 0)
       OR ($2 = -3 AND head.version > 0) OR head.version = $2)
    RETURNING position, version
), summary AS (
    SELECT min(position) AS first, max(position) AS last, max(version) AS version,
           count(*) AS n
    FROM inserted
)
SELECT summary.first, summary.last, summary.version, summary.n, younger.head
FROM summary CROSS JOIN younger
LEFT JOIN LATERAL (
    SELECT pg_notify('{CHANNEL}', summary.last::text) WHERE $8::boolean AND summary.n > 0
) AS notified ON true
"""
# The announcement of an append that has already committed, as a transaction of its own.
# NOTIFY takes a lock, held until the notifying transaction's commit is done, that orders
# every notifying commit on the server: announced inside the appending transaction, it would
# make each append wait for the one before it to reach the disk. This transaction writes
# nothing but the notification, so it need not wait for the disk (synchronous_commit off
# for it alone), and holds that lock only for a moment.
_ANNOUNCE = (
    "SELECT set_config('synchronous_commit', 'off', true),"
    f" pg_notify('{CHANNEL}', $1::bigint::text)"
)
_READ_STREAM = (
    f"{_SELECT} WHERE stream_id = $1 AND version BETWEEN $2 AND $3 ORDER BY version LIMIT $4"
)
# A page of the log below the bound, and after it the first committed event at or above
# the bound, if there is one: an event an older transaction still open holds back. Both in
# one statement (one snapshot, one round trip); the last column says which is which.
_READ_ALL = f"""
WITH bound AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * {SLOTS} AS position
)
SELECT * FROM (
    (SELECT position, stream_id, version, event_id, type_name, schema_version, data::text,
            timestamp, true AS visible
     FROM victor_events WHERE position >= $1 AND position < (SELECT position FROM bound)
     ORDER BY position LIMIT $2)
    UNION ALL
    (SELECT position, stream_id, version, event_id, type_name, schema_version, data::text,
            timestamp, false
     FROM victor_events WHERE position >= greatest($1, (SELECT position FROM bound))
     ORDER BY position LIMIT 1)
) AS page ORDER BY position
"""
_STREAM_VERSION = "SELECT coalesce(max(version), 0) FROM victor_events WHERE stream_id = $1"
# The stream's head and its records that reuse any of the given event ids, in one statement.
_REUSED = """
SELECT head.version, e.position, e.stream_id, e.version, e.event_id, e.type_name,
       e.schema_version, e.data::text, e.timestamp
FROM (SELECT coalesce(max(version), 0) AS version FROM victor_events WHERE stream_id = $1) head
LEFT JOIN victor_events e ON e.stream_id = $1 AND e.event_id = ANY($2::text[])
ORDER BY e.version
"""
_FIRST_LATER = "SELECT min(version) FROM victor_events WHERE stream_id = $1 AND timestamp > $2"

_STATES = {StreamState.ANY: -1, StreamState.NO_STREAM: -2, StreamState.STREAM_EXISTS: -3}


def _expected(expected_version: ExpectedVersion) -> int:
    if isinstance(expected_version, StreamState):
        return _STATES[expected_version]
    return expected_version


async def append_in(
    connection: asyncpg.Connection,
    stream_id: str,
    records: Sequence[NewEventRecord],
    expected_version: ExpectedVersion,
    *,
    notify: bool = True,
) -> AppendResult:
    """Append *records* in the connection's transaction (or as one of its own).

    With *notify*, listeners on :data:`CHANNEL` hear the last position when it commits:
    in a transaction of its own, announced once it has committed (see :func:`announce_in`);
    in the caller's transaction, announced by that transaction's commit. A caller that
    commits many writes can pass ``notify=False`` and call :func:`announce_in` after its
    commit instead, so that its commit does not wait behind other notifying commits.
    """
    if len(records) > SLOTS:
        raise ConfigurationError(
            f"an append of {len(records)} events is more than the {SLOTS} one transaction "
            "can hold; append them in several calls"
        )
    columns: tuple[list[Any], ...] = ([], [], [], [], [])
    for record in records:
        columns[0].append(record.event_id)
        columns[1].append(record.type_name)
        columns[2].append(record.schema_version)
        columns[3].append(record.data)
        columns[4].append(record.timestamp)
    expected = _expected(expected_version)
    if connection.is_in_transaction():
        return await _append_in(
            connection, stream_id, records, expected_version, expected, columns, notify
        )
    result = await _append_in(
        connection, stream_id, records, expected_version, expected, columns, False
    )
    if notify and result.positions:
        await announce_in(connection, result.positions[-1])
    return result


async def announce_in(connection: asyncpg.Connection, position: int) -> None:
    """Announce on :data:`CHANNEL` that events up to *position* have committed.

    Run it after the appending transaction has committed, outside any transaction. It
    never raises: the events are committed, so an append or a unit of work that reported
    a failure now would be retried (or worse, undone in memory) although it is stored. A
    notification that cannot be sent (the server's queue is full, the connection dropped)
    is lost, and listeners find the events at their next poll; a connection that failed
    is closed, so that the pool does not lend it again.
    """
    try:
        await connection.execute(_ANNOUNCE, position)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
        connection.terminate()


async def _append_in(
    connection: asyncpg.Connection,
    stream_id: str,
    records: Sequence[NewEventRecord],
    expected_version: ExpectedVersion,
    expected: int,
    columns: tuple[list[Any], ...],
    notify: bool,
) -> AppendResult:
    while True:
        younger = False
        try:
            row = await _insert_in(connection, stream_id, expected, columns, notify)
        except asyncpg.UniqueViolationError:
            # A concurrent append took the same version first (and has committed), or an
            # event id is already in the stream: decided below, from what is stored.
            row = None
        if row is not None:
            first, last, version, count, younger = row
            if count == len(records) and count:
                return AppendResult(stream_id, version, tuple(range(first, last + 1)))
        if not records:
            current = await _stream_version_in(connection, stream_id)
            check_expected_version(stream_id, expected_version, current)
            return AppendResult(stream_id, current, ())
        # Refused: a retry of an append already stored, a reused event id, a stale expected
        # version, a head written by a younger transaction, or a stream that moved between
        # the statements (then: try again).
        current, stored = await _stream_and_reused_in(connection, stream_id, columns[0])
        retried = check_append(stream_id, records, expected_version, current, stored)
        if retried is not None:
            return retried
        if younger:
            raise PostgresAppendConflict(stream_id, expected_version, current)


async def _stream_and_reused_in(
    connection: asyncpg.Connection, stream_id: str, event_ids: list[str]
) -> tuple[int, list[StoredEventRecord]]:
    """The stream's version and its records whose ids are among *event_ids*, in one snapshot."""
    rows = await connection.fetch(_REUSED, stream_id, event_ids)
    stored = [StoredEventRecord(*row[1:]) for row in rows if row[1] is not None]
    return int(rows[0][0]), stored


async def _insert_in(
    connection: asyncpg.Connection,
    stream_id: str,
    expected: int,
    columns: tuple[list[Any], ...],
    notify: bool,
) -> asyncpg.Record:
    """One attempt; inside a transaction a savepoint keeps a refused attempt from ending it."""
    if not connection.is_in_transaction():
        row = await connection.fetchrow(_APPEND, stream_id, expected, *columns, notify)
    else:
        async with connection.transaction():
            row = await connection.fetchrow(_APPEND, stream_id, expected, *columns, notify)
    assert row is not None
    return row


def _stored(rows: Sequence[asyncpg.Record]) -> list[StoredEventRecord]:
    return [
        StoredEventRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])
        for row in rows
    ]


async def read_stream_in(
    connection: asyncpg.Connection,
    stream_id: str,
    first: int,
    last: int,
    limit: int | None,
) -> list[StoredEventRecord]:
    """Records of one stream with versions from *first* to *last*, in version order."""
    return _stored(await connection.fetch(_READ_STREAM, stream_id, first, last, limit))


async def _read_all_in(
    connection: asyncpg.Connection, from_position: int, limit: int, wait: float
) -> list[StoredEventRecord]:
    """A page of the log; waits up to *wait* seconds for older transactions holding it back.

    Events that have committed but sit above the bound (an older transaction is still open)
    are returned once that transaction ends, if it ends within *wait*: so that a reader
    sees what was appended just before it asked (read your writes) while a short
    transaction elsewhere finishes. After *wait* the page stops at the bound, as always.
    """
    rows, held = await _page_in(connection, from_position, limit)
    if len(rows) < limit and held and wait > 0:
        deadline = asyncio.get_running_loop().time() + wait
        pause = 0.002
        while held and asyncio.get_running_loop().time() + pause <= deadline:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
            more, held = await _page_in(connection, from_position, limit)
            if len(more) > len(rows):
                rows = more
                if len(rows) == limit:
                    break
    return _stored(rows)


async def _page_in(
    connection: asyncpg.Connection, from_position: int, limit: int
) -> tuple[list[asyncpg.Record], bool]:
    """Up to *limit* records below the bound, and whether a committed one is held back."""
    rows = await connection.fetch(_READ_ALL, from_position, limit)
    if rows and not rows[-1][8]:
        rows.pop()
        return rows, True
    return rows, False


async def _stream_version_in(connection: asyncpg.Connection, stream_id: str) -> int:
    return int(await connection.fetchval(_STREAM_VERSION, stream_id))


async def _version_at_in(connection: asyncpg.Connection, stream_id: str, moment: datetime) -> int:
    first_later = await connection.fetchval(_FIRST_LATER, stream_id, moment)
    if first_later is None:
        return await _stream_version_in(connection, stream_id)
    return int(first_later) - 1


class PostgresEventRecorder(EventRecorder):
    """An :class:`~victor_core.backend.EventRecorder` on a :class:`PostgresDatabase`.

    ``owns_database`` says whether closing the recorder closes the database's pool.
    """

    def __init__(
        self,
        database: PostgresDatabase,
        *,
        owns_database: bool = False,
        notify: bool = True,
        catch_up_wait: float = 1.0,
    ) -> None:
        self.database = database
        self.owns_database = owns_database
        self.notify = notify
        #: Seconds ``read_all`` waits for older transactions holding committed events back.
        self.catch_up_wait = catch_up_wait
        self._signals: list[Any] = []

    async def append(
        self,
        stream_id: str,
        records: Sequence[NewEventRecord],
        expected_version: ExpectedVersion,
    ) -> AppendResult:
        await self.database.ensure(EVENTS)
        return await self.database.run(
            append_in, stream_id, records, expected_version, notify=self.notify
        )

    async def read_stream(
        self,
        stream_id: str,
        from_version: int,
        to_version: int | None,
        limit: int | None,
    ) -> Sequence[StoredEventRecord]:
        await self.database.ensure(EVENTS)
        last = _LARGEST if to_version is None else min(to_version, _LARGEST)
        first = min(from_version, _LARGEST)
        return await self.database.run(read_stream_in, stream_id, first, last, limit)

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        await self.database.ensure(EVENTS)
        if from_position > _LARGEST:
            return []
        return await self.database.run(_read_all_in, from_position, limit, self.catch_up_wait)

    async def stream_version(self, stream_id: str) -> int:
        await self.database.ensure(EVENTS)
        return await self.database.run(_stream_version_in, stream_id)

    async def version_at(self, stream_id: str, moment: datetime) -> int:
        await self.database.ensure(EVENTS)
        return await self.database.run(_version_at_in, stream_id, moment)

    def append_signal(self) -> AppendSignal | None:
        """Wake-ups from ``LISTEN victor_events``; None (poll) when appends do not notify."""
        if not self.notify:
            return None
        from victor_postgres.wakeups import ListeningSignal

        signal = ListeningSignal(self.database)
        self._signals.append(signal)
        return signal

    def transaction_manager(self) -> PostgresTransactionManager:
        """The manager of this store's database: writes to one schema commit together."""
        # Here, not at the top: that module imports this one.
        from victor_postgres.transactions import PostgresTransactionManager

        return PostgresTransactionManager(self.database)

    async def close(self) -> None:
        signals, self._signals = self._signals, []
        for signal in signals:
            await signal.close()
        if self.owns_database:
            await self.database.close()
