"""The projection runner's own behaviour: configuration, following, cancellation.

What the runner promises about storage (resuming, failures, rebuilds, concurrent writers)
is in the contract suite, checked on every backend.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.support.backend import Database, DictCheckpointStore, ListRecorder, list_event_store
from victor_core import (
    CapabilityNotSupported,
    ConfigurationError,
    Event,
    EventStore,
    Projection,
    ProjectionProgress,
    ProjectionRunner,
)

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Counted(Event):
    __event_type__ = "tests.runner.Counted"
    n: int = 0


class Counter(Projection):
    def __init__(self, block_on: int | None = None) -> None:
        self.numbers: list[int] = []
        self.block_on = block_on
        self.blocked = asyncio.Event()
        self.changed = asyncio.Event()

    async def handle_Counted(self, event: Counted) -> None:
        if event.n == self.block_on:
            self.blocked.set()
            await asyncio.Event().wait()  # until cancelled
        self.numbers.append(event.n)
        self.changed.set()

    async def until(self, numbers: list[int]) -> None:
        self.changed.clear()
        while self.numbers != numbers:
            await asyncio.wait_for(self.changed.wait(), 10)
            self.changed.clear()


async def append(store: EventStore, *numbers: int) -> None:
    await store.append("s", [Counted(n=n) for n in numbers])


async def test_run_follows_new_events_until_stopped() -> None:
    store = list_event_store()
    await append(store, 1, 2)
    counter = Counter()
    stop = asyncio.Event()
    runner = ProjectionRunner(store, counter)

    task = asyncio.ensure_future(runner.run(poll_interval=0.01, stop=stop))
    await counter.until([1, 2])
    await append(store, 3)
    await counter.until([1, 2, 3])
    stop.set()
    progress = await task

    assert progress.events == 3
    assert await runner.position() == 3


async def test_a_stop_set_while_catching_up_ends_the_run_after_the_current_batch() -> None:
    """A backlog must not keep a stopping runner (a graceful shutdown) going to its end."""
    store = list_event_store()
    await append(store, *range(1, 11))
    stop = asyncio.Event()

    class StopsAtThree(Counter):
        async def handle_Counted(self, event: Counted) -> None:
            await super().handle_Counted(event)
            if event.n == 3:
                stop.set()

    stopping = StopsAtThree()
    runner = ProjectionRunner(store, stopping, batch_size=2, name="counter")

    progress = await runner.run(poll_interval=10, stop=stop)

    assert stopping.numbers == [1, 2, 3, 4]
    assert (progress.events, progress.position) == (4, 4)
    assert await runner.position() == 4
    resumed = Counter()
    await ProjectionRunner(store, resumed, batch_size=2, name="counter").catch_up()
    assert resumed.numbers == list(range(5, 11))


async def test_a_cancelled_run_keeps_what_it_handled() -> None:
    store = list_event_store()
    await append(store, 1, 2, 3, 4)
    blocked = Counter(block_on=3)
    runner = ProjectionRunner(store, blocked)

    task = asyncio.ensure_future(runner.run())
    await blocked.blocked.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await runner.position() == 2
    resumed = Counter()
    await ProjectionRunner(store, resumed).catch_up()
    assert resumed.numbers == [3, 4]


async def test_checkpoints_can_live_in_another_store() -> None:
    events = list_event_store()
    await append(events, 1, 2)
    elsewhere = DictCheckpointStore(Database())

    await ProjectionRunner(events, Counter(), checkpoints=elsewhere, name="c").catch_up()

    assert await elsewhere.load("c") == 2
    assert events.checkpoints is not None
    assert await events.checkpoints.load("c") == 0


async def test_async_progress_callbacks_are_awaited() -> None:
    store = list_event_store()
    await append(store, 1, 2, 3)
    seen: list[ProjectionProgress] = []

    async def report(progress: ProjectionProgress) -> None:
        await asyncio.sleep(0)
        seen.append(progress)

    await ProjectionRunner(store, Counter(), batch_size=2, on_progress=report).catch_up()

    assert [(p.events, p.position) for p in seen] == [(2, 2), (3, 3)]


async def test_a_store_without_checkpoints_needs_a_checkpoint_store() -> None:
    bare = EventStore(ListRecorder(Database()))

    with pytest.raises(CapabilityNotSupported, match="checkpoints="):
        ProjectionRunner(bare, Counter())
    ProjectionRunner(bare, Counter(), checkpoints=DictCheckpointStore(Database()))


async def test_a_projection_without_reset_cannot_be_rebuilt_and_nothing_changes() -> None:
    store = list_event_store()
    await append(store, 1)
    runner = ProjectionRunner(store, Counter())
    await runner.catch_up()

    with pytest.raises(ConfigurationError, match="reset"):
        await runner.rebuild()

    assert await runner.position() == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [({"batch_size": 0}, "batch_size"), ({"batch_size": 2.5}, "batch_size")],
)
async def test_nonsense_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ProjectionRunner(list_event_store(), Counter(), **options)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Projection"):
        ProjectionRunner(list_event_store(), object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="poll_interval"):
        await ProjectionRunner(list_event_store(), Counter()).run(poll_interval=0)
