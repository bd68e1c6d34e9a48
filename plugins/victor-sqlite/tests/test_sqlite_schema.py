"""The schema is created on first use, versioned, and never written into a foreign file."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import sqlite3
from pathlib import Path

import pytest

from victor_core import DuplicateEventId, Event
from victor_core.backend import ConfigurationError
from victor_sqlite import SQLiteEventStore
from victor_sqlite.schema import APPLICATION_ID

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Noted(Event):
    __event_type__ = "victor.test.sqlite.schema.Noted"
    text: str = ""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def execute(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


async def test_a_new_file_is_marked_and_each_part_is_created_when_first_used(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    store = SQLiteEventStore(path)

    await store.append("s", Noted())
    parts_after_append = query(path, "SELECT part, version FROM victor_schema ORDER BY part")
    assert store.checkpoints is not None
    await store.checkpoints.save("projection", 1)
    await store.close()

    assert query(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert parts_after_append == [("events", 2)]
    assert query(path, "SELECT part, version FROM victor_schema ORDER BY part") == [
        ("checkpoints", 1),
        ("events", 2),
    ]


async def test_reopening_a_file_keeps_its_events_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with SQLiteEventStore(path) as first:
        await first.append("s", Noted(text="kept"))

    async with SQLiteEventStore(path) as second:
        await second.append("s", Noted(text="added"))
        texts = [r.event.text for r in await second.read_stream("s")]

    assert texts == ["kept", "added"]
    assert query(path, "SELECT part, version FROM victor_schema") == [("events", 2)]


async def test_a_part_written_by_a_newer_version_is_refused_and_the_file_left_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    async with SQLiteEventStore(path) as store:
        await store.append("s", Noted())
    execute(path, "UPDATE victor_schema SET version = 3 WHERE part = 'events'")
    before = digest(path)

    store = SQLiteEventStore(path)
    with pytest.raises(ConfigurationError, match="newer victor-sqlite") as caught:
        await store.read_stream("s")
    await store.close()

    assert "Upgrade victor-sqlite" in str(caught.value)
    assert digest(path) == before


async def test_an_older_part_without_a_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with SQLiteEventStore(path) as store:
        await store.append("s", Noted())
    execute(path, "UPDATE victor_schema SET version = 0 WHERE part = 'events'")

    async with SQLiteEventStore(path) as store:
        with pytest.raises(ConfigurationError, match="no migration"):
            await store.append("s", Noted())

    assert query(path, "SELECT COUNT(*) FROM victor_events") == [(1,)]


async def events_file_of_version_1(path: Path, *events: Noted) -> None:
    """A file as victor-sqlite wrote it before event ids were unique: no index on them."""
    async with SQLiteEventStore(path) as store:
        await store.append("s", list(events))
    execute(
        path,
        "DROP INDEX victor_events_event_id",
        "UPDATE victor_schema SET version = 1 WHERE part = 'events'",
    )


async def test_a_file_of_events_schema_version_1_is_upgraded_on_first_use(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    kept = Noted(text="kept")
    await events_file_of_version_1(path, kept)

    async with SQLiteEventStore(path) as store:
        texts = [r.event.text for r in await store.read_stream("s")]
        first = (await store.read_stream("s"))[0]
        retried = await store.append("s", kept)
        with pytest.raises(DuplicateEventId):
            await store.append("s", [Noted(text="new"), kept])
        assert await store.stream_version("s") == 1

    assert texts == ["kept"]
    assert (retried.version, retried.positions) == (1, (first.position,))
    assert query(path, "SELECT version FROM victor_schema WHERE part = 'events'") == [(2,)]
    assert query(path, "SELECT name FROM sqlite_master WHERE name = 'victor_events_event_id'")


async def test_stores_opening_a_version_1_file_at_once_upgrade_it_once(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    await events_file_of_version_1(path, Noted(text="kept"))
    stores = [SQLiteEventStore(path) for _ in range(6)]

    versions = await asyncio.gather(*(store.stream_version("s") for store in stores))
    for store in stores:
        await store.close()

    assert versions == [1] * 6
    assert query(path, "SELECT version FROM victor_schema WHERE part = 'events'") == [(2,)]


async def test_a_version_1_file_holding_an_event_twice_is_refused_and_left_as_it_is(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    await events_file_of_version_1(path, Noted(text="once"))
    execute(
        path,
        "INSERT INTO victor_events (position, stream_id, version, event_id, type_name,"
        " schema_version, data, timestamp) SELECT 2, stream_id, 2, event_id, type_name,"
        " schema_version, data, timestamp FROM victor_events WHERE position = 1",
    )
    before = digest(path)

    store = SQLiteEventStore(path)
    with pytest.raises(ConfigurationError, match=r"2 times in stream 's'.*left as it is") as c:
        await store.read_stream("s")
    await store.close()

    assert query(path, "SELECT event_id FROM victor_events WHERE position = 1")[0][0] in str(
        c.value
    )
    assert digest(path) == before
    assert query(path, "SELECT version FROM victor_schema WHERE part = 'events'") == [(1,)]


async def test_another_applications_database_is_refused_before_anything_changes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    execute(path, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    before = digest(path)

    store = SQLiteEventStore(path)
    with pytest.raises(ConfigurationError, match=r"tables that victor did not create \(users\)"):
        await store.append("s", Noted())
    await store.close()

    assert digest(path) == before
    assert query(path, "PRAGMA journal_mode") == [("delete",)]  # not even switched to WAL


async def test_a_database_marked_by_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    execute(path, "PRAGMA application_id = 1234")

    async with SQLiteEventStore(path) as store:
        with pytest.raises(ConfigurationError, match="belongs to another application"):
            await store.stream_version("s")


async def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the pages you are looking for\n" * 100)
    before = digest(path)

    async with SQLiteEventStore(path) as store:
        with pytest.raises(ConfigurationError, match="not an SQLite database"):
            await store.append("s", Noted())

    assert digest(path) == before


async def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    async with SQLiteEventStore(tmp_path / "no" / "such" / "dir" / "e.db") as store:
        with pytest.raises(ConfigurationError, match="directory exists"):
            await store.append("s", Noted())


async def test_stores_opening_a_new_file_at_once_all_agree_on_it(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    stores = [SQLiteEventStore(path) for _ in range(6)]

    await asyncio.gather(*(store.append(f"s{n}", Noted()) for n, store in enumerate(stores)))
    for store in stores:
        await store.close()

    assert query(path, "SELECT COUNT(*) FROM victor_events") == [(6,)]
    assert query(path, "SELECT part FROM victor_schema") == [("events",)]
