"""Positions come from transaction ids: read_all never runs ahead of an open transaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import pytest

from victor_core import Event
from victor_core.backend import EventSerializer, NewEventRecord, StreamState
from victor_postgres import PostgresEventStore, append_in
from victor_postgres.event_log import EVENTS
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
