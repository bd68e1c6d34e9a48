"""Where the database is and how durable it is, from a path, a URL or keyword options.

``sqlite:///events.db`` is ``events.db`` relative to the working directory,
``sqlite:////var/lib/app/events.db`` an absolute path, and ``sqlite://`` or
``sqlite:///:memory:`` a private in-memory database. Relative paths are resolved when the
settings are made, so changing directory later does not move the database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from victor_core.backend import BackendURL, Capability, ConfigurationError, parse_url

MEMORY = ":memory:"

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
#: Journal modes that keep commits atomic; MEMORY and OFF do not survive a crash.
_JOURNAL_MODES = ("WAL", "DELETE", "TRUNCATE", "PERSIST")
#: Keyword options and URL query parameters that configure the connection.
SETTING_NAMES = ("synchronous", "journal_mode", "busy_timeout")

#: What the backend declares: what a file opened with the default settings guarantees.
DECLARED = frozenset(
    {
        Capability.EVENT_STORE,
        Capability.GLOBAL_ORDER,
        Capability.REPOSITORY,
        Capability.SPECIFICATION_PUSHDOWN,
        Capability.DURABILITY,
        Capability.MULTI_PROCESS,
        Capability.SNAPSHOTS,
        Capability.CHECKPOINTS,
        Capability.SUBSCRIPTIONS,
        Capability.CHECKPOINT_LEASES,
        Capability.EXACTLY_ONCE,
        Capability.TRANSACTIONS,
        Capability.IMMEDIATE_READ_ALL,
    }
)


@attrs.frozen
class SQLiteSettings:
    """How to open one database file.

    Durable by default: write-ahead log and ``synchronous=FULL``, so a commit that returned
    survives a crash of the process or the machine. ``synchronous="NORMAL"`` trades the last
    commits before a power loss for speed; the database stays consistent either way.
    """

    #: Absolute path of the database file, or ``":memory:"``.
    path: str
    synchronous: str = "FULL"
    journal_mode: str = "WAL"
    #: Seconds a connection waits for another one's write lock before giving up.
    busy_timeout: float = 10.0

    @property
    def in_memory(self) -> bool:
        """True for a private in-memory database, which ends with its connection."""
        return self.path == MEMORY

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What a database opened with these settings guarantees.

        ``synchronous=OFF`` hands writes to the operating system without waiting for them
        to reach the disk, so a commit that returned can be lost with the machine: no
        durability. An in-memory database ends with its connection and no other process
        can open it: neither durability nor sharing by processes.
        """
        if self.in_memory:
            return DECLARED - {Capability.DURABILITY, Capability.MULTI_PROCESS}
        if self.synchronous == "OFF":
            return DECLARED - {Capability.DURABILITY}
        return DECLARED

    @classmethod
    def create(cls, path: str | os.PathLike[str], **options: Any) -> SQLiteSettings:
        """Settings for *path* (a file path or an ``sqlite://`` URL) and keyword *options*."""
        if isinstance(path, str) and path.startswith(("sqlite:", "sqlite+")):
            return cls.from_url(path, options)
        if not isinstance(path, str | os.PathLike):
            raise ConfigurationError(
                f"expected a database path or an sqlite:// URL, got {path!r}; for example "
                "SQLiteEventStore('events.db')"
            )
        text = os.fspath(path)
        if not text:
            raise ConfigurationError(
                "the database path is empty; give a file name ('events.db') or ':memory:'"
            )
        return cls._build(text, options)

    @classmethod
    def from_url(cls, url: str | BackendURL, options: Mapping[str, Any]) -> SQLiteSettings:
        """Settings for an ``sqlite://`` URL; *options* override its query parameters."""
        parsed = parse_url(url) if isinstance(url, str) else url
        if parsed.name != "sqlite" or parsed.driver not in (None, "aiosqlite"):
            raise ConfigurationError(
                f"{parsed.redacted()!r} is not an SQLite URL; write sqlite:///relative.db, "
                "sqlite:////absolute/path.db or sqlite:// (in memory)"
            )
        if parsed.authority:
            raise ConfigurationError(
                f"{parsed.redacted()!r} names a host ({parsed.authority!r}), but SQLite "
                "databases are files: write sqlite:///relative.db (three slashes) or "
                "sqlite:////absolute/path.db (four)"
            )
        path = parsed.database or MEMORY
        return cls._build(path, {**parsed.options, **options})

    @classmethod
    def _build(cls, path: str, options: Mapping[str, Any]) -> SQLiteSettings:
        unknown = sorted(set(options) - set(SETTING_NAMES))
        if unknown:
            raise ConfigurationError(
                f"unknown SQLite option {', '.join(map(repr, unknown))}; the options are "
                f"{', '.join(SETTING_NAMES)}"
            )
        if "\x00" in path:
            raise ConfigurationError(
                f"the database path {path!r} holds a NUL character, which no file name may "
                "hold (in a URL, %00); remove it"
            )
        if path != MEMORY:
            path = os.path.abspath(path)
        return cls(
            path=path,
            synchronous=_choice("synchronous", options.get("synchronous", "FULL"), _SYNCHRONOUS),
            journal_mode=_choice(
                "journal_mode", options.get("journal_mode", "WAL"), _JOURNAL_MODES
            ),
            busy_timeout=_seconds(options.get("busy_timeout", 10.0)),
        )

    def describe(self) -> str:
        """The database as messages name it."""
        return "the in-memory SQLite database" if self.in_memory else f"SQLite file {self.path!r}"


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str) and value.strip().upper() in allowed:
        return value.strip().upper()
    raise ConfigurationError(f"{name}={value!r} is not one of {', '.join(allowed)}")


def _seconds(value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or not seconds >= 0 or seconds == float("inf"):
        raise ConfigurationError(
            f"busy_timeout={value!r} is not a number of seconds >= 0 (for example 10 or 2.5)"
        )
    return seconds
