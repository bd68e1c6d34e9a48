"""Live subscriptions woken by a change stream, through the real drivers on a scripted server.

The scripted server keeps a small log of commit documents and answers ``find`` from it, as
``read_all`` asks; its ``$changeStream`` aggregate and the ``getMore`` calls on that stream
are scripted, so a test can announce an append made "by another process", refuse change
streams as a standalone server does, or drop the connection under an open stream. The
subscriptions here poll only every minute: an event that arrives within the test's time
limit was woken by the stream, or by the stream coming back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

pytest.importorskip("mockupdb", reason="pip install 'victor-mongodb[fake]'")

from mongodb_doubles import FLAVOURS, Noted
from scripted_server import HANG_UP, ScriptedServer

from victor_mongodb import MongoDatabase, MongoEventStore
from victor_mongodb.testing import fake_client
from victor_mongodb.wakeups import AppendWakeups, StreamState, wakeups_of

pytestmark = pytest.mark.asyncio

#: Longer than any test here: a subscription that polls would time the test out.
NO_POLLING = 60.0
PATIENCE = 20.0

#: What a standalone server answers to ``$changeStream``.
NOT_A_REPLICA_SET: dict[str, Any] = {
    "ok": 0,
    "code": 40573,
    "codeName": "Location40573",
    "errmsg": "The $changeStream stage is only supported on replica sets",
}


def commit(position: int) -> dict[str, Any]:
    """The commit document of a one-event append at *position*."""
    return {
        "_id": position,
        "last_position": position,
        "stream_id": "s",
        "first_version": position,
        "last_version": position,
        "events": [
            {
                "event_id": f"e{position}",
                "type_name": "Noted",
                "schema_version": 1,
                "data": "{}",
                "timestamp": "2026-01-01T00:00:00.000000+00:00",
            }
        ],
    }


class ScriptedLog:
    """The server side: stored commits, and the change stream's cursors and announcements.

    Change-stream aggregates are answered from :attr:`openings` (a reply, or None for an
    open cursor); each ``getMore`` on an open cursor takes the next of :attr:`moves` (a
    function run on the server, returning the reply), or waits a little and answers that
    nothing changed, as ``maxAwaitTimeMS`` makes a server do.
    """

    def __init__(self, server: ScriptedServer) -> None:
        self._lock = threading.Lock()
        self.commits: list[dict[str, Any]] = []
        self.openings: deque[dict[str, Any] | None] = deque()
        self.moves: deque[Callable[[], dict[str, Any]]] = deque()
        self._cursors = 100
        server.always("find", self._find)
        server.always("aggregate", self._aggregate)
        server.always("getMore", self._get_more)

    def append(self, position: int) -> None:
        with self._lock:
            self.commits.append(commit(position))

    def announce(self, position: int) -> None:
        """Append at *position* and let the next ``getMore`` report the insert."""

        def move() -> dict[str, Any]:
            self.append(position)
            return self._batch([self.change(position)])

        with self._lock:
            self.moves.append(move)

    def change(self, position: int) -> dict[str, Any]:
        return {
            "_id": {"_data": f"{position:08d}"},
            "operationType": "insert",
            "fullDocument": {"last_position": position},
        }

    def change_stream_aggregates(self, server: ScriptedServer) -> list[dict[str, Any]]:
        return [c for c in server.sent("aggregate") if "$changeStream" in c["pipeline"][0]]

    def _find(self, command: dict[str, Any]) -> dict[str, Any]:
        low = command.get("filter", {}).get("last_position", {}).get("$gte", 0)
        with self._lock:
            found = [c for c in self.commits if c["last_position"] >= low]
        found = found[: command.get("limit") or len(found)]
        namespace = f"app.{command['find']}"
        return {"ok": 1, "cursor": {"id": 0, "ns": namespace, "firstBatch": found}}

    def _aggregate(self, command: dict[str, Any]) -> dict[str, Any]:
        if "$changeStream" not in command["pipeline"][0]:
            return {"ok": 1, "cursor": {"id": 0, "ns": "app.x", "firstBatch": []}}
        with self._lock:
            reply = self.openings.popleft() if self.openings else None
            self._cursors += 1
            cursor_id = self._cursors
        if reply is not None:
            return reply
        return {
            "ok": 1,
            "cursor": {
                "id": cursor_id,
                "ns": "app.victor_events",
                "firstBatch": [],
                "postBatchResumeToken": {"_data": "00000000"},
            },
        }

    def _get_more(self, command: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            move = self.moves.popleft() if self.moves else None
            cursor_id = command["getMore"]
        if move is not None:
            reply = move()
        else:
            time.sleep(0.05)  # the server's maxAwaitTimeMS, shortened
            reply = self._batch([])
        if "cursor" in reply:
            reply["cursor"]["id"] = cursor_id
        return reply

    def _batch(self, changes: list[dict[str, Any]]) -> dict[str, Any]:
        token = changes[-1]["_id"] if changes else {"_data": "00000000"}
        return {
            "ok": 1,
            "cursor": {
                "id": 0,
                "ns": "app.victor_events",
                "nextBatch": changes,
                "postBatchResumeToken": token,
            },
        }


def client_for(flavour: str, url: str) -> Any:
    if flavour == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(url)
    import pymongo

    return pymongo.AsyncMongoClient(url)


@pytest_asyncio.fixture(params=FLAVOURS)
async def replica_set_store(
    request: pytest.FixtureRequest, scripted: ScriptedServer
) -> AsyncIterator[MongoEventStore]:
    client = client_for(request.param, scripted.url())
    store = MongoEventStore(MongoDatabase(client=client, database="app"))
    try:
        yield store
    finally:
        await store.close()
        close = client.close()
        if asyncio.iscoroutine(close):
            await close


def wakeups(store: MongoEventStore) -> AppendWakeups:
    recorder = store.recorder
    return wakeups_of(recorder.database)  # type: ignore[attr-defined]


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(PATIENCE):
        while not condition():  # noqa: ASYNC110 - the state of a background task
            await asyncio.sleep(0.01)


async def test_an_append_by_another_process_wakes_a_waiting_subscription(
    scripted: ScriptedServer, replica_set_store: MongoEventStore
) -> None:
    log = ScriptedLog(scripted)
    subscription = replica_set_store.subscribe(poll_interval=NO_POLLING)
    waiting = asyncio.ensure_future(subscription.next_records(10))
    await until(lambda: wakeups(replica_set_store).watching)
    log.announce(1)

    async with asyncio.timeout(PATIENCE):
        records = await waiting
    assert [r.position for r in records] == [1]

    (opened,) = log.change_stream_aggregates(scripted)
    assert opened["aggregate"] == "victor_events"
    assert {"$match": {"operationType": "insert"}} in opened["pipeline"]
    await subscription.aclose()
    await until(lambda: not wakeups(replica_set_store).watching)


async def test_appends_while_the_connection_was_down_arrive_in_order_once_it_is_back(
    scripted: ScriptedServer, replica_set_store: MongoEventStore
) -> None:
    log = ScriptedLog(scripted)
    subscription = replica_set_store.subscribe(poll_interval=NO_POLLING)
    log.announce(1)
    received = await asyncio.wait_for(subscription.next_records(10), PATIENCE)
    assert [r.position for r in received] == [1]

    def drop() -> dict[str, Any]:
        log.append(2)  # committed while nobody watches
        log.append(3)
        return HANG_UP

    # The driver's own attempt to resume the stream, and its retry of that read, fail too.
    log.openings.extend([HANG_UP, HANG_UP])
    log.moves.append(drop)
    async with asyncio.timeout(PATIENCE):
        while len(received) < 3:
            received += await subscription.next_records(10)
    await until(lambda: wakeups(replica_set_store).streams_opened == 2)  # opened again

    log.announce(4)
    received += await asyncio.wait_for(subscription.next_records(10), PATIENCE)
    assert [r.position for r in received] == [1, 2, 3, 4]
    await subscription.aclose()


async def test_a_standalone_server_refuses_change_streams_once_and_subscriptions_poll(
    scripted_standalone: ScriptedServer,
) -> None:
    log = ScriptedLog(scripted_standalone)
    log.openings.append(NOT_A_REPLICA_SET)
    store = MongoEventStore(scripted_standalone.url())
    try:
        subscription = store.subscribe(poll_interval=0.05)
        waiting = asyncio.ensure_future(subscription.next_records(10))
        await until(lambda: wakeups(store).state is StreamState.UNAVAILABLE)
        log.append(1)
        records = await asyncio.wait_for(waiting, PATIENCE)
        assert [r.position for r in records] == [1]
        log.append(2)
        records = await asyncio.wait_for(subscription.next_records(10), PATIENCE)
        assert [r.position for r in records] == [2]

        assert len(log.change_stream_aggregates(scripted_standalone)) == 1
        await subscription.aclose()
    finally:
        await store.close()


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_on_a_stand_in_appends_of_the_same_database_wake_at_once_and_nothing_watches(
    flavour: str,
) -> None:
    store = MongoEventStore(client=fake_client(flavour), database="app")
    try:
        subscription = store.subscribe(poll_interval=NO_POLLING)
        waiting = asyncio.ensure_future(subscription.next_batch(10))
        await asyncio.sleep(0)
        await store.append("s", [Noted(aggregate_id="s", text="hello")])
        (received,) = await asyncio.wait_for(waiting, PATIENCE)
        assert received.position == 1
        assert wakeups(store).state is StreamState.UNAVAILABLE
        await subscription.aclose()
    finally:
        await store.close()
