"""Exactly once: a projection's read model and its checkpoint commit in one transaction."""

from __future__ import annotations

import dataclasses

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import (
    CheckpointConflict,
    Entity,
    EventStore,
    Projection,
    ProjectionFailed,
    ProjectionRunner,
    Repository,
    UnitOfWork,
)
from victor_core.backend import Capability

pytestmark = [
    pytest.mark.asyncio,
    requires(
        Capability.EVENT_STORE,
        Capability.GLOBAL_ORDER,
        Capability.REPOSITORY,
        Capability.CHECKPOINTS,
        Capability.CHECKPOINT_LEASES,
        Capability.TRANSACTIONS,
        Capability.EXACTLY_ONCE,
    ),
]


@dataclasses.dataclass
class Tally(Entity):
    """The read model: the sum of deposits and every position that went into it."""

    __entity_name__ = "victor_contract_tally"
    total: int = 0
    positions: list[int] = dataclasses.field(default_factory=list)


class Tallying(Projection):
    __projection_name__ = "contract-tally"

    def __init__(self, fail_on: int | None = None) -> None:
        self.fail_on = fail_on

    async def handle_Deposited(self, event: Deposited) -> None:
        uow = self.unit_of_work
        assert uow is not None, "a runner given unit_of_work= sets projection.unit_of_work"
        tally = await uow.get(Tally, "tally")
        if tally is None:
            tally = Tally(id="tally")
            uow.register_new(tally)
        tally.total += event.amount
        tally.positions.append(event.amount)
        if event.amount == self.fail_on:
            raise ValueError(f"cannot take {event.amount}")


def runner_for(
    store: EventStore, tallies: Repository[Tally], projection: Tallying, batch_size: int = 10
) -> ProjectionRunner:
    def unit_of_work() -> UnitOfWork:
        uow = UnitOfWork()
        uow.register_repository(tallies, Tally)
        return uow

    return ProjectionRunner(store, projection, unit_of_work=unit_of_work, batch_size=batch_size)


async def tally_of(tallies: Repository[Tally]) -> Tally | None:
    return await tallies.get("tally")


async def test_the_read_model_and_the_checkpoint_are_committed_together(
    event_store: EventStore, open_repository: OpenRepository
) -> None:
    tallies = await open_repository(Tally)
    appended = await event_store.append("acct", [Deposited(amount=n) for n in (1, 2, 3, 4, 5)])

    progress = await runner_for(event_store, tallies, Tallying(), batch_size=2).catch_up()

    tally = await tally_of(tallies)
    assert tally is not None
    assert (tally.total, tally.positions) == (15, [1, 2, 3, 4, 5])
    assert progress.position == appended.positions[-1]


async def test_a_failing_batch_writes_nothing_and_a_rerun_applies_each_event_once(
    event_store: EventStore, open_repository: OpenRepository
) -> None:
    tallies = await open_repository(Tally)
    appended = await event_store.append("acct", [Deposited(amount=n) for n in (1, 2, 3, 4)])
    runner = runner_for(event_store, tallies, Tallying(fail_on=4), batch_size=2)

    with pytest.raises(ProjectionFailed):
        await runner.catch_up()

    tally = await tally_of(tallies)
    assert tally is not None
    assert tally.positions == [1, 2], "the failed batch (3, 4) left no trace in the read model"
    assert await runner.position() == appended.positions[1], (
        "the checkpoint stays before the failed batch"
    )

    runner.projection = Tallying()
    await runner.catch_up()
    tally = await tally_of(tallies)
    assert tally is not None
    assert tally.positions == [1, 2, 3, 4], "after a failure each event is applied exactly once"


async def test_a_checkpoint_moved_by_another_runner_takes_the_read_model_writes_back(
    open_event_store: OpenEventStore, open_repository: OpenRepository
) -> None:
    store = await open_event_store()
    tallies = await open_repository(Tally)
    await store.append("acct", [Deposited(amount=n) for n in (1, 2)])
    assert store.checkpoints is not None

    class Interfering(Tallying):
        __projection_name__ = "contract-tally"

        async def handle_Deposited(self, event: Deposited) -> None:
            await super().handle_Deposited(event)
            assert store.checkpoints is not None
            await store.checkpoints.save(self.projection_name(), 1)  # someone else moved it

    with pytest.raises(CheckpointConflict):
        await runner_for(store, tallies, Interfering()).catch_up()

    assert await tally_of(tallies) is None, (
        "a refused checkpoint must take the batch's read-model writes back with it"
    )
    assert await store.checkpoints.load("contract-tally") == 1
