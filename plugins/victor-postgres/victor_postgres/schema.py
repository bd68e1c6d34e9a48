"""The database's schema: versioned per part, created on first use, printable up front.

victor keeps its tables in the database the URL names, next to any other application's,
all named ``victor_*``. A table ``victor_schema`` lists each part of the schema (events,
snapshots, checkpoints, each repository's table) with its version. A part is created the
first time something uses it, under an advisory lock so that concurrent first uses from
several processes create it once; teams that manage DDL themselves print it with
``victor schema postgresql://...`` and apply it with their own tools, or with ``--apply``.
A part written by a newer victor-postgres is refused, leaving the database as it was.
"""

from __future__ import annotations

import asyncpg
import attrs

from victor_core.backend import ConfigurationError

#: Key of the advisory lock that schema changes take (``pg_advisory_xact_lock``).
SCHEMA_LOCK = 0x56435452

SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS victor_schema ("
    ' part text COLLATE "C" PRIMARY KEY, version integer NOT NULL)'
)


@attrs.frozen
class SchemaPart:
    """Tables one component needs, at one version of their layout."""

    #: Unique among parts: "events", "snapshots", "checkpoints", "entities:<table>"...
    name: str
    #: Raise it (and teach :func:`ensure_part_in` to migrate) when the layout changes.
    version: int
    #: DDL statements, run in one transaction the first time the part is used.
    statements: tuple[str, ...]

    def script(self) -> str:
        """The part's DDL and its row in ``victor_schema``, as SQL text."""
        name = self.name.replace("'", "''")
        lines = [statement.strip() + ";" for statement in self.statements]
        lines.append(
            f"INSERT INTO victor_schema (part, version) VALUES ('{name}', {self.version})"
            " ON CONFLICT (part) DO NOTHING;"
        )
        return "\n".join(lines)


def script(parts: tuple[SchemaPart, ...], namespace: str | None = None) -> str:
    """The DDL of *parts* as one transaction, for ``victor schema URL``.

    With *namespace* (the URL's ``schema``), the tables go into that PostgreSQL schema.
    """
    body = "\n\n".join(part.script() for part in parts)
    head = "BEGIN;\n"
    if namespace is not None:
        head += (
            f'CREATE SCHEMA IF NOT EXISTS "{namespace}";\nSET LOCAL search_path TO "{namespace}";\n'
        )
    return f"{head}{SCHEMA_TABLE};\n\n{body}\n\nCOMMIT;\n"


async def stored_version_in(
    connection: asyncpg.Connection, part: SchemaPart, where: str
) -> int | None:
    """The version of *part* in the database, None when it was never created."""
    exists = await connection.fetchval("SELECT to_regclass('victor_schema') IS NOT NULL")
    if not exists:
        return None
    stored = await connection.fetchval(
        "SELECT version FROM victor_schema WHERE part = $1", part.name
    )
    if stored is None:
        return None
    if stored > part.version:
        raise ConfigurationError(
            f"{where} holds {part.name} at schema version {stored}, written by a newer "
            f"victor-postgres; this one reads version {part.version}. Upgrade victor-postgres; "
            "the database was left as it is"
        )
    if stored < part.version:
        raise ConfigurationError(
            f"{where} holds {part.name} at schema version {stored}, but this victor-postgres "
            f"needs version {part.version} and has no migration from {stored}; the database "
            "was left as it is"
        )
    return int(stored)


async def ensure_part_in(
    connection: asyncpg.Connection, part: SchemaPart, where: str, namespace: str | None = None
) -> None:
    """Create *part*'s tables unless they exist, in one transaction, once across processes.

    *namespace* is the PostgreSQL schema the connection's ``search_path`` names, created
    here when it does not exist yet.
    """
    if await stored_version_in(connection, part, where) is not None:
        return
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
        if namespace is not None:
            await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{namespace}"')
        await connection.execute(SCHEMA_TABLE)
        if await stored_version_in(connection, part, where) is None:
            for statement in part.statements:
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO victor_schema (part, version) VALUES ($1, $2)",
                part.name,
                part.version,
            )
