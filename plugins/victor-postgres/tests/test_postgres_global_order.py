"""Positions come from transaction ids: read_all never runs ahead of an open transaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import pytest

from victor_core import ConcurrencyError, Event, TransientError
from victor_core.backend import (
    AppendResult,
    EventSerializer,
    ExpectedVersion,
    NewEventRecord,
    StreamState,
)
from victor_postgres import PostgresAppendConflict, PostgresEventStore, append_in
from victor_postgres.database import Connection
from victor_postgres.event_log import EVENTS, read_stream_in
from victor_postgres.schema import ensure_part_in

pytestmark = pytest.mark.asyncio


@dataclass
class Noted(Event):
    __event_type__ = "victor.test.postgres.OrderNoted"
    text: str = ""


def record(text: str) -> NewEventRecord:
    return EventSerializer().serialize(Noted(id=f"id-{text}", text=text), text)


async def read_until(store: PostgresEventStore, count: int) -> list[str]:
    """What read_all returns once it holds *count* events (or after about a minute)."""
    seen: list[str] = []
    for _ in range(1200):
        seen = [r.event.text async for r in store.read_all()]
        if len(seen) >= count:
            break
        await asyncio.sleep(0.05)
    return seen


async def test_an_event_committed_later_below_a_position_already_seen_is_never_skipped(
    url: str,
) -> None:
    store = PostgresEventStore(url)
    await store.append("warm-up", Noted(text="first"))
    assert await read_until(store, 1) == ["first"]
    schema = url.split("schema=")[1]
    slow = await asyncpg.connect(url.split("?")[0], server_settings={"search_path": schema})
    try:
        await ensure_part_in(slow, EVENTS, "test")
        transaction = slow.transaction()
        await transaction.start()
        # The slow writer takes its transaction id (and so its positions) first...
        held = await append_in(slow, "slow", [record("slow")], StreamState.ANY)
        # ...and a fast writer commits after it, at a higher position.
        fast = await store.append("fast", Noted(text="fast"))
        assert fast.positions[0] > held.positions[0]
        seen = [r.event.text async for r in store.read_all()]
        assert seen == ["first"], "read_all ran ahead of a transaction still open below it"
        await transaction.commit()
    finally:
        await slow.close()
    # Transactions of other clients of the server hold read_all back too, until they end.
    after = await read_until(store, 3)
    assert after == ["first", "slow", "fast"]
    await store.close()


async def test_a_transaction_left_idle_is_ended_and_stops_holding_readers_back(url: str) -> None:
    store = PostgresEventStore(url, idle_in_transaction_timeout=0.2)
    await store.append("warm-up", Noted(text="first"))
    assert await read_until(store, 1) == ["first"]
    abandoned = await store.database.connect()
    try:
        transaction = abandoned.transaction()
        await transaction.start()
        await append_in(abandoned, "abandoned", [record("abandoned")], StreamState.ANY)
        await store.append("later", Noted(text="later"))
        # The server ends the idle transaction after 0.2 s.
        assert await read_until(store, 2) == ["first", "later"]
    finally:
        await abandoned.close()
    await store.close()


async def versions_by_position(store: PostgresEventStore, stream: str, count: int) -> list[int]:
    """The versions of *stream* in global order, once read_all holds *count* events."""
    for _ in range(1200):
        recorded = [r async for r in store.read_all()]
        if len(recorded) >= count:
            break
        await asyncio.sleep(0.05)
    return [r.version for r in recorded if r.stream_id == stream]


async def test_an_append_in_a_transaction_after_a_younger_one_wrote_the_stream_is_refused(
    url: str,
) -> None:
    store, other = PostgresEventStore(url), PostgresEventStore(url)
    await other.append("shared", Noted(text="first"))

    async def unit(connection: Connection, expected: ExpectedVersion) -> AppendResult:
        await append_in(connection, "own", [record("own")], StreamState.ANY)  # takes an id
        await other.append("shared", Noted(text="younger"))  # a younger id, committed
        return await append_in(connection, "shared", [record("older")], expected)

    with pytest.raises(PostgresAppendConflict) as refused:
        await store.database.write(unit, StreamState.ANY)
    assert isinstance(refused.value, ConcurrencyError)
    assert isinstance(refused.value, TransientError)  # RetryCommandMiddleware retries it
    assert refused.value.actual == 2
    assert await store.stream_version("own") == 0, "the transaction's other write was stored"
    assert await store.stream_version("shared") == 2

    async def loading(connection: Connection) -> AppendResult:
        await append_in(connection, "own", [record("own")], StreamState.ANY)
        await other.append("shared", Noted(text="younger again"))
        # Loaded in the transaction (READ COMMITTED), the version is the younger one's.
        loaded = await read_stream_in(connection, "shared", 1, 2**62, None)
        return await append_in(connection, "shared", [record("older")], loaded[-1].version)

    with pytest.raises(PostgresAppendConflict):
        await store.database.write(loading)
    assert await store.stream_version("own") == 0

    # Run again, the transaction gets a new id, younger than the head's: it commits above it.
    async def again(connection: Connection) -> AppendResult:
        await append_in(connection, "own", [record("own")], StreamState.ANY)
        return await append_in(connection, "shared", [record("older")], 3)

    result = await store.database.write(again)
    assert result.version == 4
    assert await versions_by_position(store, "shared", 5) == [1, 2, 3, 4]
    await other.close()
    await store.close()


async def test_a_transaction_appends_to_a_stream_it_wrote_or_an_older_one_wrote(url: str) -> None:
    store = PostgresEventStore(url)
    await store.append("shared", Noted(text="older"))

    async def unit(connection: Connection) -> AppendResult:
        await append_in(connection, "shared", [record("a")], 1)
        await append_in(connection, "own", [record("own")], StreamState.ANY)
        return await append_in(connection, "shared", [record("b"), record("c")], StreamState.ANY)

    result = await store.database.write(unit)
    assert result.version == 4
    assert await versions_by_position(store, "shared", 5) == [1, 2, 3, 4]
    await store.close()


async def waiting_for_a_lock(store: PostgresEventStore, connection: Connection) -> None:
    """Return once *connection*'s statement waits for a lock (up to about a minute)."""
    pid = connection.get_server_pid()
    for _ in range(1200):
        waiting = await store.database.run(
            lambda c: c.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
            )
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the append never waited for the younger transaction's lock")


async def test_an_append_that_waited_for_a_younger_transaction_is_refused_not_retried_below(
    url: str,
) -> None:
    """Blocked by a younger transaction's uncommitted version, an append is refused once it commits.

    Retried inside its transaction (a savepoint keeps the transaction's id), the append
    would land below the version it waited for.
    """
    store = PostgresEventStore(url)
    await store.append("shared", Noted(text="first"))
    older, younger = await store.database.connect(), await store.database.connect()
    try:
        transaction = older.transaction()
        await transaction.start()
        await append_in(older, "own", [record("own")], StreamState.ANY)  # the older id
        async with younger.transaction():
            await append_in(younger, "shared", [record("younger")], StreamState.ANY)
            blocked = asyncio.ensure_future(
                append_in(older, "shared", [record("older")], StreamState.ANY)
            )
            await waiting_for_a_lock(store, older)
        with pytest.raises(PostgresAppendConflict):
            await blocked
        await transaction.rollback()
    finally:
        await older.close()
        await younger.close()
    assert await store.stream_version("own") == 0
    assert await versions_by_position(store, "shared", 2) == [1, 2]
    await store.close()
