"""Where ``SQLiteEventStore`` and ``sqlite://`` URLs put the database, and their options."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from victor_core import Event, open_event_store
from victor_core.backend import ConfigurationError
from victor_sqlite import SQLiteEventStore, SQLiteSettings


@dataclasses.dataclass
class Noted(Event):
    __event_type__ = "victor.test.sqlite.Noted"
    text: str = ""


def path_of(store: object) -> str:
    assert isinstance(store, SQLiteEventStore)
    return store.database.settings.path


@pytest.mark.asyncio
async def test_a_relative_path_or_url_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    by_path = SQLiteEventStore("events.db")
    by_url = open_event_store("sqlite:///events.db")
    by_driver_url = open_event_store("sqlite+aiosqlite:///events.db")
    await by_path.append("s", Noted(text="hello"))

    expected = str(tmp_path / "events.db")
    assert path_of(by_path) == path_of(by_url) == path_of(by_driver_url) == expected
    assert [r.event.text for r in await by_url.read_stream("s")] == ["hello"]
    for store in (by_path, by_url, by_driver_url):
        await store.close()


@pytest.mark.asyncio
async def test_the_path_is_fixed_when_the_store_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = SQLiteEventStore("events.db")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")

    await store.append("s", Noted())
    await store.close()

    assert (tmp_path / "events.db").is_file()
    assert not (tmp_path / "elsewhere" / "events.db").exists()


@pytest.mark.asyncio
async def test_four_slashes_make_an_absolute_path(tmp_path: Path) -> None:
    target = tmp_path / "abs.db"

    store = open_event_store(f"sqlite:///{target}")  # target starts with "/"
    await store.append("s", Noted())
    await store.close()

    assert f"sqlite:///{target}".startswith("sqlite:////")
    assert path_of(store) == str(target)
    assert target.is_file()


@pytest.mark.asyncio
@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
async def test_in_memory_urls_give_each_store_a_private_database(url: str, tmp_path: Path) -> None:
    first = open_event_store(url)
    second = open_event_store(url)

    await first.append("s", Noted(text="only here"))

    assert [r.event.text for r in await first.read_stream("s")] == ["only here"]
    assert await second.read_stream("s") == []
    assert SQLiteEventStore().database.settings.in_memory
    await first.close()
    await second.close()


def test_a_file_whose_name_starts_with_sqlite_is_a_path_not_a_url(tmp_path: Path) -> None:
    settings = SQLiteSettings.create(tmp_path / "sqlite_events.db")

    assert settings.path == str(tmp_path / "sqlite_events.db")
    assert SQLiteSettings.create(str(tmp_path / "sqlite_events.db")) == settings


def test_options_come_from_keywords_or_the_query_string_keywords_winning() -> None:
    from_url = SQLiteSettings.create("sqlite:///e.db?synchronous=normal&busy_timeout=2.5")
    from_keywords = SQLiteSettings.create("e.db", journal_mode="delete", busy_timeout=0)
    both = open_event_store("sqlite:///e.db?synchronous=off", synchronous="EXTRA")

    assert (from_url.synchronous, from_url.busy_timeout, from_url.journal_mode) == (
        "NORMAL",
        2.5,
        "WAL",
    )
    assert (from_keywords.journal_mode, from_keywords.busy_timeout) == ("DELETE", 0.0)
    assert isinstance(both, SQLiteEventStore)
    assert both.database.settings.synchronous == "EXTRA"


def test_the_defaults_are_durable() -> None:
    settings = SQLiteSettings.create("e.db")

    assert (settings.journal_mode, settings.synchronous) == ("WAL", "FULL")
    assert settings.busy_timeout > 0


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("sqlite:///e.db?cache=big", {}, "unknown SQLite option 'cache'"),
        ("sqlite:///e.db", {"synchronous": "sometimes"}, "synchronous='sometimes'"),
        ("sqlite:///e.db", {"journal_mode": "MEMORY"}, "journal_mode='MEMORY'"),
        ("sqlite:///e.db", {"busy_timeout": "soon"}, "busy_timeout='soon'"),
        ("sqlite:///e.db", {"busy_timeout": -1}, "busy_timeout=-1"),
        ("sqlite://host/e.db", {}, "names a host"),
        ("sqlite+pysqlite:///e.db", {}, "not an SQLite URL"),
    ],
)
def test_settings_that_cannot_work_are_refused_with_the_accepted_ones(
    url: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SQLiteSettings.create(url, **options)


def test_the_backend_names_its_accepted_options() -> None:
    with pytest.raises(ConfigurationError, match="busy_timeout") as caught:
        open_event_store("sqlite:///e.db", pool_size=3)

    assert "pool_size" in str(caught.value)
    assert "serializer" in str(caught.value)


@pytest.mark.parametrize("url", ["sqlite:///%00.db", "sqlite:///app%00.db?journal_mode=WAL"])
def test_a_url_naming_a_file_with_a_nul_character_is_refused_saying_so(url: str) -> None:
    with pytest.raises(ConfigurationError, match="NUL"):
        open_event_store(url)
