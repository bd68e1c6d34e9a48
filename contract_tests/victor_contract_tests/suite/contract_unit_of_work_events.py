"""Entities and the events of aggregates, committed by one unit of work in one transaction."""

from __future__ import annotations

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.logs import shown_by_read_all
from victor_contract_tests.suite.sample_aggregates import Account
from victor_contract_tests.suite.sample_entities import Ledger, Member
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import (
    AggregateRepository,
    Event,
    EventDispatcher,
    EventStore,
    Projection,
    UnitOfWork,
)
from victor_core.backend import (
    Capability,
    ConcurrencyError,
    ConfigurationError,
    EntityAlreadyExists,
)

pytestmark = [
    pytest.mark.asyncio,
    requires(Capability.REPOSITORY, Capability.EVENT_STORE, Capability.TRANSACTIONS),
]


class Deposits(Projection):
    def __init__(self) -> None:
        self.seen: list[int] = []

    async def handle_Deposited(self, event: Deposited) -> None:
        self.seen.append(event.amount)


async def open_unit(
    open_repository: OpenRepository,
    open_event_store: OpenEventStore,
    dispatcher: EventDispatcher | None = None,
) -> UnitOfWork:
    uow = UnitOfWork(dispatcher=dispatcher)
    uow.register_repository(await open_repository(Member), Member)
    uow.register_repository(await open_repository(Ledger), Ledger)
    uow.register_repository(AggregateRepository(await open_event_store(), Account), Account)
    return uow


async def stream_types(store: EventStore, stream_id: str) -> list[str]:
    return [type(r.event).__name__ for r in await store.read_stream(stream_id)]


async def test_entities_and_events_commit_together(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    uow = await open_unit(open_repository, open_event_store)
    account = Account.open("acct-1", "ann")
    account.deposit(10)
    uow.register_new(Member(id="ann", name="Ann"))
    uow.register_new(account)

    await uow.commit()

    assert await stream_types(await open_event_store(), "acct-1") == ["Opened", "Deposited"]
    assert [m.id for m in await (await open_repository(Member)).find()] == ["ann"]
    assert account.pending_events == []
    assert account.committed_version == 2


async def test_a_loaded_aggregate_is_tracked_and_its_new_events_saved(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    await AggregateRepository(await open_event_store(), Account).save(Account.open("acct-1", "ann"))
    uow = await open_unit(open_repository, open_event_store)

    account = await uow.get(Account, "acct-1")
    assert account is not None
    assert await uow.get(Account, "acct-1") is account
    assert await uow.get(Account, "nobody") is None
    assert not uow.has_changes()
    account.deposit(5)  # applying an event is the change: no registration needed
    assert uow.has_changes()
    await uow.commit()

    assert await stream_types(await open_event_store(), "acct-1") == ["Opened", "Deposited"]
    assert not uow.has_changes()


async def test_an_aggregate_changed_elsewhere_fails_the_commit_and_nothing_is_written(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    await AggregateRepository(await open_event_store(), Account).save(Account.open("acct-1", "ann"))
    uow = await open_unit(open_repository, open_event_store)
    uow.register_new(Member(id="ann", name="Ann"))  # written first, then taken back
    account = await uow.get(Account, "acct-1")
    assert account is not None
    elsewhere = AggregateRepository(await open_event_store(), Account)
    theirs = await elsewhere.load("acct-1")
    theirs.deposit(100)
    await elsewhere.save(theirs)

    account.deposit(1)
    with pytest.raises(ConcurrencyError):
        await uow.commit()

    assert (await elsewhere.load("acct-1")).balance == 100
    assert await (await open_repository(Member)).find() == []
    assert len(account.pending_events) == 1  # still pending: reload and redo


async def test_a_failure_after_the_events_takes_the_events_back(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    await (await open_repository(Member)).add(Member(id="taken", name="First"))
    uow = await open_unit(open_repository, open_event_store)
    account = Account.open("acct-1", "ann")
    uow.register_new(account)
    uow.register_new(Member(id="taken", name="Second"))

    with pytest.raises(EntityAlreadyExists):
        await uow.commit()

    store = await open_event_store()
    assert await store.read_stream("acct-1") == []
    assert [r async for r in store.read_all()] == []


async def test_creating_an_aggregate_that_exists_is_a_conflict(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    await AggregateRepository(await open_event_store(), Account).save(Account.open("acct-1", "ann"))
    uow = await open_unit(open_repository, open_event_store)
    uow.register_new(Account.open("acct-1", "bob"))

    with pytest.raises(ConcurrencyError):
        await uow.commit()

    assert await stream_types(await open_event_store(), "acct-1") == ["Opened"]


async def test_events_are_dispatched_after_the_commit_and_never_for_a_failed_one(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    dispatcher = EventDispatcher()
    deposits = dispatcher.register(Deposits())
    uow = await open_unit(open_repository, open_event_store, dispatcher)
    await (await open_repository(Member)).add(Member(id="taken", name="First"))

    failing = Account.open("acct-1", "ann")
    failing.deposit(1)
    uow.register_new(failing)
    clash = Member(id="taken", name="Second")
    uow.register_new(clash)
    with pytest.raises(EntityAlreadyExists):
        await uow.commit()
    assert deposits.seen == []

    uow.register_deleted(clash)
    failing.deposit(2)
    await uow.commit()
    assert deposits.seen == [1, 2]


async def test_events_reach_a_plain_async_callable_in_commit_order(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    received: list[str] = []

    async def receive(event: Event) -> None:
        received.append(f"{event.aggregate_id}:{type(event).__name__}")

    uow = UnitOfWork(dispatcher=receive)
    uow.register_repository(await open_event_store(), Account)  # the store itself will do
    first, second = Account.open("a1", "ann"), Account.open("a2", "bob")
    second.deposit(3)
    uow.register_new(first)
    uow.register_new(second)

    await uow.commit()

    assert received == ["a1:Opened", "a2:Opened", "a2:Deposited"]
    store = await open_event_store()
    await shown_by_read_all(store, (await store.read_stream("a2"))[-1].position)
    positions = {r.stream_id: r.position async for r in store.read_all()}
    assert positions["a1"] < positions["a2"]


async def test_aggregates_cannot_be_deleted(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    uow = await open_unit(open_repository, open_event_store)

    with pytest.raises(ConfigurationError, match="never"):
        uow.register_deleted(Account.open("acct-1", "ann"))
