"""A record a subscription cannot decode is never skipped, and never costs the events before it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.backend import Database, ListRecorder
from victor_core import Event, EventStore, EventTypeRegistry, UnknownEventType
from victor_core.backend import EventSerializer

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Known(Event):
    __event_type__ = "tests.decoding.Known"
    n: int = 0


@dataclasses.dataclass
class NotYetKnown(Event):
    __event_type__ = "tests.decoding.NotYetKnown"
    n: int = 0


async def _reader_and_log() -> tuple[EventStore, EventTypeRegistry]:
    """A log holding Known(1), NotYetKnown(2), Known(3), and a reader that knows only Known."""
    log = Database()
    writer = EventStore(ListRecorder(log))
    await writer.append("s", [Known(n=1), NotYetKnown(n=2), Known(n=3)])
    registry = EventTypeRegistry()
    registry.register(Known)
    reader = EventStore(ListRecorder(log), serializer=EventSerializer(registry=registry))
    return reader, registry


async def test_a_batch_delivers_what_it_read_before_an_unreadable_record() -> None:
    reader, registry = await _reader_and_log()
    async with reader.subscribe(poll_interval=0.01) as subscription:
        first = await subscription.next_batch(10)
        with pytest.raises(UnknownEventType):
            await subscription.next_batch(10)
        with pytest.raises(UnknownEventType):  # still first in line, not skipped
            await subscription.next_batch(10)
        registry.register(NotYetKnown)
        rest = await subscription.next_batch(10)

    assert [r.position for r in first] == [1]
    assert [r.position for r in rest] == [2, 3]


async def test_iteration_stops_at_an_unreadable_record_until_it_can_be_read() -> None:
    reader, registry = await _reader_and_log()
    async with reader.subscribe(poll_interval=0.01) as subscription:
        assert (await subscription.__anext__()).position == 1
        for _ in range(2):
            with pytest.raises(UnknownEventType):
                await subscription.__anext__()
        assert subscription.position == 1
        registry.register(NotYetKnown)
        assert [(await subscription.__anext__()).position for _ in range(2)] == [2, 3]
