"""Loading aggregates as they were: at a version, and at a point in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from victor_contract_tests.plugin import requires
from victor_contract_tests.suite.sample_aggregates import Account, Opened
from victor_contract_tests.suite.sample_events import Deposited, Withdrawn
from victor_core import AggregateNotFound, AggregateRepository, EventStore
from victor_core.backend import Capability, ConfigurationError

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return NOON + timedelta(minutes=minutes)


async def history(store: EventStore) -> None:
    """acct-1: opened at 12:00, +10 at 12:10, +20 at 12:20, -5 at 12:30."""
    await store.append(
        "acct-1",
        [
            Opened(owner="ann", aggregate_id="acct-1", timestamp=at(0)),
            Deposited(amount=10, timestamp=at(10)),
            Deposited(amount=20, timestamp=at(20)),
            Withdrawn(amount=5, timestamp=at(30)),
        ],
    )


async def test_load_at_each_version_gives_the_state_after_that_many_events(
    event_store: EventStore,
) -> None:
    await history(event_store)
    repository = AggregateRepository(event_store, Account)

    balances = [(await repository.load("acct-1", at_version=v)).balance for v in (1, 2, 3, 4)]
    current = await repository.load("acct-1")

    assert balances == [0, 10, 30, 25]
    assert [(await repository.load("acct-1", at_version=v)).version for v in (1, 4)] == [1, 4]
    assert current.balance == 25


async def test_a_version_the_stream_has_not_reached_is_not_found(event_store: EventStore) -> None:
    await history(event_store)
    repository = AggregateRepository(event_store, Account)

    with pytest.raises(AggregateNotFound, match="has 4 events"):
        await repository.load("acct-1", at_version=5)
    with pytest.raises(ConfigurationError, match="at_version"):
        await repository.load("acct-1", at_version=0)
    with pytest.raises(ConfigurationError, match="not both"):
        await repository.load("acct-1", at_version=1, as_of=NOON)


@pytest.mark.parametrize(
    ("moment", "balance", "version"),
    [
        (at(0), 0, 1),  # inclusive: an event at exactly that moment counts
        (at(15), 10, 2),
        (at(20), 30, 3),
        (at(29) + timedelta(seconds=59, microseconds=999999), 30, 3),
        (at(30), 25, 4),
        (at(60 * 24 * 365), 25, 4),
    ],
)
async def test_load_as_of_a_moment_gives_the_state_at_that_moment(
    event_store: EventStore, moment: datetime, balance: int, version: int
) -> None:
    await history(event_store)
    repository = AggregateRepository(event_store, Account)

    loaded = await repository.load("acct-1", as_of=moment)

    assert (loaded.balance, loaded.version) == (balance, version)
    assert await event_store.version_at("acct-1", moment) == version


async def test_moments_in_other_time_zones_and_naive_ones_mean_the_same_instant(
    event_store: EventStore,
) -> None:
    await history(event_store)
    repository = AggregateRepository(event_store, Account)
    plus_two = timezone(timedelta(hours=2))

    in_paris = await repository.load("acct-1", as_of=datetime(2024, 5, 1, 14, 20, tzinfo=plus_two))
    naive_utc = await repository.load("acct-1", as_of=datetime(2024, 5, 1, 12, 20))

    assert in_paris.balance == naive_utc.balance == 30


async def test_before_its_first_event_an_aggregate_did_not_exist(event_store: EventStore) -> None:
    await history(event_store)
    repository = AggregateRepository(event_store, Account)

    with pytest.raises(AggregateNotFound, match="did not exist"):
        await repository.load("acct-1", as_of=at(-1))
    with pytest.raises(AggregateNotFound):
        await repository.load("nobody", as_of=at(10))
    assert await event_store.version_at("acct-1", at(-1)) == 0
    assert await event_store.version_at("nobody", at(10)) == 0


async def test_as_of_stops_at_the_first_event_later_than_the_moment(
    event_store: EventStore,
) -> None:
    """Timestamps are the events' own, so they may go backwards; the state is a prefix."""
    await event_store.append(
        "acct-2",
        [
            Opened(owner="bob", aggregate_id="acct-2", timestamp=at(0)),
            Deposited(amount=1, timestamp=at(20)),
            Deposited(amount=2, timestamp=at(10)),  # recorded later, dated earlier
        ],
    )

    assert await event_store.version_at("acct-2", at(15)) == 1
    assert await event_store.version_at("acct-2", at(20)) == 3
    loaded = await AggregateRepository(event_store, Account).load("acct-2", as_of=at(15))
    assert loaded.movements == []


async def test_a_historical_aggregate_cannot_be_saved_over_newer_events(
    event_store: EventStore,
) -> None:
    from victor_core.backend import ConcurrencyError

    await history(event_store)
    repository = AggregateRepository(event_store, Account)
    past = await repository.load("acct-1", at_version=2)
    past.deposit(1)

    with pytest.raises(ConcurrencyError):
        await repository.save(past)
    assert await event_store.stream_version("acct-1") == 4
