"""Every backend stores events through the kernel's serializer and gives back equal events."""

from __future__ import annotations

import dataclasses

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.sample_events import (
    Deposited,
    EverythingAttrs,
    EverythingDataclass,
    everything_attrs,
    everything_dataclass,
)
from victor_core import Event, EventStore, EventTypeRegistry, UnknownEventType
from victor_core.backend import Capability, EventSerializer, SerializationError

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]


async def test_a_dataclass_event_with_every_field_kind_round_trips(
    event_store: EventStore,
) -> None:
    original = everything_dataclass()
    await event_store.append("account-1", original)

    [recorded] = await event_store.read_stream("account-1")

    assert type(recorded.event) is EverythingDataclass
    assert recorded.event == original
    restored = recorded.event
    assert isinstance(restored, EverythingDataclass)
    assert restored.when.utcoffset() == original.when.utcoffset()
    assert str(restored.price) == str(original.price)
    assert str(restored.money.amount) == "0.10"
    assert type(restored.pair) is tuple
    assert type(restored.unique) is set
    assert type(restored.frozen_set) is frozenset


async def test_an_attrs_event_with_every_field_kind_round_trips(event_store: EventStore) -> None:
    original = everything_attrs()
    await event_store.append("attrs-1", original)

    [recorded] = await event_store.read_stream("attrs-1")

    assert type(recorded.event) is EverythingAttrs
    assert recorded.event == original
    assert recorded.event.id == original.id
    assert recorded.event.timestamp == original.timestamp


async def test_timestamps_come_back_timezone_aware_in_utc(event_store: EventStore) -> None:
    event = Deposited(amount=1)
    await event_store.append("acct", event)

    [recorded] = await event_store.read_stream("acct")

    assert recorded.event.timestamp == event.timestamp
    assert recorded.event.timestamp.utcoffset() is not None
    assert recorded.event.timestamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


async def test_reading_an_unregistered_type_names_it_and_says_how_to_register(
    open_event_store: OpenEventStore,
) -> None:
    writer = await open_event_store()
    await writer.append("acct", Deposited(amount=1))
    # A process that never imported the event's class: its registry does not know the name.
    reader = await open_event_store(serializer=EventSerializer(registry=EventTypeRegistry()))

    with pytest.raises(UnknownEventType) as caught:
        await reader.read_stream("acct")

    message = str(caught.value)
    assert "victor.contract.Deposited" in message
    assert "register" in message
    assert caught.value.type_name == "victor.contract.Deposited"


async def test_a_value_no_database_could_store_is_refused_and_nothing_is_written(
    event_store: EventStore,
) -> None:
    @dataclasses.dataclass
    class CarriesAnObject(Event):
        __event_type__ = "victor.contract.CarriesAnObject"
        payload: object = None

    with pytest.raises(SerializationError, match="CarriesAnObject"):
        await event_store.append("acct", [Deposited(amount=1), CarriesAnObject(payload=object())])

    assert await event_store.stream_version("acct") == 0
