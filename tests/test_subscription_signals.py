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
