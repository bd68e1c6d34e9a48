"""Writes into a PostgreSQL schema past the kernel, for the contract suite's damage tests."""

from __future__ import annotations

import asyncpg

from victor_core.backend import RawStorage
from victor_postgres.spec_compiler import quote_name


class PostgresRawStorage(RawStorage):
    """Overwrites rows of *schema* in the database at *url* with an ``UPDATE`` of its own."""

    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema

    async def write_event_payload(self, stream_id: str, version: int, text: str) -> None:
        await self._update(
            "UPDATE victor_events SET data = $1::text::json WHERE stream_id = $2 AND version = $3",
            text,
            stream_id,
            version,
        )

    async def write_snapshot_state(self, stream_id: str, version: int, text: str) -> None:
        await self._update(
            "UPDATE victor_snapshots SET state = $1 WHERE stream_id = $2 AND version = $3",
            text,
            stream_id,
            version,
        )

    async def write_document(self, entity_name: str, entity_id: str, text: str) -> None:
        await self._update(
            f"UPDATE {quote_name(entity_name)} SET document = $1::text::jsonb WHERE id = $2",
            text,
            entity_id,
        )

    async def _update(self, statement: str, *arguments: object) -> None:
        connection = await asyncpg.connect(self.url, server_settings={"search_path": self.schema})
        try:
            status = await connection.execute(statement, *arguments)
        finally:
            await connection.close()
        if status != "UPDATE 1":
            raise LookupError(f"{statement} {arguments!r} found no row to damage ({status})")
