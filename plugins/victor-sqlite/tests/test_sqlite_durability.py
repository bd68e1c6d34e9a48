"""The connection settings really reach SQLite: WAL and synchronous=FULL unless told otherwise."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from victor_sqlite import SQLiteDatabase

pytestmark = pytest.mark.asyncio

SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def pragmas(connection: sqlite3.Connection) -> tuple[str, str, int]:
    journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = connection.execute("PRAGMA synchronous").fetchone()[0]
    busy = connection.execute("PRAGMA busy_timeout").fetchone()[0]
    return str(journal).upper(), SYNCHRONOUS[synchronous], busy


async def test_a_file_database_is_durable_by_default(tmp_path: Path) -> None:
    async with SQLiteDatabase(tmp_path / "e.db") as database:
        assert await database.run(pragmas) == ("WAL", "FULL", 10_000)

    raw = sqlite3.connect(tmp_path / "e.db")
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # stored in the file
    raw.close()


async def test_durability_can_be_traded_for_speed(tmp_path: Path) -> None:
    database = SQLiteDatabase(
        f"sqlite:///{tmp_path / 'e.db'}?synchronous=normal&journal_mode=truncate&busy_timeout=1.5"
    )
    async with database:
        assert await database.run(pragmas) == ("TRUNCATE", "NORMAL", 1_500)


async def test_an_in_memory_database_works_with_the_same_settings() -> None:
    async with SQLiteDatabase(":memory:") as database:
        journal, synchronous, _ = await database.run(pragmas)

    assert (journal, synchronous) == ("MEMORY", "FULL")
