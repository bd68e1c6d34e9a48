"""Compare-and-set checkpoints and leases: one runner at a time moves a projection on."""

from __future__ import annotations

import asyncio

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_core import CheckpointConflict, EventStore
from victor_core.backend import Capability, CheckpointStore, ConfigurationError

pytestmark = [
    pytest.mark.asyncio,
    requires(Capability.EVENT_STORE, Capability.CHECKPOINTS, Capability.CHECKPOINT_LEASES),
]


def checkpoints_of(store: EventStore) -> CheckpointStore:
    assert store.checkpoints is not None, "a backend declaring CHECKPOINTS gives .checkpoints"
    return store.checkpoints


async def test_compare_and_set_moves_a_checkpoint_from_where_it_is(
    event_store: EventStore,
) -> None:
    checkpoints = checkpoints_of(event_store)

    await checkpoints.compare_and_set("orders", 0, 5)
    await checkpoints.compare_and_set("orders", 5, 9)

    assert await checkpoints.load("orders") == 9


async def test_compare_and_set_from_the_wrong_position_changes_nothing(
    event_store: EventStore,
) -> None:
    checkpoints = checkpoints_of(event_store)
    await checkpoints.save("orders", 7)

    with pytest.raises(CheckpointConflict) as raised:
        await checkpoints.compare_and_set("orders", 3, 12)

    assert (raised.value.expected, raised.value.found) == (3, 7)
    assert await checkpoints.load("orders") == 7, "a refused compare-and-set wrote nothing"


async def test_of_two_runners_from_one_checkpoint_exactly_one_advances_it(
    open_event_store: OpenEventStore,
) -> None:
    first, second = (
        checkpoints_of(await open_event_store()),
        checkpoints_of(await open_event_store()),
    )
    for round_number in range(5):
        start = await first.load("orders")
        outcomes = await asyncio.gather(
            first.compare_and_set("orders", start, start + 1),
            second.compare_and_set("orders", start, start + 2),
            return_exceptions=True,
        )
        conflicts = [o for o in outcomes if isinstance(o, CheckpointConflict)]
        assert len(conflicts) == 1, (
            f"round {round_number}: two runners saving from one checkpoint both moved it "
            f"({outcomes}); compare-and-set must let exactly one through"
        )
        assert await first.load("orders") in (start + 1, start + 2)


async def test_a_lease_is_held_by_one_owner_until_released(
    open_event_store: OpenEventStore,
) -> None:
    here = checkpoints_of(await open_event_store())
    there = checkpoints_of(await open_event_store())

    assert await here.acquire_lease("orders", "runner-a", 60)
    assert not await there.acquire_lease("orders", "runner-b", 60), (
        "a second runner took a lease another runner holds"
    )
    assert await here.acquire_lease("orders", "runner-a", 60), "the holder renews its lease"
    assert await there.acquire_lease("invoices", "runner-b", 60), "leases are per projection"

    await there.release_lease("orders", "runner-b")  # not the holder: changes nothing
    assert not await there.acquire_lease("orders", "runner-b", 60)
    await here.release_lease("orders", "runner-a")
    assert await there.acquire_lease("orders", "runner-b", 60)


async def test_a_lease_that_ran_out_goes_to_the_next_runner(
    open_event_store: OpenEventStore,
) -> None:
    here = checkpoints_of(await open_event_store())
    there = checkpoints_of(await open_event_store())
    assert await here.acquire_lease("orders", "runner-a", 0.05)

    await asyncio.sleep(0.1)

    assert await there.acquire_lease("orders", "runner-b", 60), (
        "a lease whose holder stopped renewing it must be taken over"
    )
    assert not await here.acquire_lease("orders", "runner-a", 60)


async def test_racing_runners_take_a_free_lease_once(open_event_store: OpenEventStore) -> None:
    stores = [checkpoints_of(await open_event_store()) for _ in range(4)]

    taken = await asyncio.gather(
        *(store.acquire_lease("orders", f"runner-{n}", 60) for n, store in enumerate(stores))
    )

    assert taken.count(True) == 1, f"a free lease was taken by {taken.count(True)} runners"


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda c: c.compare_and_set("p", -1, 2), "checkpoint"),
        (lambda c: c.compare_and_set("", 0, 2), "projection names"),
        (lambda c: c.acquire_lease("p", "", 5), "owner"),
        (lambda c: c.acquire_lease("p", "a", 0), "lease"),
    ],
)
async def test_bad_checkpoint_arguments_are_refused_saying_which(
    event_store: EventStore, call: object, named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        await call(checkpoints_of(event_store))  # type: ignore[operator]


async def test_load_all_lists_every_saved_checkpoint(event_store: EventStore) -> None:
    checkpoints = checkpoints_of(event_store)
    assert await checkpoints.load_all() == {}

    await checkpoints.save("orders", 4)
    await checkpoints.compare_and_set("invoices", 0, 2)

    assert await checkpoints.load_all() == {"orders": 4, "invoices": 2}
