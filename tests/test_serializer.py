"""The kernel's serializer: what every backend stores, and its errors."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

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
    record = stored(data)._replace(position=41, version=3)

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


# Reading builds plain dataclass events without calling their __init__ (the generated one
# only assigns the fields); every class that does more must still have it run.


@dataclasses.dataclass
class Plain(Event):
    __event_type__ = "tests.Plain"
    sku: str = ""
    quantity: int = 0


@dataclasses.dataclass(slots=True)
class Slotted(Event):
    __event_type__ = "tests.Slotted"
    sku: str = ""


@dataclasses.dataclass
class Normalised(Event):
    __event_type__ = "tests.Normalised"
    sku: str = ""

    def __post_init__(self) -> None:
        self.sku = self.sku.upper()


@dataclasses.dataclass
class Priced(Event):
    __event_type__ = "tests.Priced"
    cents: int = 0
    euros: dataclasses.InitVar[int | None] = None

    def __post_init__(self, euros: int | None) -> None:
        if euros is not None:
            self.cents = euros * 100


@dataclasses.dataclass
class Counted(Event):
    __event_type__ = "tests.Counted"
    items: list[str] = dataclasses.field(default_factory=list)
    count: int = dataclasses.field(init=False, default=0)


@dataclasses.dataclass(init=False)
class Stripped(Event):
    __event_type__ = "tests.Stripped"
    label: str = ""

    def __init__(self, *, label: str = "", **base: object) -> None:
        Event.__init__(self, **base)  # type: ignore[arg-type]
        self.label = label.strip()


@dataclasses.dataclass
class Guarded(Event):
    __event_type__ = "tests.Guarded"
    sku: str = ""

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value.lower() if isinstance(value, str) else value)


@pytest.mark.parametrize(
    ("type_name", "fields", "expected"),
    [
        ("tests.Plain", {"sku": "a", "quantity": 2}, {"sku": "a", "quantity": 2}),
        ("tests.Slotted", {"sku": "a"}, {"sku": "a"}),
        ("tests.Normalised", {"sku": "abc"}, {"sku": "ABC"}),
        ("tests.Priced", {"cents": 7}, {"cents": 7}),
        ("tests.Counted", {"items": ["x", "y"], "count": 2}, {"items": ["x", "y"], "count": 2}),
        ("tests.Stripped", {"label": "  kept  "}, {"label": "kept"}),
        ("tests.Guarded", {"sku": "ABC"}, {"sku": "abc"}),
    ],
)
def test_a_read_event_is_what_its_class_makes_of_the_stored_fields(
    type_name: str, fields: dict[str, object], expected: dict[str, object]
) -> None:
    event = EventSerializer().deserialize(stored(payload(**fields), type_name))

    assert type(event).__event_type__ == type_name
    assert {name: getattr(event, name) for name in expected} == expected
    assert (event.id, event.aggregate_id) == ("e", "s")
    assert event.timestamp == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("cls", [Plain, Slotted, Normalised, Counted])
def test_an_event_read_back_equals_the_one_written(cls: type[Event]) -> None:
    serializer = EventSerializer()
    written = cls(aggregate_id="s")
    record = serializer.serialize(written, "s")
    read = serializer.deserialize(
        StoredEventRecord(
            1, "s", 1, record.event_id, record.type_name, 1, record.data, record.timestamp
        )
    )

    assert read == written
    assert repr(read) == repr(written)
    if cls is Plain:  # built without __init__: the same attributes, in the same order
        assert list(vars(read)) == list(vars(written))


def test_a_plain_event_read_from_a_payload_that_lacks_a_field_takes_its_default() -> None:
    event = EventSerializer().deserialize(stored(payload(sku="a"), "tests.Plain"))

    assert isinstance(event, Plain)
    assert (event.sku, event.quantity) == ("a", 0)


def test_a_plain_event_whose_stored_field_has_the_wrong_type_is_a_corrupt_event() -> None:
    with pytest.raises(CorruptEvent, match=r"tests\.Plain"):
        EventSerializer().deserialize(stored(payload(sku="a", quantity="many"), "tests.Plain"))


class Counting(type):
    """A metaclass that counts the instances made by calling the class."""

    made = 0

    def __call__(cls, *args: object, **kwargs: object) -> object:
        Counting.made += 1
        return super().__call__(*args, **kwargs)


class CountedMeta(Event, metaclass=Counting):
    pass


@dataclasses.dataclass
class Tallied(CountedMeta):
    __event_type__ = "tests.Tallied"
    sku: str = ""


def test_a_class_whose_metaclass_changes_calling_it_is_called_on_read() -> None:
    before = Counting.made

    event = EventSerializer().deserialize(stored(payload(sku="a"), "tests.Tallied"))

    assert isinstance(event, Tallied)
    assert Counting.made == before + 1


@pytest.mark.asyncio
async def test_a_recorded_event_is_an_immutable_value_that_unpacks() -> None:
    store = InMemoryEventStore()
    result = await store.append("cart-1", [Plain(sku="a"), Plain(sku="b")])
    recorded = [r async for r in store.read_all()]

    position, stream_id, version, event, type_name = recorded[1]
    assert (position, stream_id, version, type_name) == (2, "cart-1", 2, "tests.Plain")
    assert isinstance(event, Plain)
    assert event.sku == "b"
    assert recorded == await store.read_stream("cart-1")
    assert (result.version, result.positions, result.first_version) == (2, (1, 2), 1)
    with pytest.raises(AttributeError):
        recorded[0].position = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.version = 5  # type: ignore[misc]
