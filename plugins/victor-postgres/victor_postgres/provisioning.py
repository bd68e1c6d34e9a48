"""Fresh databases for tests and the contract suite: created, handed out, dropped.

The server is ``VICTOR_POSTGRES_URL`` (by default ``postgresql://postgres@127.0.0.1:5432/postgres``,
the maintenance database of a local server). Each database gets a unique name and a
collation that is not byte order (ICU ``en-US`` where the server has ICU), so that a query
which forgot ``COLLATE "C"`` sorts differently from Python and fails the suite.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import threading
import uuid
from collections.abc import Coroutine
from typing import Any

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


async def create_database(name: str, server: str | None = None) -> None:
    """Create database *name*, with a collation that is not byte order where possible."""
    connection = await asyncpg.connect(server or server_url())
    try:
        try:
            await connection.execute(
                f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu'
                " ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        except asyncpg.PostgresError:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(name: str, server: str | None = None) -> None:
    """Drop database *name*, ending any connection still open to it."""
    connection = await asyncpg.connect(server or server_url())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def create_database_now(name: str, server: str | None = None) -> None:
    """:func:`create_database` from synchronous code, even inside a running event loop."""
    _run_in_thread(create_database(name, server))


_RUN_DATABASE = re.compile(r"^victor_run_(\d+)_[0-9a-f]+$")
_run_database: str | None = None
_run_lock = threading.Lock()


def run_database() -> str:
    """This process's contract database: created on first use, dropped when the process exits.

    Creating a database takes the server a second or so, so the contract suite shares one per
    test run and gives each test a schema of its own in it. Databases left by runs whose
    process no longer exists (killed before it could drop them) are dropped here too.
    """
    global _run_database
    with _run_lock:
        if _run_database is None:
            name = f"victor_run_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _run_in_thread(_sweep_and_create(name))
            atexit.register(_drop_at_exit, name)
            _run_database = name
        return _run_database


async def _sweep_and_create(name: str) -> None:
    connection = await asyncpg.connect(server_url())
    try:
        names = await connection.fetch("SELECT datname FROM pg_database")
    finally:
        await connection.close()
    for (existing,) in names:
        match = _RUN_DATABASE.match(existing)
        if match and not _process_alive(int(match.group(1))):
            await drop_database(existing)
    await create_database(name)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_at_exit(name: str) -> None:
    asyncio.run(drop_database(name))


def _run_in_thread(work: Coroutine[Any, Any, None]) -> None:
    """Run *work* to the end from synchronous code, even inside a running event loop."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(work)
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="victor-provisioning")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


async def drop_schema(url: str, schema: str) -> None:
    """Drop *schema* of the database at *url* and everything in it."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()
