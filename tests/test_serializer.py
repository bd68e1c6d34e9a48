"""The kernel's serializer: what every backend stores, and its errors."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

pytest.importorskip("victor_memory", reason="exercises the memory backend plugin (victor-memory)")

from victor_core import CorruptEvent, Event, SerializationError
from victor_core.backend import EventSerializer, StoredEventRecord
from victor_memory import InMemoryEventStore


@dataclasses.dataclass
class Measured(Event):
    __event_type__ = "tests.Measured"
    value: float = 0.0


def stored(record_data: str, type_name: str = "tests.Measured") -> StoredEventRecord:
    return StoredEventRecord(
        position=1,
        stream_id="s",
        version=1,
        event_id="e",
        type_name=type_name,
        schema_version=1,
        data=record_data,
        timestamp=datetime.now(UTC),
    )


def test_records_carry_the_type_name_and_utc_timestamp() -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    record = EventSerializer().serialize(Measured(value=1.5, timestamp=moment), "s")

    assert record.type_name == "tests.Measured"
    assert record.timestamp == moment
    assert record.timestamp.utcoffset() == timedelta(0)
    assert json.loads(record.data)["value"] == 1.5
    assert json.loads(record.data)["aggregate_id"] == "s"


def test_nan_is_refused_because_databases_disagree_about_it() -> None:
    with pytest.raises(SerializationError, match="Measured"):
        EventSerializer().serialize(Measured(value=float("nan")), "s")


def payload(**fields: object) -> str:
    """A payload as the serializer writes it for the event "e" of stream "s", with *fields*."""
    base = {"id": "e", "timestamp": "2024-01-01T00:00:00+00:00", "aggregate_id": "s"}
    return json.dumps({**base, **fields})


def test_stored_data_that_no_longer_fits_the_class_names_the_event() -> None:
    serializer = EventSerializer()

    with pytest.raises(SerializationError) as caught:
        serializer.deserialize(stored(payload(value="not a number")))

    assert "stream 's' version 1" in str(caught.value)
    assert "tests.Measured" in str(caught.value)


def test_fields_missing_from_old_data_take_their_defaults() -> None:
    event = EventSerializer().deserialize(stored(payload()))

    assert isinstance(event, Measured)
    assert (event.id, event.value) == ("e", 0.0)


@dataclasses.dataclass
class Named(Event):
    __event_type__ = "tests.Named"
    name: str
    size: int = 0


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("[]", "is a JSON array, not an object"),
        ('"text"', "is a JSON string ('text'), not an object"),
        ("{}", "has no id, timestamp, aggregate_id"),
        ("null", "is JSON null"),
        ("7", "is a JSON number"),
        ("{not json", "is not JSON"),
        (payload(id="another"), "holds the event id 'another', not the row's 'e'"),
        ('{"id": "e", "aggregate_id": "s"}', "has no timestamp"),
    ],
)
def test_a_payload_that_victor_cannot_have_written_is_a_corrupt_event(
    data: str, problem: str
) -> None:
    record = attrs.evolve(stored(data), position=41, version=3)

    with pytest.raises(CorruptEvent) as caught:
        EventSerializer().deserialize(record)

    message = str(caught.value)
    assert problem in message
    assert "stream 's' version 3 (position 41, type 'tests.Measured'" in message
    assert "read_all(from_position=42)" in message
    assert (caught.value.stream_id, caught.value.version, caught.value.position) == ("s", 3, 41)
    assert caught.value.type_name == "tests.Measured"


def test_a_payload_without_a_field_the_class_requires_names_the_field() -> None:
    with pytest.raises(CorruptEvent) as caught:
        EventSerializer().deserialize(stored(payload(size=2), "tests.Named"))

    assert "Named's fields without a default: name" in str(caught.value)
    assert isinstance(caught.value, SerializationError)


def test_json_written_by_other_tools_reads_the_same_as_victor_s_compact_json() -> None:
    fields = {
        "value": 2.5,
        "id": "e",
        "timestamp": "2024-05-01T12:00:00+00:00",
        "aggregate_id": "s",
    }
    serializer = EventSerializer()
    compact = serializer.deserialize(stored(json.dumps(fields, separators=(",", ":"))))
    padded = serializer.deserialize(stored(f" {json.dumps(fields, indent=2)}\n"))

    assert padded == compact
    assert compact.value == 2.5
    assert compact.timestamp == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("data", ['{"value": 1.0} trailing', "", '{"value": 1.0'])
def test_stored_data_that_is_not_json_is_a_serialization_error(data: str) -> None:
    with pytest.raises(SerializationError, match=r"tests\.Measured"):
        EventSerializer().deserialize(stored(data))


@pytest.mark.asyncio
async def test_a_read_of_mixed_event_classes_gives_each_event_its_class() -> None:
    @dataclasses.dataclass
    class Labelled(Event):
        __event_type__ = "tests.Labelled"
        label: str = ""

    written = [
        Measured(value=float(n), aggregate_id="s")
        if n % 2
        else Labelled(label=str(n), aggregate_id="s")
        for n in range(6)
    ]
    async with InMemoryEventStore() as store:
        await store.append("s", written)
        streamed = [recorded.event for recorded in await store.read_stream("s")]
        logged = [recorded.event async for recorded in store.read_all(page_size=4)]

    assert streamed == logged == written
    assert [type(event) for event in logged] == [Labelled, Measured] * 3
