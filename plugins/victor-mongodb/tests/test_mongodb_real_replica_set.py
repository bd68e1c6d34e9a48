"""What only a real replica set shows: transactions that race, on a database made from nothing,
and subscriptions woken by a change stream.

Run by the ``contract-mongodb-real`` nox session when ``VICTOR_MONGODB_URL`` names a replica
set or a mongos (docs/mongodb.md says how to start one); skipped everywhere else. Each test
gets a fresh database, dropped afterwards. Failover itself is a manual check (docs/mongodb.md,
"Failover, by hand").
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from mongodb_doubles import Note, Noted

from victor_core import (
    Aggregate,
    AggregateRepository,
    ConcurrencyError,
    Entity,
    StaleEntity,
    UnitOfWork,
)
from victor_mongodb import MongoDatabase, MongoEventStore, MongoRepository
from victor_mongodb.capabilities import SERVER_VARIABLE, server_has_transactions
from victor_mongodb.wakeups import wakeups_of

URL = os.environ.get(SERVER_VARIABLE, "").strip()

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not URL, reason=f"{SERVER_VARIABLE} names no MongoDB server"),
]

#: Units of work racing at once: enough to meet, few enough to stay fast.
RACERS = 6


class Notebook(Aggregate):
    def note(self, notebook_id: str, text: str) -> None:
        self.apply(Noted(aggregate_id=notebook_id, text=text))

    def _apply_Noted(self, event: Noted) -> None:
        self.id = event.aggregate_id


@dataclasses.dataclass
class Counter(Entity):
    __entity_name__ = "victor_test_counters"
    value: int = 0
    version: int = 0


@pytest.fixture
async def database() -> AsyncIterator[MongoDatabase]:
    if not server_has_transactions(URL):
        pytest.skip("needs a replica set or a mongos (docs/mongodb.md: rs.initiate())")
    shared = MongoDatabase(URL, database=f"victor_rs_{uuid.uuid4().hex[:16]}")
    try:
        yield shared
    finally:
        await shared.drop()
        await shared.close()


async def test_racing_units_of_work_on_different_streams_all_commit_in_one_order(
    database: MongoDatabase,
) -> None:
    store = MongoEventStore(database)

    async def commit_one(number: int) -> None:
        uow = UnitOfWork()
        uow.register_repository(AggregateRepository(store, Notebook), Notebook)
        notebook = Notebook()
        notebook.note(f"book-{number}", f"note {number}")
        uow.register_new(notebook)
        await uow.commit()

    # Every transaction reads the same last position and conflicts on the next one; the
    # commit runs each again until all are in.
    await asyncio.gather(*(commit_one(n) for n in range(RACERS)))

    records = [record async for record in store.read_all()]
    assert [r.position for r in records] == list(range(1, RACERS + 1))
    assert sorted(r.stream_id for r in records) == sorted(f"book-{n}" for n in range(RACERS))


async def test_racing_units_of_work_on_one_new_stream_let_exactly_one_win(
    database: MongoDatabase,
) -> None:
    store = MongoEventStore(database)

    async def commit_one(number: int) -> bool:
        uow = UnitOfWork()
        uow.register_repository(AggregateRepository(store, Notebook), Notebook)
        notebook = Notebook()
        notebook.note("book-1", f"note {number}")
        uow.register_new(notebook)
        try:
            await uow.commit()
        except ConcurrencyError:
            return False
        return True

    won = await asyncio.gather(*(commit_one(n) for n in range(RACERS)))

    assert won.count(True) == 1
    assert len(await store.read_stream("book-1")) == 1


async def test_racing_updates_of_one_entity_keep_every_change_or_say_stale(
    database: MongoDatabase,
) -> None:
    counters = MongoRepository(Counter, database)
    await counters.add(Counter(id="c1"))

    async def increment() -> bool:
        uow = UnitOfWork()
        uow.register_repository(counters, Counter)
        counter = await uow.get(Counter, "c1")
        assert counter is not None
        counter.value += 1
        try:
            await uow.commit()
        except StaleEntity:
            return False
        return True

    results = await asyncio.gather(*(increment() for _ in range(RACERS)))

    stored = await counters.get("c1")
    assert stored.value == results.count(True) >= 1


async def test_the_first_transaction_on_a_fresh_database_commits(
    database: MongoDatabase,
) -> None:
    store = MongoEventStore(database)
    notes = MongoRepository(Note, database)
    uow = UnitOfWork()
    uow.register_repository(notes, Note)
    uow.register_repository(AggregateRepository(store, Notebook), Notebook)
    notebook = Notebook()
    notebook.note("book-1", "first")
    uow.register_new(Note(id="n1", text="first"))
    uow.register_new(notebook)

    await uow.commit()  # no SnapshotUnavailable: the collections exist before it starts

    assert (await notes.get("n1")).text == "first"
    assert [r.stream_id async for r in store.read_all()] == ["book-1"]


async def test_a_subscription_is_woken_by_another_clients_appends_through_the_change_stream(
    database: MongoDatabase,
) -> None:
    # Another client on the same database stands for another process: only the change
    # stream tells this one's subscription of its appends (it would poll once a minute).
    other = MongoDatabase(URL, database=database.name)
    watching = MongoEventStore(database)
    writing = MongoEventStore(other)
    try:
        await writing.append("book-1", [Noted(aggregate_id="book-1", text="first")])
        subscription = watching.subscribe(poll_interval=60)
        async with asyncio.timeout(30):
            (first,) = await subscription.next_batch(10)
            waiting = asyncio.ensure_future(subscription.next_batch(10))
            while not wakeups_of(database).watching:  # noqa: ASYNC110 - a background task's state
                await asyncio.sleep(0.01)
            await writing.append("book-1", [Noted(aggregate_id="book-1", text="second")])
            (second,) = await waiting
            uow = UnitOfWork()  # a transaction's insert is announced when it commits
            uow.register_repository(AggregateRepository(writing, Notebook), Notebook)
            notebook = Notebook()
            notebook.note("book-2", "third")
            uow.register_new(notebook)
            await uow.commit()
            (third,) = await subscription.next_batch(10)
        assert [first.position, second.position, third.position] == [1, 2, 3]
        await subscription.aclose()
    finally:
        await other.close()
