"""The PostgreSQL checkpoint store: one row per projection."""

from __future__ import annotations

import asyncpg

from victor_core.backend import CheckpointStore
from victor_postgres.database import PostgresDatabase
from victor_postgres.schema import SchemaPart

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
