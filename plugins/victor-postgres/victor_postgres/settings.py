"""Where the server is and how the pool behaves, from a ``postgresql://`` URL and options.

``postgresql://user:password@host:5432/app?max_size=20`` (or ``postgres://...``) names the
server and database the way libpq and asyncpg do; every query parameter that is not one of
victor's pool options below (``sslmode``, ``application_name``...) is handed to asyncpg
unchanged. Options given as keywords override the URL's.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import attrs

from victor_core.backend import BackendURL, ConfigurationError, parse_url

SCHEMES = ("postgresql", "postgres")

#: victor's own options: keyword arguments or URL query parameters.
SETTING_NAMES = (
    "min_size",
    "max_size",
    "pool_timeout",
    "connect_timeout",
    "idle_in_transaction_timeout",
    "schema",
    "lock_timeout",
)
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@attrs.frozen
class PostgresSettings:
    """How to reach one database and how many connections to keep to it."""

    #: The URL asyncpg connects with (victor's own options removed).
    dsn: str = attrs.field(repr=False)
    #: The URL as messages show it, without the password.
    shown: str
    #: Connections the pool keeps open even when idle.
    min_size: int = 1
    #: The most connections the pool opens; a caller waits for one beyond that.
    max_size: int = 10
    #: Seconds a caller waits for a free connection before giving up.
    pool_timeout: float = 30.0
    #: Seconds to wait for the server to accept a new connection.
    connect_timeout: float = 10.0
    #: Seconds a transaction of victor's may stay idle before the server ends it. An open
    #: transaction holds back every reader of ``read_all`` (see docs/postgres.md), so victor's
    #: own connections never keep one open for long.
    idle_in_transaction_timeout: float = 60.0
    #: The PostgreSQL schema (namespace) victor's tables live in, created on first use;
    #: None for the connection's default search_path (usually ``public``).
    schema: str | None = None
    #: Seconds a statement waits for a lock another session holds before giving up with
    #: :class:`~victor_postgres.PostgresBusy`; None waits as long as the server does.
    lock_timeout: float | None = None

    @classmethod
    def create(cls, url: str | BackendURL, **options: Any) -> PostgresSettings:
        """Settings for *url*; keyword *options* override its query parameters."""
        return cls.from_url(url, options)

    @classmethod
    def from_url(cls, url: str | BackendURL, options: Mapping[str, Any]) -> PostgresSettings:
        """Settings for a ``postgresql://`` URL; *options* override its query parameters."""
        parsed = parse_url(url) if isinstance(url, str) else url
        if parsed.name not in SCHEMES or parsed.driver not in (None, "asyncpg"):
            raise ConfigurationError(
                f"{parsed.redacted()!r} is not a PostgreSQL URL; write "
                "postgresql://user:password@host:5432/database"
            )
        if not parsed.database:
            raise ConfigurationError(
                f"{parsed.redacted()!r} names no database; write "
                "postgresql://user@host:5432/DATABASE (victor keeps its tables there)"
            )
        ours = {k: v for k, v in parsed.query if k in SETTING_NAMES}
        theirs = [(k, v) for k, v in parsed.query if k not in SETTING_NAMES]
        merged = {**ours, **options}
        unknown = sorted(set(merged) - set(SETTING_NAMES))
        if unknown:
            raise ConfigurationError(
                f"unknown PostgreSQL option {', '.join(map(repr, unknown))}; the options are "
                f"{', '.join(SETTING_NAMES)} (connection parameters such as sslmode belong in "
                "the URL's query string)"
            )
        query = f"?{urlencode(theirs)}" if theirs else ""
        dsn = f"postgresql://{parsed.authority}{parsed.path}{query}"
        shown = parse_url(dsn).redacted()
        min_size = _count("min_size", merged.get("min_size", 1), lowest=0)
        max_size = _count("max_size", merged.get("max_size", 10), lowest=1)
        if min_size > max_size:
            raise ConfigurationError(
                f"min_size={min_size} is more than max_size={max_size}; the pool cannot keep "
                "more connections open than it may open"
            )
        schema = merged.get("schema") or None
        if schema is not None and not (isinstance(schema, str) and _SCHEMA_NAME.match(schema)):
            raise ConfigurationError(
                f"schema={schema!r} is not a plain PostgreSQL schema name: use lower-case "
                "letters, digits and '_' (at most 63), starting with a letter or '_'"
            )
        lock = merged.get("lock_timeout")
        return cls(
            dsn=dsn,
            schema=schema,
            lock_timeout=None if lock in (None, "") else _seconds("lock_timeout", lock),
            shown=shown,
            min_size=min_size,
            max_size=max_size,
            pool_timeout=_seconds("pool_timeout", merged.get("pool_timeout", 30.0)),
            connect_timeout=_seconds("connect_timeout", merged.get("connect_timeout", 10.0)),
            idle_in_transaction_timeout=_seconds(
                "idle_in_transaction_timeout", merged.get("idle_in_transaction_timeout", 60.0)
            ),
        )

    def describe(self) -> str:
        """The database as messages name it."""
        return f"PostgreSQL database {self.shown!r}"


def _count(name: str, value: object, *, lowest: int) -> int:
    number = lowest - 1
    if isinstance(value, int | str):
        with contextlib.suppress(ValueError):
            number = int(value)
    if isinstance(value, bool) or number < lowest or str(number) != str(value).strip():
        raise ConfigurationError(f"{name}={value!r} is not a whole number >= {lowest}")
    return number


def _seconds(name: str, value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or not seconds > 0 or seconds == float("inf"):
        raise ConfigurationError(
            f"{name}={value!r} is not a number of seconds > 0 (for example 10 or 2.5)"
        )
    return seconds
