"""NOTIFY on append, and a LISTEN helper that outlives its connection."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from victor_core import Event
from victor_postgres import AppendListener, PostgresDatabase, PostgresEventStore
from victor_postgres.database import Connection

pytestmark = pytest.mark.asyncio


@dataclass
class Rang(Event):
    __event_type__ = "victor.test.postgres.Rang"
    loud: bool = True


async def woken_by_append(listener: AppendListener) -> bool:
    """Whether the listener is woken by an announcement (not a poll tick) within a minute."""
    for _ in range(60):
        if await listener.wait(within=1):
            return True
    return False


async def test_an_append_wakes_a_listener_with_its_last_position(url: str) -> None:
    store = PostgresEventStore(url)
    await store.stream_version("s")  # tables in place
    async with AppendListener(store.database) as listener:
        result = await store.append("s", [Rang(), Rang()])
        assert await woken_by_append(listener)
        assert listener.last_position == result.positions[-1]
    await store.close()


async def test_a_store_opened_without_notify_wakes_nobody(url: str) -> None:
    quiet = PostgresEventStore(url, notify=False)
    await quiet.stream_version("s")
    async with AppendListener(quiet.database) as listener:
        await quiet.append("s", Rang())
        assert not await listener.wait(within=0.5)
        assert listener.last_position == 0
    await quiet.close()


async def test_the_listener_survives_its_connection_being_terminated(url: str) -> None:
    store = PostgresEventStore(url)
    await store.stream_version("s")
    async with AppendListener(store.database, poll_interval=0.2) as listener:
        first_pid = listener.server_pid
        assert first_pid is not None
        killer = PostgresDatabase(url)

        async def terminate(connection: Connection) -> bool:
            return bool(await connection.fetchval("SELECT pg_terminate_backend($1)", first_pid))

        assert await killer.run(terminate)
        await killer.close()
        for _ in range(600):  # reconnected within a minute
            if listener.connections == 2 and listener.listening:
                break
            await asyncio.sleep(0.1)
        assert listener.connections == 2
        assert listener.server_pid not in (None, first_pid)
        while await listener.wait(within=0.3):
            pass  # the wake-ups of the reconnection itself
        result = await store.append("s", Rang())
        assert await woken_by_append(listener), "appends after the reconnection wake it"
        assert listener.last_position == result.positions[-1]
    await store.close()
