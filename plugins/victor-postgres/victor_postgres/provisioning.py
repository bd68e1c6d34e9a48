"""Fresh databases for tests and the contract suite: created, handed out, dropped.

The server is ``VICTOR_POSTGRES_URL`` (by default ``postgresql://postgres@127.0.0.1:5432/postgres``,
the maintenance database of a local server). Each database gets a unique name and a
collation that is not byte order (ICU ``en-US`` where the server has ICU), so that a query
which forgot ``COLLATE "C"`` sorts differently from Python and fails the suite.
"""

from __future__ import annotations

import os
import uuid

import asyncpg

#: Where test databases are created, unless ``VICTOR_POSTGRES_URL`` says otherwise.
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    """The maintenance URL of the server tests create databases on."""
    return os.environ.get("VICTOR_POSTGRES_URL") or DEFAULT_SERVER


def database_url(name: str, server: str | None = None) -> str:
    """*server*'s URL with its database replaced by *name*."""
    base = server or server_url()
    head, _, _ = base.partition("?")
    scheme_and_authority = head.split("://", 1)
    authority = scheme_and_authority[1].split("/", 1)[0]
    return f"postgresql://{authority}/{name}"


def unique_name(prefix: str = "victor_test") -> str:
    """A database name no other run uses."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def create_database(
    name: str, server: str | None = None, collation: str | None = None
) -> str | None:
    """Create database *name*; return the collation its text compares under, if one was set.

    With *collation* (a libc locale such as ``en_US.utf8``, or an ICU one such as ``en-US``)
    the database's default collation is that one, or creating it fails. Without, it is ICU
    ``en-US`` where the server has ICU (byte order otherwise).
    """
    connection = await asyncpg.connect(server or server_url())
    try:
        if collation is None:
            try:
                await connection.execute(_icu(name, "en-US"))
            except asyncpg.PostgresError:
                await connection.execute(f'CREATE DATABASE "{name}"')
                return None
            return "en-US"
        literal = collation.replace("'", "''")
        try:
            await connection.execute(
                f'CREATE DATABASE "{name}" TEMPLATE template0'
                f" LC_COLLATE '{literal}' LC_CTYPE '{literal}'"
            )
        except asyncpg.PostgresError:
            icu = literal.split(".")[0].replace("_", "-")
            await connection.execute(_icu(name, icu))
        return collation
    finally:
        await connection.close()


def _icu(name: str, locale: str) -> str:
    return (
        f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu'
        f" ICU_LOCALE '{locale}' LOCALE 'C.UTF-8'"
    )


async def drop_database(name: str, server: str | None = None) -> None:
    """Drop database *name*, ending any connection still open to it."""
    connection = await asyncpg.connect(server or server_url())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def drop_schema(url: str, schema: str) -> None:
    """Drop *schema* of the database at *url* and everything in it."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()
