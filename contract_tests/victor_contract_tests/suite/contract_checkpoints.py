"""The checkpoint store: one position per projection name, shared by every store on the storage."""

from __future__ import annotations

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_core import EventStore
from victor_core.backend import Capability, CheckpointStore, ConfigurationError

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE, Capability.CHECKPOINTS)]


def checkpoints_of(store: EventStore) -> CheckpointStore:
    assert store.checkpoints is not None, "a backend declaring CHECKPOINTS gives .checkpoints"
    return store.checkpoints


async def test_a_projection_never_saved_is_at_position_zero(event_store: EventStore) -> None:
    assert await checkpoints_of(event_store).load("never-ran") == 0


async def test_saved_positions_are_read_back_per_name_and_replaced_by_later_saves(
    event_store: EventStore,
) -> None:
    checkpoints = checkpoints_of(event_store)

    await checkpoints.save("orders", 10)
    await checkpoints.save("invoices", 3)
    await checkpoints.save("orders", 42)

    assert await checkpoints.load("orders") == 42
    assert await checkpoints.load("invoices") == 3


async def test_a_position_can_go_back_to_zero_for_a_rebuild(event_store: EventStore) -> None:
    checkpoints = checkpoints_of(event_store)
    await checkpoints.save("orders", 10)

    await checkpoints.save("orders", 0)

    assert await checkpoints.load("orders") == 0


async def test_another_store_on_the_same_storage_sees_the_checkpoints(
    open_event_store: OpenEventStore,
) -> None:
    await checkpoints_of(await open_event_store()).save("orders", 7)

    assert await checkpoints_of(await open_event_store()).load("orders") == 7


@requires(Capability.DURABILITY)
async def test_checkpoints_survive_closing_every_store(open_event_store: OpenEventStore) -> None:
    first = await open_event_store()
    await checkpoints_of(first).save("orders", 9)
    await first.close()

    assert await checkpoints_of(await open_event_store()).load("orders") == 9


@pytest.mark.parametrize(
    ("name", "position"),
    [("", 1), (None, 1), ("orders", -1), ("orders", "3"), ("orders", True), ("orders", 2**64)],
)
async def test_nonsense_is_refused_and_nothing_is_saved(
    event_store: EventStore, name: object, position: object
) -> None:
    checkpoints = checkpoints_of(event_store)

    with pytest.raises(ConfigurationError):
        await checkpoints.save(name, position)  # type: ignore[arg-type]

    assert await checkpoints.load("orders") == 0
