"""What goes wrong with a server: each failure is a victor error that says what to do.

Every one leaves the database as it was; the transient ones are retried by
``RetryCommandMiddleware``.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import pytest

from victor_core import (
    Command,
    CommandBus,
    ConfigurationError,
    Entity,
    Event,
    RetryCommandMiddleware,
    SerializationError,
    TransientError,
)
from victor_postgres import (
    PostgresBusy,
    PostgresConflict,
    PostgresDatabase,
    PostgresEventStore,
    PostgresRepository,
    PostgresUnavailable,
)
from victor_postgres.database import Connection

pytestmark = pytest.mark.asyncio


@dataclass
class Noted(Event):
    __event_type__ = "victor.test.postgres.ErrorNoted"
    text: str = ""


@dataclass
class Note(Entity):
    text: str = ""


def with_database(url: str, name: str) -> str:
    """*url* on another database of the same server."""
    head, _, query = url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


async def test_an_unreachable_server_is_a_transient_error_naming_host_and_port() -> None:
    store = PostgresEventStore("postgresql://postgres@127.0.0.1:1/app", connect_timeout=2)
    with pytest.raises(PostgresUnavailable, match="running and reachable") as caught:
        await store.append("s", Noted(text="x"))
    assert isinstance(caught.value, TransientError)
    assert "127.0.0.1:1" in str(caught.value)
    await store.close()


async def test_an_unknown_user_is_a_configuration_error_about_credentials(url: str) -> None:
    server = url.split("://", 1)[1].split("@", 1)[1]
    store = PostgresEventStore(f"postgresql://no_such_user_victor:secret@{server}")
    with pytest.raises(ConfigurationError, match="credentials") as caught:
        await store.stream_version("s")
    assert "secret" not in str(caught.value), "the password never reaches a message"
    await store.close()


async def test_a_missing_database_says_to_create_it(url: str) -> None:
    store = PostgresEventStore(with_database(url, "victor_no_such_database"))
    with pytest.raises(ConfigurationError, match="createdb"):
        await store.read_stream("s")
    await store.close()


async def test_an_exhausted_pool_gives_up_after_pool_timeout_and_writes_nothing(url: str) -> None:
    store = PostgresEventStore(url, max_size=1, pool_timeout=0.2)
    await store.append("warm-up", Noted(text="x"))
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold(connection: Connection) -> None:
        holding.set()
        await release.wait()

    holder = asyncio.create_task(store.database.run(hold))
    await holding.wait()
    with pytest.raises(PostgresBusy, match="max_size") as caught:
        await store.append("blocked", Noted(text="never"))
    assert isinstance(caught.value, TransientError)
    release.set()
    await holder
    assert await store.stream_version("blocked") == 0
    await store.close()


async def test_ids_with_nul_are_refused_and_nothing_is_written(url: str) -> None:
    store = PostgresEventStore(url)
    with pytest.raises(SerializationError, match="NUL"):
        await store.append("bad\x00stream", Noted(text="x"))
    assert [r async for r in store.read_all()] == []
    # Event data is JSON text, where NUL is an escape sequence that reads back as written.
    await store.append("good", [Noted(text="fine"), Noted(text="nul\x00inside")])
    assert [r.event.text for r in await store.read_stream("good")] == ["fine", "nul\x00inside"]
    repository = PostgresRepository(Note, url)
    with pytest.raises(SerializationError, match="NUL"):
        await repository.add(Note(id="n-1", text="a\x00b"))
    assert await repository.count() == 0
    await repository.close()
    await store.close()


async def test_ids_too_long_for_an_index_are_refused_saying_so_and_nothing_is_written(
    url: str,
) -> None:
    store = PostgresEventStore(url)
    # A B-tree index entry holds at most about 2,700 bytes, after compression: random hex
    # (12,000 characters) compresses to about half.
    long_id = os.urandom(6000).hex()
    with pytest.raises(ConfigurationError, match="shorter id"):
        await store.append(long_id, Noted(text="x"))
    assert [r async for r in store.read_all()] == []
    event = Noted(text="x")
    event.id = os.urandom(6000).hex()
    with pytest.raises(ConfigurationError, match="shorter id"):
        await store.append("fine", event)
    assert await store.stream_version("fine") == 0
    repository = PostgresRepository(Note, url)
    with pytest.raises(ConfigurationError, match="shorter id"):
        await repository.add(Note(id=long_id, text="a"))
    assert await repository.count() == 0
    await repository.close()
    await store.close()


@dataclass
class Transfer(Command):
    first: str = ""
    second: str = ""


async def test_a_deadlock_is_a_conflict_that_the_retry_middleware_runs_again(url: str) -> None:
    database = PostgresDatabase(url, max_size=4)

    async def setup(connection: Connection) -> None:
        await connection.execute(f'CREATE SCHEMA "{url.split("schema=")[1]}"')
        await connection.execute("CREATE TABLE accounts (name text PRIMARY KEY, n int)")
        await connection.execute("INSERT INTO accounts VALUES ('a', 0), ('b', 0)")

    await database.run(setup)
    both_locked = asyncio.Barrier(2)
    attempts: list[str] = []

    async def touch(connection: Connection, first: str, second: str, meet: bool) -> None:
        await connection.execute("UPDATE accounts SET n = n + 1 WHERE name = $1", first)
        if meet:
            await both_locked.wait()  # each holds one row and now wants the other's
        await connection.execute("UPDATE accounts SET n = n + 1 WHERE name = $1", second)

    async def handle(command: Transfer) -> None:
        meet = command.first not in attempts
        attempts.append(command.first)
        await database.write(touch, command.first, command.second, meet)

    bus = CommandBus()
    bus.register(Transfer, handle)
    bus.use(RetryCommandMiddleware(max=3, retry_on=PostgresConflict, base_delay=0.01))
    await asyncio.gather(bus.execute(Transfer("a", "b")), bus.execute(Transfer("b", "a")))

    async def totals(connection: Connection) -> list[int]:
        return [row[0] for row in await connection.fetch("SELECT n FROM accounts ORDER BY name")]

    assert await database.run(totals) == [2, 2], "each transfer applied exactly once"
    assert len(attempts) == 3, "the deadlock's victim ran once more"
    await database.close()


async def test_a_connection_killed_by_the_server_is_transient_and_the_pool_recovers(
    url: str,
) -> None:
    store = PostgresEventStore(url, min_size=1, max_size=1)
    await store.append("s", Noted(text="one"))

    async def own_pid(connection: Connection) -> int:
        return int(await connection.fetchval("SELECT pg_backend_pid()"))

    pid = await store.database.run(own_pid)
    other = PostgresDatabase(url)

    async def terminate(connection: Connection) -> None:
        await connection.execute("SELECT pg_terminate_backend($1)", pid)

    await other.run(terminate)
    await other.close()
    try:
        await store.append("s", Noted(text="two"))
    except PostgresUnavailable:
        await store.append("s", Noted(text="two"))  # what RetryCommandMiddleware would do
    assert [r.event.text for r in await store.read_stream("s")] == ["one", "two"]
    await store.close()
