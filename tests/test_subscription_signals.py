"""What the kernel asks of a backend's AppendSignal: waits while caught up, one close at the end."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.support.backend import Database, ListRecorder
from victor_core import Event, EventStore
from victor_core.backend import AppendBroadcast, AppendSignal

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Pinged(Event):
    __event_type__ = "tests.signals.Pinged"


class ClosingSignal(AppendSignal):
    """The log's own broadcast, remembering whether its subscription released it."""

    def __init__(self, broadcast: AppendBroadcast) -> None:
        self.broadcast = broadcast
        self.closed = 0

    async def wait(self, after: int, seconds: float) -> bool:
        return await self.broadcast.wait(after, seconds)

    async def close(self) -> None:
        self.closed += 1


class SignallingRecorder(ListRecorder):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.signals: list[ClosingSignal] = []

    def append_signal(self) -> ClosingSignal:
        signal = ClosingSignal(self.db.appended)
        self.signals.append(signal)
        return signal


async def test_each_subscription_closes_its_signal_once_when_it_ends() -> None:
    recorder = SignallingRecorder(Database())
    store = EventStore(recorder)
    await store.append("s", Pinged())

    async with store.subscribe() as closed_early:
        await closed_early.__anext__()
    ended_by_store = store.subscribe()
    consumer = asyncio.ensure_future(ended_by_store.next_batch(10))
    await store.append("s", Pinged())
    assert len(await asyncio.wait_for(consumer, 10)) == 2
    waiting = asyncio.ensure_future(ended_by_store.next_batch(10))
    await asyncio.sleep(0.01)
    await store.close()

    assert await asyncio.wait_for(waiting, 10) == []
    assert [signal.closed for signal in recorder.signals] == [1, 1]


async def test_closing_ends_a_waiting_consumer_without_leaving_its_task_cancelled() -> None:
    # The wait runs in the consumer's own task and close() interrupts it by cancelling
    # that task: the task must then go on as if nothing happened, awaiting other things.
    store = EventStore(ListRecorder(Database()))
    subscription = store.subscribe(poll_interval=60)

    async def consume() -> tuple[list[object], int]:
        received = [recorded async for recorded in subscription]
        await asyncio.sleep(0.01)  # a cancellation left pending would surface here
        task = asyncio.current_task()
        assert task is not None
        return received, task.cancelling()

    consumer = asyncio.ensure_future(consume())
    await asyncio.sleep(0.01)
    subscription.close()

    assert await asyncio.wait_for(consumer, 10) == ([], 0)


async def test_a_cancel_from_the_consumers_owner_wins_over_a_close_at_the_same_moment() -> None:
    store = EventStore(ListRecorder(Database()))
    subscription = store.subscribe(poll_interval=60)
    consumer = asyncio.ensure_future(subscription.__anext__())
    await asyncio.sleep(0.01)

    consumer.cancel()
    subscription.close()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(consumer, 10)
    assert consumer.cancelled()
