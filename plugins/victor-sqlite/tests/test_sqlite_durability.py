"""The connection settings really reach SQLite, and what they guarantee is declared."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from victor_core import default_registry
from victor_core.backend import Capability
from victor_sqlite import SQLiteDatabase
from victor_sqlite.settings import SQLiteSettings

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


async def test_settings_that_weaken_durability_do_not_declare_it(tmp_path: Path) -> None:
    durable = SQLiteSettings.create(tmp_path / "e.db")
    normal = SQLiteSettings.create(tmp_path / "e.db", synchronous="NORMAL")
    unsynced = SQLiteSettings.from_url(f"sqlite:///{tmp_path / 'e.db'}?synchronous=off", {})
    in_memory = SQLiteSettings.create(":memory:")

    assert Capability.DURABILITY in durable.capabilities
    assert Capability.DURABILITY in normal.capabilities  # loses only the last commits on power loss
    assert Capability.DURABILITY not in unsynced.capabilities
    assert Capability.MULTI_PROCESS in unsynced.capabilities
    assert not {Capability.DURABILITY, Capability.MULTI_PROCESS} & in_memory.capabilities
    assert Capability.EVENT_STORE in in_memory.capabilities


async def test_a_contract_instance_with_weakened_settings_does_not_provide_durability(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VICTOR_SQLITE_OPTIONS", "synchronous=OFF")

    instance = default_registry().backend("sqlite").contract_instance(tmp_path)

    assert instance.url.endswith("?synchronous=OFF")
    assert instance.capabilities is not None
    assert Capability.DURABILITY not in instance.capabilities
    assert Capability.TRANSACTIONS in instance.capabilities
