"""Snapshots: stored by the backend, taken every N events or on demand, used only when they fit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.sample_aggregates import (
    Account,
    AccountReinterpreted,
    AccountWithMovementsByNumber,
    AccountWithNickname,
    Opened,
    Portfolio,
    Ticket,
    TicketWithPoints,
    Undeclared,
    Unsnapshottable,
)
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import AggregateRepository, EventStore
from victor_core.backend import (
    Capability,
    ConfigurationError,
    SerializationError,
    SnapshotRecord,
    SnapshotRecorder,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE, Capability.SNAPSHOTS)]

TAKEN = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def snapshots_of(store: EventStore) -> SnapshotRecorder:
    assert store.snapshots is not None, "a backend declaring SNAPSHOTS gives stores .snapshots"
    return store.snapshots


def record(stream_id: str, version: int, state: str = "{}") -> SnapshotRecord:
    return SnapshotRecord(
        stream_id=stream_id,
        version=version,
        aggregate_type="victor.contract.Account",
        fingerprint="f" * 32,
        state=state,
        taken_at=TAKEN,
    )


async def make_account(repository: AggregateRepository[Account], deposits: int) -> None:
    account = Account.open("acct-1", "ann")
    for amount in range(1, deposits + 1):
        account.deposit(amount)
    await repository.save(account)


# The recorder: what the backend stores.


async def test_the_latest_snapshot_at_or_below_a_version_is_returned_as_saved(
    open_event_store: OpenEventStore,
) -> None:
    recorder = snapshots_of(await open_event_store())
    for version in (5, 10, 15):
        await recorder.save_snapshot(record("acct-1", version, f'{{"v":{version}}}'))
    await recorder.save_snapshot(record("acct-2", 99))

    reader = snapshots_of(await open_event_store())

    assert await reader.latest_snapshot("acct-1", None) == record("acct-1", 15, '{"v":15}')
    assert (await reader.latest_snapshot("acct-1", 14)) == record("acct-1", 10, '{"v":10}')
    assert (await reader.latest_snapshot("acct-1", 10)) == record("acct-1", 10, '{"v":10}')
    assert await reader.latest_snapshot("acct-1", 4) is None
    assert await reader.latest_snapshot("nobody", None) is None


async def test_a_snapshot_of_the_same_version_replaces_the_old_one(event_store: EventStore) -> None:
    recorder = snapshots_of(event_store)
    await recorder.save_snapshot(record("acct-1", 3, '{"old":1}'))
    await recorder.save_snapshot(record("acct-1", 3, '{"new":2}'))

    assert await recorder.latest_snapshot("acct-1", None) == record("acct-1", 3, '{"new":2}')


async def test_a_stream_is_read_from_its_newest_snapshot_up_to_a_version(
    open_event_store: OpenEventStore,
) -> None:
    writer = await open_event_store()
    await writer.append("acct-1", [Deposited(amount=n) for n in range(1, 7)])
    for version in (2, 4):
        await snapshots_of(writer).save_snapshot(record("acct-1", version, f'{{"v":{version}}}'))
    store = await open_event_store()

    async def read(to_version: int | None) -> tuple[int | None, list[int]]:
        snapshot, recorded = await store.read_from_snapshot("acct-1", to_version=to_version)
        return (None if snapshot is None else snapshot.version), [r.version for r in recorded]

    assert await read(None) == (4, [5, 6])
    assert await read(5) == (4, [5])
    assert await read(4) == (4, [])
    assert await read(3) == (2, [3])
    assert await read(1) == (None, [1])
    assert await read(0) == (None, [])
    snapshot, recorded = await store.read_from_snapshot("acct-1")
    assert snapshot == record("acct-1", 4, '{"v":4}')
    events = [r.event for r in recorded]
    assert [e.amount for e in events if isinstance(e, Deposited)] == [5, 6]
    assert len(events) == 2
    assert await store.read_from_snapshot("nobody") == (None, [])


# The repository: when snapshots are taken and how loads use them.


async def test_a_snapshot_is_stored_when_a_save_passes_a_multiple_of_snapshot_every(
    event_store: EventStore,
) -> None:
    repository = AggregateRepository(event_store, Account, snapshot_every=5)
    account = Account.open("acct-1", "ann")
    account.deposit(1)
    account.deposit(2)
    await repository.save(account)  # versions 1-3: none yet
    assert await snapshots_of(event_store).latest_snapshot("acct-1", None) is None

    for amount in (3, 4, 5):
        account.deposit(amount)
    await repository.save(account)  # 4-6 passes 5: a snapshot at 6
    for amount in (6, 7):
        account.deposit(amount)
    await repository.save(account)  # 7-8: none

    latest = await snapshots_of(event_store).latest_snapshot("acct-1", None)
    assert latest is not None
    assert latest.version == 6
    assert latest.aggregate_type == "victor.contract.Account"


async def test_a_load_starts_from_the_newest_snapshot_and_replays_only_later_events(
    open_event_store: OpenEventStore,
) -> None:
    writer = AggregateRepository(await open_event_store(), Account, snapshot_every=10)
    await make_account(writer, deposits=11)  # 12 events: a snapshot at 12
    account = await writer.load("acct-1")
    account.deposit(100)
    account.deposit(200)
    await writer.save(account)  # 14 events

    reader = AggregateRepository(await open_event_store(), Account, snapshots=True)
    Account.replayed = 0
    loaded = await reader.load("acct-1")

    assert Account.replayed == 2
    assert loaded.balance == sum(range(1, 12)) + 300
    assert loaded.movements == [*range(1, 12), 100, 200]
    assert (loaded.id, loaded.owner, loaded.version, loaded.committed_version) == (
        "acct-1",
        "ann",
        14,
        14,
    )
    loaded.deposit(1)
    await reader.save(loaded)  # the loaded version is right: the save does not conflict
    assert (await writer.load("acct-1")).version == 15


async def test_a_snapshot_taken_on_demand_is_used_by_later_loads(event_store: EventStore) -> None:
    repository = AggregateRepository(event_store, Account, snapshots=True)
    await make_account(repository, deposits=4)
    account = await repository.load("acct-1")

    await repository.take_snapshot(account)
    Account.replayed = 0
    loaded = await repository.load("acct-1")

    assert Account.replayed == 0
    assert loaded.balance == 10
    assert loaded.version == 5


async def test_a_snapshot_of_an_aggregate_with_unsaved_events_is_refused(
    event_store: EventStore,
) -> None:
    repository = AggregateRepository(event_store, Account, snapshots=True)
    account = Account.open("acct-1", "ann")

    with pytest.raises(ConfigurationError, match="unsaved"):
        await repository.take_snapshot(account)
    assert await snapshots_of(event_store).latest_snapshot("acct-1", None) is None


async def test_loads_at_a_version_or_moment_use_a_snapshot_no_newer_than_that(
    event_store: EventStore,
) -> None:
    def minute(number: int) -> datetime:
        return TAKEN + timedelta(minutes=number)

    repository = AggregateRepository(event_store, Account, snapshot_every=4)
    account = Account()
    account.apply(Opened(owner="ann", aggregate_id="acct-1", timestamp=minute(1)))
    for version in range(2, 9):  # deposits of 2..8 at minutes 2..8, saved one by one
        account.apply(Deposited(amount=version, timestamp=minute(version)))
        await repository.save(account)  # snapshots at 4 and 8

    Account.replayed = 0
    at_six = await repository.load("acct-1", at_version=6)
    replayed_for_six = Account.replayed
    Account.replayed = 0
    at_three = await repository.load("acct-1", at_version=3)
    replayed_for_three = Account.replayed
    Account.replayed = 0
    as_of_seven = await repository.load("acct-1", as_of=minute(7) + timedelta(seconds=30))
    replayed_for_seven = Account.replayed

    assert (at_six.version, at_six.movements, replayed_for_six) == (6, [2, 3, 4, 5, 6], 2)
    assert (at_three.version, at_three.movements, replayed_for_three) == (3, [2, 3], 3)
    assert (as_of_seven.version, as_of_seven.balance, replayed_for_seven) == (7, 27, 3)


@pytest.mark.parametrize(
    "changed_class", [AccountWithNickname, AccountReinterpreted, AccountWithMovementsByNumber]
)
async def test_a_snapshot_of_another_shape_of_the_class_is_ignored_for_a_full_replay(
    event_store: EventStore, changed_class: type[Account]
) -> None:
    old = AggregateRepository(event_store, Account, snapshots=True)
    await make_account(old, deposits=5)
    await old.take_snapshot(await old.load("acct-1"))

    changed_class.replayed = 0
    loaded = await AggregateRepository(event_store, changed_class, snapshots=True).load("acct-1")

    assert changed_class.replayed == 6
    assert type(loaded) is changed_class
    assert (loaded.balance, loaded.version) == (15, 6)
    if isinstance(loaded, AccountWithNickname):
        assert loaded.nickname == ""


async def test_a_snapshot_of_another_aggregate_type_on_the_same_stream_is_ignored(
    event_store: EventStore,
) -> None:
    accounts = AggregateRepository(event_store, Account, snapshots=True)
    await make_account(accounts, deposits=2)
    await accounts.take_snapshot(await accounts.load("acct-1"))

    portfolio = await AggregateRepository(event_store, Portfolio, snapshots=True).load("acct-1")

    assert portfolio.tags == {"d1", "d2"}
    assert portfolio.version == 3


async def test_annotated_state_of_every_kind_is_restored_exactly(event_store: EventStore) -> None:
    repository = AggregateRepository(event_store, Portfolio, snapshots=True)
    portfolio = Portfolio()
    portfolio.apply(Opened(owner="x", aggregate_id="pf-1"))
    for amount in (5, 250, 17):
        portfolio.apply(Deposited(amount=amount))
    await repository.save(portfolio)
    replayed = await repository.load("pf-1")
    await repository.take_snapshot(replayed)

    restored = await repository.load("pf-1")

    for name in ("last_change", "total", "tags", "largest", "pair", "counts", "version", "id"):
        assert getattr(restored, name) == getattr(replayed, name), name
        assert type(getattr(restored, name)) is type(getattr(replayed, name)), name
    assert str(restored.total) == str(replayed.total)


async def test_state_a_snapshot_could_not_restore_fails_the_save_before_anything_is_written(
    event_store: EventStore,
) -> None:
    repository = AggregateRepository(event_store, Unsnapshottable, snapshot_every=2)
    aggregate = Unsnapshottable()
    aggregate.apply(Opened(aggregate_id="u-1"))
    aggregate.apply(Deposited(amount=1))

    with pytest.raises(SerializationError, match="annotate"):
        await repository.save(aggregate)

    assert await event_store.stream_version("u-1") == 0
    assert await snapshots_of(event_store).latest_snapshot("u-1", None) is None


async def test_a_snapshot_from_before_the_class_declared_more_state_is_ignored(
    event_store: EventStore,
) -> None:
    """Declared state the events set (not ``__init__``) is part of the class's shape too."""
    old = AggregateRepository(event_store, Ticket, snapshots=True)
    ticket = Ticket()
    ticket.apply(Opened(owner="ann", aggregate_id="t-1"))
    ticket.apply(Deposited(amount=5))
    await old.save(ticket)
    await old.take_snapshot(ticket)

    loaded = await AggregateRepository(event_store, TicketWithPoints, snapshots=True).load("t-1")

    assert type(loaded) is TicketWithPoints
    assert (loaded.owner, loaded.points, loaded.version) == ("ann", 5, 2)


async def test_state_the_class_does_not_declare_fails_the_save_before_anything_is_written(
    event_store: EventStore,
) -> None:
    repository = AggregateRepository(event_store, Undeclared, snapshot_every=1)
    aggregate = Undeclared()
    aggregate.apply(Opened(owner="ann", aggregate_id="u-2"))

    with pytest.raises(SerializationError, match=r"'owner'.*__init__"):
        await repository.save(aggregate)

    assert await event_store.stream_version("u-2") == 0
    assert await snapshots_of(event_store).latest_snapshot("u-2", None) is None
