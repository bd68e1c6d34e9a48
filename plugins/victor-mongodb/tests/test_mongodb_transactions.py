"""Work on one client inside ``database.transaction()`` joins one multi-document transaction.

The in-process stand-ins have no sessions, so the deployment is made to report a replica
set, the adapter's transaction is recorded, and each collection notes the session every
call carried: on a server, those are exactly the calls that commit or abort together.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mongodb_doubles import FLAVOURS, Interleaving, Note, Noted, SessionRecording

from victor_core import default_registry, utc_now
from victor_core.backend import CapabilityNotSupported, ConcurrencyError, SnapshotRecord
from victor_mongodb import MongoDatabase, MongoEventStore, MongoRepository
from victor_mongodb.document_store import SEQUENCES
from victor_mongodb.event_log import EVENTS
from victor_mongodb.testing import fake_client
from victor_mongodb.transactions import MongoTransactionManager

pytestmark = pytest.mark.asyncio

SESSION = object()
Log = list[tuple[str, str, object]]


@pytest.fixture(params=FLAVOURS)
def client(request: pytest.FixtureRequest) -> Any:
    return fake_client(request.param)


@pytest.fixture
def log() -> Log:
    return []


@pytest.fixture
def replica_set(client: Any, log: Log, monkeypatch: pytest.MonkeyPatch) -> MongoDatabase:
    """A database whose server reports a replica set, with every call's session noted."""
    database = MongoDatabase(client=client, database="app")
    collection = database.collection
    monkeypatch.setattr(
        database,
        "collection",
        lambda name, **options: SessionRecording(collection(name, **options), name, log),
    )

    async def replica_set_member() -> bool:
        return True

    @asynccontextmanager
    async def transaction(**options: object) -> AsyncIterator[object]:
        log.append(("", "start_transaction", None))
        try:
            yield SESSION
        except BaseException:
            log.append(("", "abort_transaction", None))
            raise
        log.append(("", "commit_transaction", None))

    monkeypatch.setattr(database, "supports_transactions", replica_set_member)
    monkeypatch.setattr(database.adapter, "transaction", transaction)
    return database


def writes(log: Log) -> list[tuple[str, str, object]]:
    reads = {"find", "find_one", "count_documents", "aggregate", "index_information"}
    return [call for call in log if call[1] not in reads]


async def test_entities_events_snapshots_and_checkpoints_commit_together(
    replica_set: MongoDatabase, log: Log
) -> None:
    store = MongoEventStore(replica_set)
    notes = MongoRepository(Note, replica_set)
    assert store.snapshots is not None
    assert store.checkpoints is not None
    await notes.add(Note(id="n1", text="draft"))
    await store.append("n1", Noted(text="drafted"))
    log.clear()

    async with replica_set.transaction():
        await notes.add_many([Note(id="n2"), Note(id="n3")])
        await notes.update(Note(id="n1", text="final"))
        await notes.delete("n3")
        await store.append("n1", Noted(text="finalised"), expected_version=1)
        await store.snapshots.save_snapshot(
            SnapshotRecord("n1", 2, "NoteAggregate", "f", "{}", utc_now())
        )
        await store.checkpoints.save("note-list", 2)

    start = [call[1] for call in log].index("start_transaction")
    # The collections and indexes are made before the transaction starts, never inside.
    assert {call[1] for call in log[:start]} <= {"index_information", "create_indexes"}
    log = log[start:]
    assert log[-1][1] == "commit_transaction"
    joined = [call for call in log[1:-1] if call[2] is SESSION]
    outside = [call for call in log[1:-1] if call[2] is not SESSION]
    assert writes(joined) == [
        ("victor_test_notes", "insert_many", SESSION),
        ("victor_test_notes", "replace_one", SESSION),
        ("victor_test_notes", "delete_one", SESSION),
        (EVENTS, "insert_one", SESSION),
        ("victor_snapshots", "replace_one", SESSION),
        ("victor_checkpoints", "update_one", SESSION),
    ]
    # Numbering new entities happens outside, so that transactions never conflict on it.
    assert outside == [(SEQUENCES, "find_one_and_update", None)]


async def test_an_error_inside_aborts_and_is_raised(replica_set: MongoDatabase, log: Log) -> None:
    notes = MongoRepository(Note, replica_set)

    async def change_then_fail() -> None:
        async with replica_set.transaction():
            await notes.add(Note(id="n1"))
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        await change_then_fail()

    assert [call[1] for call in log if call[1].endswith("_transaction")] == [
        "start_transaction",
        "abort_transaction",
    ]


async def test_a_transaction_inside_one_joins_it(replica_set: MongoDatabase, log: Log) -> None:
    manager = MongoTransactionManager(replica_set)

    async with manager.transaction() as outer, replica_set.transaction() as inner:
        assert inner is outer is SESSION

    assert [call[1] for call in log if call[1].endswith("_transaction")] == [
        "start_transaction",
        "commit_transaction",
    ]


async def test_an_append_that_loses_a_race_inside_a_transaction_is_a_concurrency_error(
    client: Any, replica_set: MongoDatabase, log: Log
) -> None:
    store = MongoEventStore(replica_set)
    other = MongoEventStore(client=client, database="app")
    await store.append("order", Noted(text="created"))
    recording = replica_set.collection

    async def the_other_appends_first() -> None:
        # Another process, as far as sessions go: a task with a context of its own.
        appending = other.append("order", Noted(text="theirs"))
        await asyncio.create_task(appending, context=contextvars.Context())

    wrapped = Interleaving(recording(EVENTS), "insert_one", the_other_appends_first)
    replica_set.collection = lambda name, **options: (  # type: ignore[method-assign]
        wrapped if name == EVENTS else recording(name, **options)
    )

    with pytest.raises(ConcurrencyError, match="'order'"):
        async with replica_set.transaction():
            await store.append("order", Noted(text="mine"), expected_version=1)

    assert wrapped.calls == ["insert_one"]  # one attempt: the transaction is spent
    assert [r.event.text for r in await other.read_stream("order")] == ["created", "theirs"]  # type: ignore[attr-defined]


async def test_a_standalone_server_refuses_a_transaction_before_anything_is_written(
    client: Any,
) -> None:
    database = MongoDatabase(client=client, database="app")
    notes = MongoRepository(Note, database)

    with pytest.raises(CapabilityNotSupported, match="replica set"):
        async with database.transaction():
            await notes.add(Note(id="n1"))

    assert await notes.count() == 0


async def test_the_backend_gives_one_manager_per_client(client: Any) -> None:
    backend = default_registry().backend("mongodb")
    database = MongoDatabase(client=client, database="app")
    store = MongoEventStore(database)
    notes = MongoRepository(Note, client=client, database="other")
    elsewhere = MongoEventStore(client=fake_client(), database="app")

    managers = [backend.transaction_manager(r) for r in (store, notes, database, elsewhere)]

    assert all(isinstance(m, MongoTransactionManager) for m in managers)
    assert managers[0].key is managers[1].key is managers[2].key is client
    assert managers[3].key is not client
    assert backend.transaction_manager(object()) is None
