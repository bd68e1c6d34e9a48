"""The SQLite checkpoint store: one row per projection, written in its own transaction.

Leases live in a table of their own (a schema part added after the checkpoints), one row
per projection naming its holder and when its claim runs out.
"""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING, Any

from victor_core import utc_now
from victor_core.backend import CheckpointStore, ConfigurationError
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.event_log import timestamp_text
from victor_sqlite.schema import SchemaPart

if TYPE_CHECKING:
    from victor_sqlite.transactions import SQLiteTransactionManager

CHECKPOINTS = SchemaPart(
    name="checkpoints",
    version=1,
    statements=(
        """
        CREATE TABLE victor_checkpoints (
            name TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID
        """,
    ),
)

LEASES = SchemaPart(
    name="leases",
    version=1,
    statements=(
        """
        CREATE TABLE victor_leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            until REAL NOT NULL
        ) WITHOUT ROWID
        """,
    ),
)

_READ = "SELECT position FROM victor_checkpoints WHERE name = ?"
_TAKE_LEASE = (
    "INSERT INTO victor_leases (name, owner, until) VALUES (?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
    " WHERE victor_leases.owner = excluded.owner OR victor_leases.until <= ?"
)
_DROP_LEASE = "DELETE FROM victor_leases WHERE name = ? AND owner = ?"
_WRITE = (
    "INSERT INTO victor_checkpoints (name, position, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET position = excluded.position,"
    " updated_at = excluded.updated_at"
)


def _read_in(connection: sqlite3.Connection, name: str) -> int | None:
    row = connection.execute(_READ, (name,)).fetchone()
    return None if row is None else int(row[0])


def write_checkpoint_in(connection: sqlite3.Connection, name: str, position: int) -> None:
    """Save a checkpoint inside the caller's write transaction, e.g. with a read model's rows.

    A projection whose read model lives in the same database can update it and its
    checkpoint in one :meth:`~victor_sqlite.SQLiteDatabase.write`, which makes its
    delivery exactly once.
    """
    connection.execute(_WRITE, (name, position, timestamp_text(utc_now())))


def swap_checkpoint_in(
    connection: sqlite3.Connection, name: str, expected: int, position: int
) -> int | None:
    """Compare-and-set inside the caller's write transaction: None when it moved, else the
    position found (and nothing written)."""
    found = _read_in(connection, name)
    found = 0 if found is None else found
    if found != expected:
        return found
    write_checkpoint_in(connection, name, position)
    return None


def _read_all_in(connection: sqlite3.Connection) -> dict[str, int]:
    rows = connection.execute("SELECT name, position FROM victor_checkpoints").fetchall()
    return {str(name): int(position) for name, position in rows}


def _take_lease_in(
    connection: sqlite3.Connection, name: str, owner: str, now: float, until: float
) -> bool:
    return connection.execute(_TAKE_LEASE, (name, owner, until, now)).rowcount == 1


def _drop_lease_in(connection: sqlite3.Connection, name: str, owner: str) -> None:
    connection.execute(_DROP_LEASE, (name, owner))


class SQLiteCheckpointStore(CheckpointStore):
    """Projection checkpoints in an SQLite database.

    ``SQLiteCheckpointStore("read_models.db")`` opens (and on :meth:`close` closes) its own
    database; ``SQLiteCheckpointStore(database)`` shares an open :class:`SQLiteDatabase`,
    as the event store's ``checkpoints`` do.
    """

    def __init__(
        self, database: SQLiteDatabase | str | os.PathLike[str] = ":memory:", **options: Any
    ) -> None:
        if isinstance(database, SQLiteDatabase):
            if options:
                raise ConfigurationError(
                    "connection options belong to the SQLiteDatabase that is being shared; "
                    f"got {', '.join(sorted(options))} as well"
                )
            self.database = database
            self.owns_database = False
        else:
            self.database = SQLiteDatabase(database, **options)
            self.owns_database = True

    async def read_checkpoint(self, name: str) -> int | None:
        await self.database.ensure(CHECKPOINTS)
        return await self.database.run(_read_in, name)

    async def write_checkpoint(self, name: str, position: int) -> None:
        await self.database.ensure(CHECKPOINTS)
        await self.database.write(write_checkpoint_in, name, position)

    async def read_checkpoints(self) -> dict[str, int]:
        await self.database.ensure(CHECKPOINTS)
        return await self.database.run(_read_all_in)

    async def swap_checkpoint(self, name: str, expected: int, position: int) -> int | None:
        await self.database.ensure(CHECKPOINTS)
        return await self.database.write(swap_checkpoint_in, name, expected, position)

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        await self.database.ensure(LEASES)
        return await self.database.write(_take_lease_in, name, owner, now, until)

    async def drop_lease(self, name: str, owner: str) -> None:
        await self.database.ensure(LEASES)
        await self.database.write(_drop_lease_in, name, owner)

    def transaction_manager(self) -> SQLiteTransactionManager:
        """The manager of this store's file: writes to one file commit together."""
        # Here, not at the top: that module imports this one.
        from victor_sqlite.transactions import SQLiteTransactionManager

        return SQLiteTransactionManager(self.database)

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()
