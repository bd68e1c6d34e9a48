"""Projections on subscriptions: follow live, stop gracefully, one active runner, wait_for."""

from __future__ import annotations

import asyncio

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import (
    CheckpointConflict,
    EventStore,
    Projection,
    ProjectionRunner,
    ProjectionTimeout,
)
from victor_core.backend import Capability

pytestmark = [
    pytest.mark.asyncio,
    requires(
        Capability.EVENT_STORE,
        Capability.GLOBAL_ORDER,
        Capability.CHECKPOINTS,
        Capability.SUBSCRIPTIONS,
        Capability.CHECKPOINT_LEASES,
    ),
]

POLL = 0.05
PATIENCE = 20.0
# Long enough that a renewal delayed by a loaded machine never lets the lease lapse; a
# runner that stops releases it, so the handover does not wait it out.
LEASE = 5.0


class Totals(Projection):
    __projection_name__ = "contract-totals"

    def __init__(self) -> None:
        self.amounts: list[int] = []
        self.release = asyncio.Event()
        self.release.set()
        self.entered = asyncio.Event()

    async def handle_Deposited(self, event: Deposited) -> None:
        self.entered.set()
        await self.release.wait()
        self.amounts.append(event.amount)


async def deposit(store: EventStore, *amounts: int) -> int:
    result = await store.append("acct", [Deposited(amount=a) for a in amounts])
    return result.positions[-1]


async def test_run_forever_catches_up_then_follows_and_wait_for_sees_each_write(
    event_store: EventStore,
) -> None:
    await deposit(event_store, 1, 2)
    totals = Totals()
    runner = ProjectionRunner(event_store, totals, poll_interval=POLL)
    running = asyncio.ensure_future(runner.run_forever())

    position = await deposit(event_store, 3)
    await runner.wait_for(position, timeout=PATIENCE)
    assert totals.amounts == [1, 2, 3], "wait_for returned before the projection had the write"
    position = await deposit(event_store, 4)
    await runner.wait_for(position, timeout=PATIENCE)
    assert totals.amounts == [1, 2, 3, 4]

    runner.stop()
    progress = await asyncio.wait_for(running, PATIENCE)
    assert progress.position == position
    assert await runner.position() == position


async def test_wait_for_a_position_not_handled_in_time_raises_a_clear_error(
    event_store: EventStore,
) -> None:
    runner = ProjectionRunner(event_store, Totals(), poll_interval=POLL)
    position = await deposit(event_store, 1)

    with pytest.raises(ProjectionTimeout, match=f"not yet {position}"):
        await runner.wait_for(position, timeout=0.1)


async def test_stopping_mid_batch_finishes_the_batch_and_commits_its_checkpoint(
    event_store: EventStore,
) -> None:
    totals = Totals()
    totals.release.clear()
    runner = ProjectionRunner(event_store, totals, poll_interval=POLL)
    last = await deposit(event_store, 1, 2, 3)
    running = asyncio.ensure_future(runner.run_forever())
    await asyncio.wait_for(totals.entered.wait(), PATIENCE)

    runner.stop()
    totals.release.set()
    await asyncio.wait_for(running, PATIENCE)

    assert totals.amounts == [1, 2, 3]
    assert await runner.position() == last, "a stopped runner committed the batch it had in hand"


async def test_cancelling_mid_batch_finishes_the_batch_and_commits_its_checkpoint(
    event_store: EventStore,
) -> None:
    totals = Totals()
    totals.release.clear()
    runner = ProjectionRunner(event_store, totals, poll_interval=POLL)
    last = await deposit(event_store, 1, 2)
    running = asyncio.ensure_future(runner.run_forever())
    await asyncio.wait_for(totals.entered.wait(), PATIENCE)

    running.cancel()
    await asyncio.sleep(0)
    totals.release.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(running, PATIENCE)

    assert await runner.position() == last


async def test_two_runners_without_a_lease_cannot_both_advance_one_checkpoint(
    open_event_store: OpenEventStore,
) -> None:
    store = await open_event_store()
    last = await deposit(store, 1, 2)
    totals = [Totals(), Totals()]
    runners = []
    for each in totals:
        each.release.clear()
        runners.append(ProjectionRunner(await open_event_store(), each, poll_interval=POLL))
    tasks = [asyncio.ensure_future(runner.run_forever()) for runner in runners]
    for each in totals:  # both have read the checkpoint and hold the same batch
        await asyncio.wait_for(each.entered.wait(), PATIENCE)
    for each in totals:
        each.release.set()

    done, _ = await asyncio.wait(tasks, timeout=PATIENCE, return_when=asyncio.FIRST_EXCEPTION)
    failures = [task.exception() for task in done if task.exception() is not None]
    for runner in runners:
        runner.stop()
    await asyncio.wait(tasks, timeout=PATIENCE)

    assert [type(failure) for failure in failures] == [CheckpointConflict], (
        f"two runners from one checkpoint must not both advance it; got {failures}"
    )
    assert await runners[0].position() == last


async def test_with_a_lease_one_runner_is_active_and_another_takes_over_when_it_stops(
    open_event_store: OpenEventStore,
) -> None:
    writer = await open_event_store()
    totals = [Totals(), Totals()]
    runners = [
        ProjectionRunner(
            await open_event_store(), totals[n], poll_interval=POLL, lease=LEASE, owner=f"r{n}"
        )
        for n in range(2)
    ]
    tasks = [asyncio.ensure_future(runner.run_forever()) for runner in runners]
    position = await deposit(writer, 1, 2)
    await runners[0].wait_for(position, timeout=PATIENCE)
    await asyncio.sleep(0.2)

    assert [runner.active for runner in runners].count(True) == 1, (
        "two runners of one projection were active at once despite the lease"
    )
    holder = 0 if runners[0].active else 1
    other = 1 - holder
    runners[holder].stop()
    await asyncio.wait_for(tasks[holder], PATIENCE)
    position = await deposit(writer, 3)
    await runners[other].wait_for(position, timeout=PATIENCE)

    assert totals[holder].amounts == [1, 2]
    assert totals[other].amounts == [3], "the new runner went on from the last checkpoint"
    runners[other].stop()
    await asyncio.wait_for(tasks[other], PATIENCE)
