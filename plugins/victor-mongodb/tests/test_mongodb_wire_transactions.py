"""Transactions through the real driver against a scripted replica set.

The server's replies are those of a real deployment under contention or failover: a write
conflict, a snapshot that is no longer available, a commit whose result is unknown. What is
checked is what a user relies on: the unit of work runs its transaction again (or sends its
commit again) as PyMongo's ``with_transaction`` does, and what still fails is an error that
says what to do, never a commit reported that did not happen.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pymongo
import pytest

pytest.importorskip("mockupdb", reason="pip install 'victor-mongodb[fake]'")

from mongodb_doubles import Note, Noted
from scripted_server import (
    SNAPSHOT_UNAVAILABLE,
    WRITE_CONCERN_TIMEOUT,
    WRITE_CONFLICT,
    ScriptedServer,
    cursor,
)

from victor_core import (
    Aggregate,
    AggregateRepository,
    BackendError,
    CapabilityNotSupported,
    Command,
    CommandResult,
    ConcurrencyError,
    Entity,
    HandlerRegistry,
    Mediator,
    RetryCommandMiddleware,
    StaleEntity,
    TransientError,
    UnitOfWork,
)
from victor_mongodb import MongoDatabase, MongoEventStore, MongoRepository
from victor_mongodb.testing import fake_client
from victor_mongodb.transactions import TRANSACTION_ATTEMPTS

pytestmark = pytest.mark.asyncio


class Notebook(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def note(self, text: str) -> None:
        self.apply(Noted(aggregate_id=self.id, text=text))

    def _apply_Noted(self, event: Noted) -> None:
        self.id = event.aggregate_id
        self.texts.append(event.text)


def new_notebook(text: str) -> Notebook:
    notebook = Notebook()
    notebook.id = "book-1"
    notebook.note(text)
    return notebook


def in_transaction(command: dict[str, Any]) -> bool:
    return command.get("autocommit") is False


def new_note_commit(database: MongoDatabase) -> UnitOfWork:
    uow = UnitOfWork()
    uow.register_repository(MongoRepository(Note, database), Note)
    uow.register_new(Note(id="n1", text="draft"))
    return uow


async def test_a_write_conflict_runs_the_whole_transaction_again(scripted: ScriptedServer) -> None:
    database = MongoDatabase(scripted.url())
    uow = new_note_commit(database)
    scripted.script("insert", WRITE_CONFLICT)

    await uow.commit()

    inserts = [c for c in scripted.sent("insert") if c["insert"] == "victor_test_notes"]
    assert len(inserts) == 2, "the transaction was not run again after a write conflict"
    assert inserts[0]["txnNumber"] != inserts[1]["txnNumber"], "not a new transaction"
    assert all(in_transaction(c) for c in inserts)
    assert len(scripted.sent("commitTransaction")) == 1
    await database.close()


async def test_a_conflict_that_persists_is_a_transient_error_after_a_bounded_number_of_tries(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url())
    uow = new_note_commit(database)
    scripted.always("insert", WRITE_CONFLICT)

    with pytest.raises(TransientError, match="run it again") as raised:
        await uow.commit()

    assert "nothing of the transaction was stored" in str(raised.value).lower()
    assert 1 < len(scripted.sent("insert")) <= 10
    assert scripted.sent("commitTransaction") == []
    assert uow.has_changes(), "the unit of work must still hold what was not written"
    await database.close()


async def test_a_snapshot_lost_to_a_catalog_change_is_retried_not_a_concurrency_error(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url())
    store = MongoEventStore(database)
    uow = UnitOfWork()
    uow.register_repository(AggregateRepository(store, Notebook), Notebook)
    notebook = new_notebook("first")
    uow.register_new(notebook)
    scripted.script("insert", SNAPSHOT_UNAVAILABLE)

    await uow.commit()

    inserts = [c for c in scripted.sent("insert") if c["insert"] == "victor_events"]
    assert len(inserts) == 2
    assert [c["documents"][0]["_id"] for c in inserts] == [1, 1]
    await database.close()


async def test_an_append_that_conflicts_in_a_callers_transaction_is_a_concurrency_error(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url())
    store = MongoEventStore(database)
    scripted.script("insert", WRITE_CONFLICT)

    with pytest.raises(ConcurrencyError) as raised:
        async with database.transaction():
            await store.append("book-1", Noted(text="mine"))

    assert isinstance(raised.value, TransientError)
    assert "nothing of the transaction was stored" in str(raised.value)
    assert scripted.sent("commitTransaction") == []
    await database.close()


async def test_a_commit_with_an_unknown_result_is_sent_again_and_only_the_commit(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url())
    uow = new_note_commit(database)
    scripted.script("commitTransaction", WRITE_CONCERN_TIMEOUT)

    await uow.commit()

    commits = scripted.sent("commitTransaction")
    assert len(commits) == 2, "the commit was not sent again"
    assert commits[0]["txnNumber"] == commits[1]["txnNumber"], "the same transaction"
    assert len([c for c in scripted.sent("insert") if c["insert"] == "victor_test_notes"]) == 1
    assert not uow.has_changes()
    await database.close()


async def test_a_commit_that_stays_unknown_says_to_reread_before_retrying(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url())
    uow = new_note_commit(database)
    scripted.always("commitTransaction", WRITE_CONCERN_TIMEOUT)

    with pytest.raises(BackendError, match="outcome unknown: reread before retrying"):
        await uow.commit()

    assert 1 < len(scripted.sent("commitTransaction")) <= 5
    await database.close()


async def test_collections_and_indexes_are_made_before_the_transaction_starts(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url())
    store = MongoEventStore(database)
    uow = UnitOfWork()
    uow.register_repository(MongoRepository(Note, database), Note)
    uow.register_repository(AggregateRepository(store, Notebook), Notebook)
    notebook = new_notebook("first")
    uow.register_new(Note(id="n1"))
    uow.register_new(notebook)

    await uow.commit()

    names = scripted.names()
    started = next(i for i, c in enumerate(scripted.commands) if c.get("startTransaction"))
    made = [i for i, name in enumerate(names) if name in ("create", "createIndexes")]
    assert made, "no collection or index was created"
    assert max(made) < started, f"schema made inside the transaction: {names}"
    indexed = {c["createIndexes"] for c in scripted.sent("createIndexes")}
    assert {"victor_events", "victor_snapshots", "victor_test_notes"} <= indexed
    await database.close()


async def test_ensure_schema_creates_every_collection_and_index_up_front(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url())
    MongoEventStore(database)
    MongoRepository(Note, database, indexes=["text"])

    await database.ensure_schema()
    await database.ensure_schema()  # once is enough; the second does nothing

    created = [c["create"] for c in scripted.sent("create")]
    assert sorted(created) == sorted(
        [
            "victor_events",
            "victor_snapshots",
            "victor_checkpoints",
            "victor_leases",
            "victor_test_notes",
            "victor_sequences",
        ]
    )
    for command in scripted.sent("createIndexes"):
        for index in command["indexes"]:
            assert index["collation"] == {"locale": "simple"}, index
    assert scripted.sent("createIndexes")[0]["writeConcern"] == {"w": "majority", "j": True}
    await database.close()


async def test_a_transaction_reads_a_majority_snapshot_on_the_primary_and_commits_majority(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url(readPreference="secondaryPreferred"))
    uow = new_note_commit(database)

    await uow.commit()

    first = next(c for c in scripted.commands if c.get("startTransaction"))
    assert first["readConcern"] == {"level": "snapshot"}
    assert "$readPreference" not in first or first["$readPreference"]["mode"] == "primary"
    commit = scripted.sent("commitTransaction")[0]
    assert commit["writeConcern"] == {"w": "majority", "j": True}
    await database.close()


async def test_a_standalone_server_refuses_a_unit_of_work_unless_it_is_best_effort(
    scripted_standalone: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted_standalone.url())
    uow = new_note_commit(database)

    with pytest.raises(CapabilityNotSupported, match="replica set"):
        await uow.commit()
    assert scripted_standalone.sent("insert") == []

    await uow.commit(best_effort=True)

    (insert,) = scripted_standalone.sent("insert")
    assert not in_transaction(insert)
    assert not uow.has_changes()
    await database.close()


@dataclasses.dataclass
class DraftNote(Command):
    note_id: str = ""


async def test_retry_command_middleware_runs_a_command_whose_transaction_kept_conflicting(
    scripted: ScriptedServer,
) -> None:
    database = MongoDatabase(scripted.url())
    notes = MongoRepository(Note, database)
    scripted.script("insert", *[WRITE_CONFLICT] * TRANSACTION_ATTEMPTS)  # the first command

    async def draft(command: DraftNote) -> CommandResult:
        uow = UnitOfWork()
        uow.register_repository(notes, Note)
        uow.register_new(Note(id=command.note_id, text="draft"))
        await uow.commit()
        return CommandResult(success=True)

    mediator = Mediator(registry=HandlerRegistry())
    mediator.command_bus.use(RetryCommandMiddleware(max=1, base_delay=0))
    mediator.register_command(DraftNote, draft)

    assert (await mediator.send(DraftNote(note_id="n1"))).success
    assert len(scripted.sent("commitTransaction")) == 1
    await database.close()


@dataclasses.dataclass
class Label(Entity):
    __entity_name__ = "victor_test_labels"
    name: str = ""


async def test_a_transaction_over_two_databases_of_one_client_makes_both_schemas_first(
    scripted: ScriptedServer,
) -> None:
    client: pymongo.AsyncMongoClient[dict[str, Any]] = pymongo.AsyncMongoClient(scripted.url())
    uow = UnitOfWork()
    uow.register_repository(MongoRepository(Note, client=client, database="app"), Note)
    uow.register_repository(MongoRepository(Label, client=client, database="other"), Label)
    uow.register_new(Note(id="n1"))
    uow.register_new(Label(id="l1"))

    await uow.commit()

    started = next(i for i, c in enumerate(scripted.commands) if c.get("startTransaction"))
    made = {
        (c["$db"], c["createIndexes"]) for c in scripted.commands[:started] if "createIndexes" in c
    }
    assert {("app", "victor_test_notes"), ("other", "victor_test_labels")} <= made
    assert not any("createIndexes" in c for c in scripted.commands[started:])
    await client.close()


@dataclasses.dataclass
class Counter(Entity):
    __entity_name__ = "victor_test_counters"
    value: int = 0
    version: int = 0


async def stored_counter(version: int) -> dict[str, Any]:
    """A counter document exactly as victor stores it (made on the in-process stand-in)."""
    database = MongoDatabase(client=fake_client(), database="app")
    await MongoRepository(Counter, database).add(Counter(id="c1", version=version))
    document = await database.collection("victor_test_counters").find_one({"_id": "c1"})
    assert document is not None
    return dict(document)


async def test_an_update_that_conflicts_and_then_finds_a_newer_version_is_stale(
    scripted: ScriptedServer,
) -> None:
    loaded, newer = await stored_counter(version=0), await stored_counter(version=1)
    scripted.script(
        "find",
        cursor(loaded),  # the unit of work loads version 0
        cursor(loaded),  # the first attempt finds it at version 0
        cursor(),  # the second attempt: no longer at version 0
        cursor(newer),  # what is stored now, to say so
    )
    scripted.script("update", WRITE_CONFLICT)
    counters = MongoRepository(Counter, scripted.url())
    uow = UnitOfWork()
    uow.register_repository(counters, Counter)
    counter = await uow.get(Counter, "c1")
    assert counter is not None
    counter.value += 1

    with pytest.raises(StaleEntity, match="version 1"):
        await uow.commit()

    assert len(scripted.sent("update")) == 1
    assert scripted.sent("commitTransaction") == []
    await counters.close()
