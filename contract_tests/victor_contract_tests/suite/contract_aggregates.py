"""The aggregate repository on every backend: load, save, and saves that race."""

from __future__ import annotations

import asyncio

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.sample_aggregates import Account
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import AggregateNotFound, AggregateRepository, EventStore
from victor_core.backend import Capability, ConcurrencyError, ConfigurationError

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]


async def test_a_saved_aggregate_loads_with_its_state_from_another_store(
    open_event_store: OpenEventStore,
) -> None:
    writer = AggregateRepository(await open_event_store(), Account)
    account = Account.open("acct-1", "ann")
    account.deposit(10)
    account.withdraw(3)

    result = await writer.save(account)

    assert result is not None
    assert result.version == 3
    assert account.pending_events == []
    assert account.committed_version == 3
    loaded = await AggregateRepository(await open_event_store(), Account).load("acct-1")
    assert (loaded.id, loaded.owner, loaded.balance) == ("acct-1", "ann", 7)
    assert loaded.movements == [10, -3]
    assert loaded.version == loaded.committed_version == 3
    assert loaded.pending_events == []


async def test_saving_again_appends_only_the_new_events(event_store: EventStore) -> None:
    repository = AggregateRepository(event_store, Account)
    await repository.save(Account.open("acct-1", "ann"))

    account = await repository.load("acct-1")
    account.deposit(5)
    await repository.save(account)
    assert await repository.save(account) is None  # nothing pending: nothing written

    stored = await event_store.read_stream("acct-1")
    assert [type(r.event).__name__ for r in stored] == ["Opened", "Deposited"]
    assert (await repository.load("acct-1")).balance == 5


async def test_a_missing_aggregate_is_not_found(event_store: EventStore) -> None:
    repository = AggregateRepository(event_store, Account)

    with pytest.raises(AggregateNotFound, match="nobody"):
        await repository.load("nobody")
    assert not await repository.exists("nobody")


async def test_an_aggregate_without_an_id_is_refused_and_nothing_is_written(
    event_store: EventStore,
) -> None:
    repository = AggregateRepository(event_store, Account)
    nameless = Account()
    nameless.deposit(1)

    with pytest.raises(ConfigurationError, match="without an id"):
        await repository.save(nameless)

    assert [r async for r in event_store.read_all()] == []
    assert nameless.pending_events != []


async def test_of_two_saves_from_the_same_loaded_version_the_second_conflicts_and_writes_nothing(
    open_event_store: OpenEventStore,
) -> None:
    first = AggregateRepository(await open_event_store(), Account)
    second = AggregateRepository(await open_event_store(), Account)
    await first.save(Account.open("acct-1", "ann"))
    mine = await first.load("acct-1")
    theirs = await second.load("acct-1")

    mine.deposit(100)
    theirs.deposit(1)
    theirs.deposit(2)
    await first.save(mine)
    with pytest.raises(ConcurrencyError) as conflict:
        await second.save(theirs)

    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert (await first.load("acct-1")).movements == [100]
    assert len(theirs.pending_events) == 2  # still pending: the caller reloads and retries
    retried = await second.load("acct-1")
    retried.deposit(3)
    await second.save(retried)
    assert (await first.load("acct-1")).movements == [100, 3]


async def test_racing_saves_have_one_winner_each_round_and_lose_no_update(
    open_event_store: OpenEventStore,
) -> None:
    repositories = [AggregateRepository(await open_event_store(), Account) for _ in range(4)]
    await repositories[0].save(Account.open("hot", "everyone"))
    conflicts = 0

    async def deposit_with_retries(repository: AggregateRepository[Account], amount: int) -> None:
        nonlocal conflicts
        while True:
            account = await repository.load("hot")
            account.deposit(amount)
            try:
                await repository.save(account)
                return
            except ConcurrencyError:
                conflicts += 1
                await asyncio.sleep(0)

    amounts = [number * 10 + round_ for number in range(4) for round_ in range(1, 6)]
    await asyncio.gather(
        *(deposit_with_retries(repositories[amount // 10], amount) for amount in amounts)
    )

    final = await repositories[0].load("hot")
    assert sorted(final.movements) == sorted(amounts)
    assert final.balance == sum(amounts)
    assert final.version == 1 + len(amounts)


async def test_creating_the_same_aggregate_twice_conflicts(
    open_event_store: OpenEventStore,
) -> None:
    first = AggregateRepository(await open_event_store(), Account)
    second = AggregateRepository(await open_event_store(), Account)

    outcomes = await asyncio.gather(
        first.save(Account.open("acct-1", "ann")),
        second.save(Account.open("acct-1", "bob")),
        return_exceptions=True,
    )

    assert sum(isinstance(outcome, ConcurrencyError) for outcome in outcomes) == 1
    loaded = await first.load("acct-1")
    assert loaded.version == 1
    assert loaded.owner in {"ann", "bob"}


async def test_a_repository_refuses_an_aggregate_of_another_class(
    event_store: EventStore,
) -> None:
    from victor_core import Aggregate

    class Other(Aggregate):
        def _apply_Deposited(self, event: Deposited) -> None:
            self.id = event.aggregate_id

    other = Other()
    other.apply(Deposited(amount=1, aggregate_id="x"))

    with pytest.raises(ConfigurationError, match="Account"):
        await AggregateRepository(event_store, Account).save(other)  # type: ignore[arg-type]
