"""Backend names and URLs, parsed in SQLAlchemy's manner."""

from __future__ import annotations

import pytest

from victor_core import ConfigurationError
from victor_core.backend import parse_url


@pytest.mark.parametrize(
    ("text", "name", "driver", "database"),
    [
        ("memory", "memory", None, ""),
        ("memory://", "memory", None, ""),
        ("sqlite:///events.db", "sqlite", None, "events.db"),
        ("sqlite:////var/lib/app/events.db", "sqlite", None, "/var/lib/app/events.db"),
        ("sqlite+aiosqlite:///data/e.db", "sqlite", "aiosqlite", "data/e.db"),
        ("mongodb://localhost:27017/app", "mongodb", None, "app"),
        ("mongodb+srv://cluster.example.com/app?w=majority", "mongodb", "srv", "app"),
        ("SQLite:///Case.db", "sqlite", None, "Case.db"),
        ("sqlite:///with%20space.db", "sqlite", None, "with space.db"),
    ],
)
def test_names_drivers_and_databases(
    text: str, name: str, driver: str | None, database: str
) -> None:
    url = parse_url(text)

    assert url.name == name
    assert url.driver == driver
    assert url.database == database
    assert url.raw == text


def test_query_options_and_several_hosts_are_left_for_the_backend() -> None:
    url = parse_url("mongodb://a:1,b:2/app?replicaSet=rs0&w=majority")

    assert url.authority == "a:1,b:2"
    assert url.options == {"replicaSet": "rs0", "w": "majority"}


def test_passwords_are_redacted_for_messages() -> None:
    url = parse_url("mongodb://app:s3cret@db.internal:27017/app?tls=true")

    assert "s3cret" not in url.redacted()
    assert url.redacted() == "mongodb://app:***@db.internal:27017/app?tls=true"
    assert parse_url("sqlite:///x.db").redacted() == "sqlite:///x.db"


@pytest.mark.parametrize("bad", ["", "   ", "://nothing", "9lives://", "has space://x", None])
def test_what_is_not_a_name_or_url_is_refused_with_an_example(bad: object) -> None:
    with pytest.raises(ConfigurationError, match=r"sqlite:///events\.db"):
        parse_url(bad)  # type: ignore[arg-type]
