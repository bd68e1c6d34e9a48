"""Writes into an SQLite file past the kernel, for the contract suite's damage tests."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from victor_core.backend import RawStorage
from victor_sqlite.spec_compiler import quote_name


class SQLiteRawStorage(RawStorage):
    """Overwrites rows of the file at *path* with an ``UPDATE`` of its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def write_event_payload(self, stream_id: str, version: int, text: str) -> None:
        await self._update(
            "UPDATE victor_events SET data = ? WHERE stream_id = ? AND version = ?",
            (text, stream_id, version),
        )

    async def write_snapshot_state(self, stream_id: str, version: int, text: str) -> None:
        await self._update(
            "UPDATE victor_snapshots SET state = ? WHERE stream_id = ? AND version = ?",
            (text, stream_id, version),
        )

    async def write_document(self, entity_name: str, entity_id: str, text: str) -> None:
        await self._update(
            f"UPDATE {quote_name(entity_name)} SET document = ? WHERE id = ?", (text, entity_id)
        )

    async def _update(self, statement: str, parameters: tuple[object, ...]) -> None:
        await asyncio.to_thread(self._update_now, statement, parameters)

    def _update_now(self, statement: str, parameters: tuple[object, ...]) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        try:
            if connection.execute(statement, parameters).rowcount != 1:
                raise LookupError(f"{statement} {parameters!r} found no row to damage")
        finally:
            connection.close()
