"""The JSON text of an event's payload, written in one go, is the text the two steps give.

The serializer writes a payload directly (``_json_writer``) instead of building a dict with
the converter and encoding it (``dumps``). Which of the two wrote a record must never show:
the same text, byte for byte, or, where the direct writer cannot, the two steps deciding.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from victor_core import Event, SerializationError
from victor_core.eventsourcing.serializer import EventSerializer, _json_writer, dumps
from victor_core.serialization import converter, is_unicode, make_converter


class Colour(enum.Enum):
    RED = "red"


class Size(enum.IntEnum):
    SMALL = 1


@dataclasses.dataclass
class Part:
    name: str = ""
    count: int = 0


@dataclasses.dataclass
class Everything(Event):
    __event_type__ = "tests.json.Everything"
    text: str = ""
    number: int = 0
    ratio: float = 0.0
    flag: bool = False
    anything: Any = None
    maybe: str | None = None
    items: list[Any] = dataclasses.field(default_factory=list)
    mapping: dict[str, Any] = dataclasses.field(default_factory=dict)
    when: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    ident: uuid.UUID = dataclasses.field(default_factory=lambda: uuid.UUID(int=7))
    amount: Decimal = Decimal("0")
    colour: Colour = Colour.RED
    size: Size = Size.SMALL
    part: Part = dataclasses.field(default_factory=Part)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats()  # NaN and the infinities too, which are refused
    | st.text(),  # lone surrogates too, which are refused
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
# What a field holds at run time need not be what it is annotated with.
anything = json_values | st.sampled_from([Colour.RED, Size.SMALL, uuid.UUID(int=1), b"x"])


def two_steps(event: Event, stream_id: str) -> str:
    payload = converter.get_unstructure_hook(type(event))(event)
    if not payload.get("aggregate_id"):
        payload["aggregate_id"] = stream_id
    return dumps(payload)


def outcome(write: Any, event: Event) -> tuple[str, str]:
    try:
        return "text", write(event, "stream-1")
    except Exception as exc:
        return "error", type(exc).__name__


@given(
    text=anything,
    number=anything,
    ratio=anything,
    flag=anything,
    value=anything,
    maybe=anything,
    items=st.lists(anything, max_size=3),
    aggregate_id=st.sampled_from(["", "own-stream", None]),
)
def test_the_writer_writes_what_the_two_steps_write_or_leaves_it_to_them(
    text: Any,
    number: Any,
    ratio: Any,
    flag: Any,
    value: Any,
    maybe: Any,
    items: list[Any],
    aggregate_id: Any,
) -> None:
    event = Everything(
        text=text,
        number=number,
        ratio=ratio,
        flag=flag,
        anything=value,
        maybe=maybe,
        items=items,
        mapping={"k": value},
        aggregate_id=aggregate_id,
    )
    writer = _json_writer(converter.get_unstructure_hook(Everything))
    assert writer is not None

    written, expected = outcome(writer, event), outcome(two_steps, event)

    # The same text, or the same error: the writer hands what it cannot write to dumps.
    assert written == expected
    serializer = EventSerializer()
    if expected[0] == "text":
        assert is_unicode(written[1])
        assert serializer.serialize(event, "stream-1").data == expected[1]
    else:
        with pytest.raises(SerializationError):
            serializer.serialize(event, "stream-1")


def test_an_event_without_its_aggregate_id_is_written_with_the_stream_id() -> None:
    event = Everything(
        text='é\n"', when=datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    )

    data = EventSerializer().serialize(event, "cart-1").data

    assert data == two_steps(event, "cart-1")
    assert '"aggregate_id":"cart-1"' in data
    assert '"when":"2024-05-06T07:08:09+02:00"' in data


def test_a_class_with_a_hook_of_its_own_is_written_through_its_hook() -> None:
    own = make_converter()
    own.register_unstructure_hook(
        Everything, lambda event: {"id": event.id, "timestamp": "t", "aggregate_id": "a", "own": 1}
    )

    record = EventSerializer(converter=own).serialize(Everything(), "s")

    assert record.data.endswith('"own":1}')
    assert _json_writer(own.get_unstructure_hook(Everything)) is None


def test_text_that_is_not_unicode_is_refused_naming_the_field() -> None:
    with pytest.raises(SerializationError, match="'items\\[1\\]'"):
        EventSerializer().serialize(Everything(items=["ok", "bad \udc80"]), "s")


@dataclasses.dataclass
class Secretive(Event):
    __event_type__ = "tests.json.Secretive"
    name: str = ""
    secret: str = ""


def test_a_wrapper_of_victor_s_hook_is_what_writes_the_payload() -> None:
    """functools.wraps copies a function's attributes: the wrapper is not taken for victor's."""
    own = make_converter()
    inner = own.get_unstructure_hook(Secretive)

    @functools.wraps(inner)
    def without_secret(event: Secretive) -> dict[str, Any]:
        payload: dict[str, Any] = inner(event)
        del payload["secret"]
        return {**payload, "version": 2}

    own.register_unstructure_hook(Secretive, without_secret)
    serializer = EventSerializer(converter=own)
    serializer.serialize(Secretive(name="n", secret="warm up"), "s")

    data = serializer.serialize(Secretive(name="n", secret="hunter2"), "s").data

    assert "hunter2" not in data
    assert data.endswith('"name":"n","version":2}')


@dataclasses.dataclass
class Tagged(Event):
    __event_type__ = "tests.json.Tagged"
    tags: list[str] = dataclasses.field(default_factory=list)
    values: list[Any] = dataclasses.field(default_factory=list)


def test_a_field_given_as_an_iterator_is_read_once_whatever_the_outcome() -> None:
    serializer = EventSerializer()

    stored = serializer.serialize(Tagged(tags=(t for t in ["a", "b"])), "s")  # type: ignore[arg-type]
    assert json.loads(stored.data)["tags"] == ["a", "b"]

    with pytest.raises(SerializationError, match=r"'tags\[1\]'"):
        serializer.serialize(Tagged(tags=(t for t in ["ok", "bad \udc80"])), "s")  # type: ignore[arg-type]
    with pytest.raises(SerializationError, match="Out of range float"):
        serializer.serialize(Tagged(values=(v for v in [1, math.nan])), "s")  # type: ignore[arg-type]


@dataclasses.dataclass
class Watched(Event):
    __event_type__ = "tests.json.Watched"
    ratio: float = 0.0


def test_each_field_is_read_once_per_serialize_even_when_it_is_refused() -> None:
    reads = []

    class Counting(Watched):
        __event_type__ = "tests.json.Counting"

        @property  # type: ignore[override]
        def ratio(self) -> float:
            reads.append(1)
            return self._ratio

        @ratio.setter
        def ratio(self, value: float) -> None:
            self._ratio = value

    serializer = EventSerializer()
    serializer.serialize(Counting(ratio=0.5), "s")
    assert len(reads) == 1
    with pytest.raises(SerializationError):
        serializer.serialize(Counting(ratio=math.nan), "s")
    assert len(reads) == 2
