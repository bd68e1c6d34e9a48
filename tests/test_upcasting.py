"""Upcasters: registered per class and version step, applied in order when events are read."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from victor_core import (
    ConfigurationError,
    Event,
    EventTypeRegistry,
    SerializationError,
    UpcasterRegistry,
    upcaster,
    upcasters,
)
from victor_core.backend import EventSerializer, StoredEventRecord
from victor_core.eventsourcing.upcasting import schema_version_of


@dataclasses.dataclass
class PriceSet(Event):
    """Version 3: ``amount`` in cents (v2 had euros as a float, v1 a string ``price``)."""

    __event_type__ = "tests.upcasting.PriceSet"
    __schema_version__ = 3
    cents: int = 0


@dataclasses.dataclass
class Unversioned(Event):
    __event_type__ = "tests.upcasting.Unversioned"
    value: int = 0


def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    price = data.pop("price")
    return {**data, "euros": float(price)}


def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    euros = data.pop("euros")
    return {**data, "cents": round(euros * 100)}


def serializer_with(*steps: tuple[int, Any]) -> EventSerializer:
    registry = UpcasterRegistry()
    for from_version, step in steps:
        registry.register(PriceSet, from_version=from_version, upcast=step)
    return EventSerializer(upcasters=registry)


def stored(payload: dict[str, Any], schema_version: int) -> StoredEventRecord:
    return StoredEventRecord(
        position=1,
        stream_id="item-1",
        version=1,
        event_id="e-1",
        type_name="tests.upcasting.PriceSet",
        schema_version=schema_version,
        data=json.dumps(
            {
                "id": "e-1",
                "timestamp": "2024-01-01T00:00:00+00:00",
                "aggregate_id": "item-1",
                **payload,
            }
        ),
        timestamp=datetime(2024, 1, 1, tzinfo=UTC),
    )


def test_new_records_carry_the_class_schema_version() -> None:
    assert EventSerializer().serialize(PriceSet(cents=5), "item-1").schema_version == 3
    assert EventSerializer().serialize(Unversioned(), "x").schema_version == 1


@pytest.mark.parametrize(
    ("payload", "version"), [({"price": "12.34"}, 1), ({"euros": 12.34}, 2), ({"cents": 1234}, 3)]
)
def test_every_older_version_is_brought_to_the_current_one(
    payload: dict[str, Any], version: int
) -> None:
    serializer = serializer_with((1, v1_to_v2), (2, v2_to_v3))

    event = serializer.deserialize(stored(payload, version))

    assert event == PriceSet(
        cents=1234, id="e-1", timestamp=datetime(2024, 1, 1, tzinfo=UTC), aggregate_id="item-1"
    )


def test_a_gap_in_the_chain_names_the_missing_step() -> None:
    serializer = serializer_with((2, v2_to_v3))

    with pytest.raises(SerializationError, match=r"from_version=1\)") as caught:
        serializer.deserialize(stored({"price": "1"}, 1))

    message = str(caught.value)
    assert "e-1" in message
    assert "schema version 1" in message


def test_a_failing_upcaster_is_reported_with_the_event_and_the_step() -> None:
    def broken(data: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("price")

    serializer = serializer_with((1, broken), (2, v2_to_v3))

    with pytest.raises(SerializationError, match="from version 1") as caught:
        serializer.deserialize(stored({"cost": "1"}, 1))

    assert "broken" in str(caught.value)
    assert isinstance(caught.value.__cause__, SerializationError)


def test_an_upcaster_must_return_the_payload() -> None:
    serializer = serializer_with((1, lambda data: None), (2, v2_to_v3))

    with pytest.raises(SerializationError, match="must return the payload dict"):
        serializer.deserialize(stored({"price": "1"}, 1))


def test_a_record_from_newer_code_is_refused() -> None:
    with pytest.raises(SerializationError, match="newer code"):
        serializer_with().deserialize(stored({"cents": 1}, 4))


@pytest.mark.parametrize(
    ("from_version", "message"),
    [(0, "from_version must be"), (3, "raise __schema_version__"), (True, "from_version")],
)
def test_an_upcaster_for_a_version_that_cannot_exist_is_refused(
    from_version: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        UpcasterRegistry().register(PriceSet, from_version=from_version, upcast=v1_to_v2)


def test_each_step_has_one_upcaster_but_the_same_one_may_be_registered_again() -> None:
    registry = UpcasterRegistry()
    registry.register(PriceSet, from_version=1, upcast=v1_to_v2)
    registry.register(PriceSet, from_version=1, upcast=v1_to_v2)  # a reloaded module

    with pytest.raises(ConfigurationError, match="already has an upcaster from version 1"):
        registry.register(PriceSet, from_version=1, upcast=v2_to_v3)
    assert registry.versions(PriceSet) == [1]


def test_the_decorator_registers_in_the_default_registry_or_a_given_one() -> None:
    private = UpcasterRegistry()

    @upcaster(PriceSet, from_version=2, registry=private)
    def euros_to_cents(data: dict[str, Any]) -> dict[str, Any]:
        return v2_to_v3(data)

    assert private.versions(PriceSet) == [2]
    assert upcasters.versions(PriceSet) == []
    assert euros_to_cents({"euros": 1.5}) == {"cents": 150}


def test_a_schema_version_must_be_a_positive_int() -> None:
    @dataclasses.dataclass
    class Odd(Event):
        __event_type__ = "tests.upcasting.Odd"
        __schema_version__ = 0

    with pytest.raises(ConfigurationError, match="__schema_version__"):
        schema_version_of(Odd)
    with pytest.raises(ConfigurationError, match="__schema_version__"):
        EventSerializer().serialize(Odd(), "s")


def test_aliases_and_upcasters_combine_for_a_renamed_and_reshaped_class() -> None:
    registry = EventTypeRegistry()
    registry.register(PriceSet, name="tests.upcasting.PriceSet", aliases=["shop.PriceChanged"])
    steps = UpcasterRegistry()
    steps.register(PriceSet, from_version=1, upcast=v1_to_v2)
    steps.register(PriceSet, from_version=2, upcast=v2_to_v3)
    old_record = stored({"price": "0.5"}, 1)._replace(type_name="shop.PriceChanged")

    event = EventSerializer(registry=registry, upcasters=steps).deserialize(old_record)

    assert isinstance(event, PriceSet)
    assert event.cents == 50
