"""The projection runner on every backend: catch up, resume, fail, rebuild, report progress."""

from __future__ import annotations

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.logs import shown_by_read_all
from victor_contract_tests.suite.sample_events import Deposited, Withdrawn
from victor_core import (
    EventStore,
    Projection,
    ProjectionFailed,
    ProjectionProgress,
    ProjectionRunner,
)
from victor_core.backend import Capability

pytestmark = [
    pytest.mark.asyncio,
    requires(Capability.EVENT_STORE, Capability.GLOBAL_ORDER, Capability.CHECKPOINTS),
]


class Balances(Projection):
    """Balances per stream; it has no handler for Withdrawn, so it ignores those."""

    __projection_name__ = "contract-balances"

    def __init__(self, fail_on: int | None = None) -> None:
        self.balances: dict[str, int] = {}
        self.seen: list[str] = []
        self.fail_on = fail_on
        self.resets = 0

    async def handle_Deposited(self, event: Deposited) -> None:
        if event.amount == self.fail_on:
            raise ValueError(f"cannot handle {event.amount}")
        self.seen.append(event.id)
        self.balances[event.aggregate_id] = self.balances.get(event.aggregate_id, 0) + event.amount

    async def reset(self) -> None:
        self.balances.clear()
        self.seen.clear()
        self.resets += 1


async def deposit(store: EventStore, *amounts: int, stream: str = "acct") -> list[str]:
    """Append deposits and wait until ``read_all``, which a runner reads, shows them."""
    events = [Deposited(amount=amount) for amount in amounts]
    appended = await store.append(stream, events)
    await shown_by_read_all(store, appended.positions[-1])
    return [event.id for event in events]


async def test_catch_up_hands_over_every_event_once_and_saves_the_last_position(
    event_store: EventStore,
) -> None:
    ids = await deposit(event_store, 1, 2, 3, stream="a")
    await event_store.append("a", Withdrawn(amount=1))
    ids += await deposit(event_store, 10, stream="b")
    projection = Balances()
    runner = ProjectionRunner(event_store, projection, batch_size=2)

    progress = await runner.catch_up()

    everything = [r async for r in event_store.read_all()]
    assert projection.seen == ids
    assert projection.balances == {"a": 6, "b": 10}
    assert progress.events == 5  # the ignored Withdrawn included
    assert progress.position == everything[-1].position == await runner.position()
    assert progress.name == "contract-balances"
    assert (await runner.catch_up()).events == 0  # nothing new: nothing handed over twice


async def test_a_restarted_runner_resumes_after_its_checkpoint(
    open_event_store: OpenEventStore,
) -> None:
    first_store = await open_event_store()
    before = await deposit(first_store, 1, 2, 3)
    first = Balances()
    await ProjectionRunner(first_store, first, batch_size=2).catch_up()
    await first_store.close()  # the "process" stops

    second_store = await open_event_store()
    after = await deposit(second_store, 4, 5)
    second = Balances()
    progress = await ProjectionRunner(second_store, second, batch_size=2).catch_up()

    assert first.seen == before
    assert second.seen == after
    assert progress.events == 2


async def test_a_failing_handler_stops_the_run_with_the_checkpoint_just_before_its_event(
    event_store: EventStore,
) -> None:
    ids = await deposit(event_store, 1, 2, 3, 4, 5)
    failing = Balances(fail_on=4)
    runner = ProjectionRunner(event_store, failing, batch_size=10)

    with pytest.raises(ProjectionFailed, match="contract-balances") as caught:
        await runner.catch_up()

    everything = [r async for r in event_store.read_all()]
    assert isinstance(caught.value.__cause__, ValueError)
    assert str(everything[3].position) in str(caught.value)
    assert await runner.position() == everything[2].position
    fixed = Balances()
    await ProjectionRunner(event_store, fixed).catch_up()
    assert failing.seen + fixed.seen == ids


async def test_a_rebuild_resets_the_projection_and_replays_everything(
    event_store: EventStore,
) -> None:
    ids = await deposit(event_store, 1, 2, 3)
    projection = Balances()
    runner = ProjectionRunner(event_store, projection)
    await runner.catch_up()
    projection.balances["acct"] = 999  # a read model gone wrong

    progress = await runner.rebuild()

    assert projection.resets == 1
    assert projection.seen == ids
    assert projection.balances == {"acct": 6}
    assert progress.events == 3


async def test_progress_is_reported_after_each_batch(event_store: EventStore) -> None:
    for start in range(0, 10, 2):
        await deposit(event_store, start + 1, start + 2)
    reports: list[ProjectionProgress] = []
    runner = ProjectionRunner(event_store, Balances(), batch_size=3, on_progress=reports.append)

    final = await runner.catch_up()

    assert [report.events for report in reports] == [3, 6, 9, 10]
    positions = [report.position for report in reports]
    assert positions == sorted(set(positions))
    assert reports[-1] == final
    assert all(report.rate >= 0 and report.elapsed >= 0 for report in reports)


async def test_a_rebuild_reports_how_far_through_the_log_it_is(event_store: EventStore) -> None:
    await deposit(event_store, *range(1, 11))
    head = await event_store.last_position()
    positions = [r.position async for r in event_store.read_all()]
    runner = ProjectionRunner(event_store, Balances(), batch_size=4)
    await runner.catch_up()
    reports: list[ProjectionProgress] = []
    runner.on_progress = reports.append

    final = await runner.rebuild()

    reached = [positions[3], positions[7], positions[9]]
    assert [report.position for report in reports] == reached
    assert [report.head for report in reports] == [head] * 3
    assert [report.remaining for report in reports] == [head - p for p in reached]
    assert [report.fraction for report in reports] == [p / head for p in reached]
    assert final.fraction == 1.0
    assert final.remaining == 0


async def test_two_projections_keep_separate_checkpoints(event_store: EventStore) -> None:
    await deposit(event_store, 1, 2)
    ahead = ProjectionRunner(event_store, Balances(), name="ahead")
    await ahead.catch_up()
    await deposit(event_store, 3)

    behind = Balances()
    await ProjectionRunner(event_store, behind, name="behind").catch_up()
    again = Balances()
    await ProjectionRunner(event_store, again, name="ahead").catch_up()

    assert behind.balances == {"acct": 6}
    assert again.balances == {"acct": 3}
