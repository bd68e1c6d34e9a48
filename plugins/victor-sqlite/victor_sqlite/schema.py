"""The database's schema: claimed once, versioned per part, never rewritten behind anyone's back.

A database victor creates is marked with an SQLite ``application_id`` and holds a table
``victor_schema`` listing each part of the schema (events, snapshots, checkpoints, and what
other victor components add) with its version. A part's tables are created the first time
something uses them; a part at an older version is migrated then, in one transaction that
leaves the file as it was if the migration cannot proceed. Opening a file that another
application owns, or whose parts were written by a newer victor-sqlite, is an error that
leaves the file as it was.

The functions here take a raw :class:`sqlite3.Connection` and run on the connection's
worker thread (see :meth:`~victor_sqlite.database.SQLiteDatabase.run`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping

import attrs

from victor_core.backend import ConfigurationError

#: ``PRAGMA application_id`` of databases victor created: "VCTR" in ASCII.
APPLICATION_ID = 0x56435452


#: Brings a part from one version to the next, given the connection and the file's name.
Migration = Callable[[sqlite3.Connection, str], None]


@attrs.frozen
class SchemaPart:
    """Tables one component needs, at one version of their layout."""

    #: Unique among parts: "events", "snapshots", "checkpoints"...
    name: str
    #: Raise it, and add the migration from the version before, when the layout changes.
    version: int
    #: ``CREATE`` statements of the current layout, run in one transaction the first time
    #: the part is used.
    statements: tuple[str, ...]
    #: version -> what brings a file from that version to the next one. A file at an older
    #: version is brought up to date, in one transaction, the first time the part is used;
    #: a migration that cannot proceed raises and leaves the file as it was.
    migrations: Mapping[int, Migration] = attrs.field(factory=dict)


def existing_tables(connection: sqlite3.Connection) -> list[str]:
    """Names of the user tables and views in the database."""
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    return [row[0] for row in rows]


def check_ownership(connection: sqlite3.Connection, where: str) -> bool:
    """True when the database is victor's, False when it is empty; raise when it is foreign.

    Reads only, so a foreign file is refused before anything (even the journal mode) is
    changed in it.
    """
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    if application_id == APPLICATION_ID:
        return True
    if application_id != 0:
        raise ConfigurationError(
            f"{where} belongs to another application (its application_id is "
            f"{application_id:#x}, victor's is {APPLICATION_ID:#x}); victor does not write "
            "into it. Give victor a database file of its own"
        )
    tables = existing_tables(connection)
    if tables:
        shown = ", ".join(tables[:10]) + (", ..." if len(tables) > 10 else "")
        raise ConfigurationError(
            f"{where} already holds tables that victor did not create ({shown}); victor does "
            "not write into another application's database. Give victor a database file of "
            "its own"
        )
    return False


def claim(connection: sqlite3.Connection, where: str) -> None:
    """Mark an empty database as victor's and create its schema table, in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Another connection may have claimed it while this one waited for the lock.
        if not check_ownership(connection, where):
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(
                "CREATE TABLE victor_schema ("
                " part TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID"
            )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def ensure_part(connection: sqlite3.Connection, part: SchemaPart, where: str) -> None:
    """Create *part*'s tables, or bring them to this version; refuse what cannot be read.

    Several connections (and processes) may do this at once: each looks again once it holds
    the write lock, and only the first one creates or migrates.
    """
    if _stored_version(connection, part, where) == part.version:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        stored = _stored_version(connection, part, where)
        if stored is None:
            for statement in part.statements:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO victor_schema (part, version) VALUES (?, ?)",
                (part.name, part.version),
            )
        elif stored < part.version:
            for version in range(stored, part.version):
                part.migrations[version](connection, where)
            connection.execute(
                "UPDATE victor_schema SET version = ? WHERE part = ?", (part.version, part.name)
            )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _stored_version(connection: sqlite3.Connection, part: SchemaPart, where: str) -> int | None:
    try:
        row = connection.execute(
            "SELECT version FROM victor_schema WHERE part = ?", (part.name,)
        ).fetchone()
    except sqlite3.OperationalError as exc:
        raise ConfigurationError(
            f"{where} is marked as victor's but has no readable victor_schema table ({exc}); "
            "it was damaged or edited by hand. Restore it from a backup"
        ) from exc
    if row is None:
        return None
    stored = int(row[0])
    if stored > part.version:
        raise ConfigurationError(
            f"{where} holds {part.name} at schema version {stored}, written by a newer "
            f"victor-sqlite; this one reads version {part.version}. Upgrade victor-sqlite; "
            "the file was left as it is"
        )
    missing = [version for version in range(stored, part.version) if version not in part.migrations]
    if missing:
        raise ConfigurationError(
            f"{where} holds {part.name} at schema version {stored}, but this victor-sqlite "
            f"needs version {part.version} and has no migration from {missing[0]}; the file "
            "was left as it is"
        )
    return stored
