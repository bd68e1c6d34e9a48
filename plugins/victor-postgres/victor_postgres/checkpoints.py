"""The PostgreSQL checkpoint store: one row per projection."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from victor_core.backend import CheckpointStore
from victor_postgres.database import PostgresDatabase
from victor_postgres.schema import SchemaPart

if TYPE_CHECKING:
    from victor_postgres.transactions import PostgresTransactionManager

CHECKPOINTS = SchemaPart(
    name="checkpoints",
    version=1,
    statements=(
        """
        CREATE TABLE victor_checkpoints (
            name text COLLATE "C" PRIMARY KEY,
            position bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """,
    ),
)

LEASES = SchemaPart(
    name="leases",
    version=1,
    statements=(
        """
        CREATE TABLE victor_leases (
            name text COLLATE "C" PRIMARY KEY,
            owner text COLLATE "C" NOT NULL,
            until double precision NOT NULL
        )
        """,
    ),
)

_SWAP_FROM_NOTHING = (
    "INSERT INTO victor_checkpoints (name, position, updated_at) VALUES ($1, $2, now())"
    " ON CONFLICT (name) DO UPDATE SET position = excluded.position,"
    " updated_at = excluded.updated_at WHERE victor_checkpoints.position = 0 RETURNING 1"
)
_SWAP = (
    "UPDATE victor_checkpoints SET position = $3, updated_at = now()"
    " WHERE name = $1 AND position = $2 RETURNING 1"
)
_TAKE_LEASE = (
    "INSERT INTO victor_leases (name, owner, until) VALUES ($1, $2, $4)"
    " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
    " WHERE victor_leases.owner = excluded.owner OR victor_leases.until <= $3 RETURNING 1"
)
_DROP_LEASE = "DELETE FROM victor_leases WHERE name = $1 AND owner = $2"
_READ = "SELECT position FROM victor_checkpoints WHERE name = $1"
_WRITE = (
    "INSERT INTO victor_checkpoints (name, position, updated_at) VALUES ($1, $2, now())"
    " ON CONFLICT (name) DO UPDATE SET position = excluded.position,"
    " updated_at = excluded.updated_at"
)


async def _read_in(connection: asyncpg.Connection, name: str) -> int | None:
    position = await connection.fetchval(_READ, name)
    return None if position is None else int(position)


async def write_checkpoint_in(connection: asyncpg.Connection, name: str, position: int) -> None:
    """Save a checkpoint in the connection's transaction, e.g. with a read model's rows.

    A projection whose read model lives in the same database can update it and its
    checkpoint in one :meth:`~victor_postgres.PostgresDatabase.write`, which makes its
    delivery exactly once.
    """
    await connection.execute(_WRITE, name, position)


async def _read_all_in(connection: asyncpg.Connection) -> dict[str, int]:
    rows = await connection.fetch("SELECT name, position FROM victor_checkpoints ORDER BY name")
    return {row[0]: int(row[1]) for row in rows}


async def swap_checkpoint_in(
    connection: asyncpg.Connection, name: str, expected: int, position: int
) -> int | None:
    """Compare-and-set in the connection's transaction: None when moved, else what was found."""
    return await _swap_in(connection, name, expected, position)


async def _swap_in(
    connection: asyncpg.Connection, name: str, expected: int, position: int
) -> int | None:
    if expected == 0:
        moved = await connection.fetchval(_SWAP_FROM_NOTHING, name, position)
    else:
        moved = await connection.fetchval(_SWAP, name, expected, position)
    if moved is not None:
        return None
    found = await _read_in(connection, name)
    return 0 if found is None else found


async def _take_lease_in(
    connection: asyncpg.Connection, name: str, owner: str, now: float, until: float
) -> bool:
    return await connection.fetchval(_TAKE_LEASE, name, owner, now, until) is not None


async def _drop_lease_in(connection: asyncpg.Connection, name: str, owner: str) -> None:
    await connection.execute(_DROP_LEASE, name, owner)


class PostgresCheckpointStore(CheckpointStore):
    """Projection checkpoints in a PostgreSQL database (shared with the event store)."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    async def read_checkpoint(self, name: str) -> int | None:
        await self.database.ensure(CHECKPOINTS)
        return await self.database.run(_read_in, name)

    async def write_checkpoint(self, name: str, position: int) -> None:
        await self.database.ensure(CHECKPOINTS)
        await self.database.run(write_checkpoint_in, name, position)

    async def read_checkpoints(self) -> dict[str, int]:
        await self.database.ensure(CHECKPOINTS)
        return await self.database.run(_read_all_in)

    async def swap_checkpoint(self, name: str, expected: int, position: int) -> int | None:
        await self.database.ensure(CHECKPOINTS)
        return await self.database.run(_swap_in, name, expected, position)

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        await self.database.ensure(LEASES)
        return await self.database.run(_take_lease_in, name, owner, now, until)

    async def drop_lease(self, name: str, owner: str) -> None:
        await self.database.ensure(LEASES)
        await self.database.run(_drop_lease_in, name, owner)

    def transaction_manager(self) -> PostgresTransactionManager:
        """The manager of this store's database: writes to one schema commit together."""
        # Here, not at the top: that module imports this one.
        from victor_postgres.transactions import PostgresTransactionManager

        return PostgresTransactionManager(self.database)
