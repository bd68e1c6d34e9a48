"""A failed commit that wrote one entity or one stream several times leaves it as it was.

A transaction manager that takes a failed commit back by hand (an undo log, compensating
writes) restores each thing it touched to what that one write replaced; when a commit
wrote the same entity or stream twice, only undoing in exactly the reverse order gets back
to the state before the commit. Commits here go straight to the backend's
:class:`~victor_core.backend.TransactionManager`, as the unit of work hands them over.
"""

from __future__ import annotations

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.logs import shown_by_read_all
from victor_contract_tests.suite.sample_entities import Ledger
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import Backend, EventStore, RecordedEvent, Repository
from victor_core.backend import (
    AppendEvents,
    Capability,
    ConcurrencyError,
    DocumentRepository,
    InsertDocuments,
    NewDocument,
    RemoveDocument,
    ReplaceDocument,
    TransactionManager,
    Write,
    WriteRefused,
    find_transaction_manager,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.TRANSACTIONS)]

AS_IT_WAS = "a failed commit must leave everything it wrote, however often, exactly as it was"


def manager_for(backend: Backend, resource: object) -> TransactionManager:
    manager = backend.transaction_manager(resource)
    assert isinstance(manager, TransactionManager), (
        f"a backend declaring TRANSACTIONS gives {type(resource).__name__} a TransactionManager"
    )
    return manager


OFFERED = (
    "a unit of work asks the stores its writes name for their transaction manager: each "
    "DocumentStore, EventRecorder and CheckpointStore of a backend declaring TRANSACTIONS "
    "returns from transaction_manager() a manager with the key of the one the hook gives"
)


def same_manager(backend: Backend, resource: object, store: object) -> None:
    offered = find_transaction_manager(store)
    assert offered is not None, f"{type(store).__name__}.transaction_manager(): {OFFERED}"
    assert offered.key == manager_for(backend, resource).key, OFFERED


@requires(Capability.REPOSITORY)
async def test_a_document_store_offers_the_manager_the_hook_gives_for_its_repository(
    victor_backend: Backend, open_repository: OpenRepository
) -> None:
    repo = await open_repository(Ledger)
    assert isinstance(repo, DocumentRepository), "this check needs the backend's document store"
    same_manager(victor_backend, repo, repo.store)


@requires(Capability.EVENT_STORE)
async def test_a_recorder_and_its_checkpoints_offer_the_manager_the_hook_gives(
    victor_backend: Backend, open_event_store: OpenEventStore
) -> None:
    store = await open_event_store()
    same_manager(victor_backend, store, store.recorder)
    if victor_backend.info.supports(Capability.EXACTLY_ONCE) and store.checkpoints is not None:
        same_manager(victor_backend, store.checkpoints, store.checkpoints)


def document(repo: DocumentRepository[Ledger], ledger: Ledger, total: int, version: int) -> str:
    return repo.codec.encode(ledger, total=total, version=version)


async def state_of(repo: Repository[Ledger]) -> list[tuple[str, str, int, int, object]]:
    return [(x.id, x.owner, x.total, x.version, x.updated_at) for x in await repo.find()]


@requires(Capability.REPOSITORY)
async def test_one_entity_written_several_times_by_a_failed_commit_is_left_as_it_was(
    victor_backend: Backend, open_repository: OpenRepository
) -> None:
    repo = await open_repository(Ledger)
    assert isinstance(repo, DocumentRepository), "this check needs the backend's document store"
    await repo.add_many(Ledger(id=f"l{n}", owner=f"o{n}", total=n) for n in range(1, 4))
    before = await state_of(repo)
    ledger = await repo.get("l2")
    assert ledger is not None
    store = repo.store
    writes: list[Write] = [
        ReplaceDocument(store, "l2", document(repo, ledger, 20, 2), repo.version_check(1)),
        ReplaceDocument(store, "l2", document(repo, ledger, 30, 3), repo.version_check(2)),
        RemoveDocument(store, "l2"),
        InsertDocuments(store, (NewDocument("l2", document(repo, ledger, 40, 1)),)),
        ReplaceDocument(store, "l2", document(repo, ledger, 50, 2), repo.version_check(1)),
        InsertDocuments(store, (NewDocument("l3", document(repo, ledger, 0, 1)),)),  # taken
    ]

    with pytest.raises(WriteRefused):
        await manager_for(victor_backend, repo).commit(writes)

    reader = await open_repository(Ledger)
    assert await state_of(reader) == before, AS_IT_WAS
    assert await state_of(repo) == before, AS_IT_WAS


def events_of(recorded: list[RecordedEvent]) -> list[tuple[int, int, str]]:
    return [(r.position, r.version, r.event.id) for r in recorded]


@requires(Capability.EVENT_STORE)
async def test_one_stream_appended_to_several_times_by_a_failed_commit_is_left_as_it_was(
    victor_backend: Backend, open_event_store: OpenEventStore
) -> None:
    store = await open_event_store()
    await store.append("acct", [Deposited(amount=1), Deposited(amount=2)])
    last = await store.append("other", Deposited(amount=3))
    await shown_by_read_all(store, last.positions[-1])
    before = events_of([r async for r in store.read_all()])

    def records(*amounts: int) -> tuple[object, ...]:
        return tuple(store.serializer.serialize(Deposited(amount=a), "acct") for a in amounts)

    writes: list[Write] = [
        AppendEvents(store.recorder, "acct", records(10, 11), 2),  # type: ignore[arg-type]
        AppendEvents(store.recorder, "acct", records(12), 4),  # type: ignore[arg-type]
        AppendEvents(store.recorder, "other", records(13), 1),  # type: ignore[arg-type]
        AppendEvents(store.recorder, "acct", records(14), 99),  # type: ignore[arg-type]
    ]

    with pytest.raises(ConcurrencyError):
        await manager_for(victor_backend, store).commit(writes)

    reader: EventStore = await open_event_store()
    for source in (store, reader):
        assert events_of([r async for r in source.read_all()]) == before, AS_IT_WAS
        assert await source.stream_version("acct") == 2, AS_IT_WAS
        assert [r.event.amount for r in await source.read_stream("acct")] == [1, 2], AS_IT_WAS  # type: ignore[attr-defined]
    after = await store.append("acct", Deposited(amount=5), expected_version=2)
    assert after.version == 3, "the stream goes on from where it was before the failed commit"
