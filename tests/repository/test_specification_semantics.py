"""What a specification means in Python: the reference every backend's compiler must match."""

from __future__ import annotations

import dataclasses
import enum
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest

from victor_core import (
    AttributeSpecification,
    BaseSpecification,
    ConfigurationError,
    Entity,
    Specification,
)
from victor_core.backend import Operator
from victor_core.repository import AndSpecification, NotSpecification, OrSpecification
from victor_core.repository.declared_attributes import declared_type
from victor_core.repository.specification import PATH_RULE, is_opaque, read_path, sort_key


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Place:
    city: str
    zip: str | None = None


@dataclasses.dataclass
class Thing(Entity):
    name: str = ""
    size: int = 0
    weight: float | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    place: Place | None = None
    colour: Colour = Colour.RED
    labels: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def shout(self) -> str:
        return self.name.upper()


def holds(spec: BaseSpecification[Any], thing: Thing) -> bool:
    return spec.is_satisfied_by(thing)


THING = Thing(
    name="Lamp",
    size=3,
    weight=None,
    tags=["a", "b"],
    place=Place("Oslo"),
    labels={"k": "v"},
    created_at=datetime(2024, 1, 1, 12, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (AttributeSpecification("name", "Lamp"), True),
        (AttributeSpecification("name", "lamp"), False),
        (AttributeSpecification("size", 3.0), True),
        (AttributeSpecification("size", "3"), False),
        (AttributeSpecification("weight", None), True),
        (AttributeSpecification("weight", 1, op="!="), True),
        (AttributeSpecification("weight", 1, op="<"), False),
        (AttributeSpecification("weight", 1, op=">="), False),
        (AttributeSpecification("size", "9", op="<"), False),
        (AttributeSpecification("size", 3, op=Operator.LE), True),
        (AttributeSpecification("name", "M", op="<"), True),
        (AttributeSpecification("place.city", "Oslo"), True),
        (AttributeSpecification("place.zip", None), True),
        (AttributeSpecification("labels.k", "v"), True),
        (AttributeSpecification("labels.missing", None), True),
        (AttributeSpecification("tags", "a", op="contains"), True),
        (AttributeSpecification("tags", "ab", op="contains"), False),
        (AttributeSpecification("name", "am", op="contains"), True),
        (AttributeSpecification("size", 3, op="contains"), False),
        (AttributeSpecification("size", [1, 3], op="in"), True),
        (AttributeSpecification("weight", [None], op="in"), True),
        (AttributeSpecification("colour", Colour.RED), True),
        (AttributeSpecification("colour", "red"), False),
        # Datetimes compare as instants; one without a zone is taken to be in UTC.
        (AttributeSpecification("created_at", datetime(2024, 1, 1, 12)), True),
        (
            AttributeSpecification(
                "created_at", datetime(2024, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
            ),
            True,
        ),
        (AttributeSpecification("created_at", datetime(2024, 1, 1), op=">"), True),
    ],
)
def test_attribute_comparisons(spec: BaseSpecification[Any], expected: bool) -> None:
    assert holds(spec, THING) is expected
    assert holds(~spec, THING) is not expected


def test_combinators_build_the_expected_tree_and_evaluate() -> None:
    big = AttributeSpecification("size", 2, op=">")
    lamp = AttributeSpecification("name", "Lamp")

    both, either, neither = big & lamp, big | ~lamp, ~(big | lamp)

    assert isinstance(both, AndSpecification)
    assert isinstance(either, OrSpecification)
    assert isinstance(neither, NotSpecification)
    assert (holds(both, THING), holds(either, THING), holds(neither, THING)) == (True, True, False)
    assert Specification is BaseSpecification


def test_custom_specifications_are_opaque_and_building_blocks_are_not() -> None:
    class Big(BaseSpecification[Thing]):
        def is_satisfied_by(self, candidate: Thing) -> bool:
            return candidate.size > 2

    class NamedLamp(AttributeSpecification):
        def __init__(self) -> None:
            super().__init__("name", "Lamp")

    class Sneaky(AttributeSpecification):
        def is_satisfied_by(self, candidate: Any) -> bool:
            return True

    assert is_opaque(Big())
    assert not is_opaque(NamedLamp())
    assert is_opaque(Sneaky("name", "x"))
    assert not is_opaque(Big() & NamedLamp())
    assert holds(Big() & NamedLamp(), THING)


def test_a_missing_attribute_names_itself() -> None:
    with pytest.raises(ConfigurationError, match="'colour_name'"):
        read_path(THING, ("colour_name",))
    with pytest.raises(ConfigurationError, match="'country'"):
        read_path(THING, ("place", "country"))
    assert read_path(Thing(), ("place", "country")) is None


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("shout", "'shout' is a property"),
        ("place.city.upper", "'place.city' holds a str"),
        ("labels.k.upper", "'labels.k' holds a str"),
    ],
)
def test_reading_stops_at_data(path: str, said: str) -> None:
    with pytest.raises(ConfigurationError, match=said) as refused:
        AttributeSpecification(path, "x").is_satisfied_by(THING)
    assert PATH_RULE in str(refused.value)


def test_sort_keys_put_none_first_then_numbers_then_strings() -> None:
    values = ["b", 2, None, "a", 1.5, True, Colour.BLUE]

    assert sorted(values, key=sort_key) == [None, True, 1.5, 2, "a", "b", Colour.BLUE]
    assert sort_key(Decimal("1")) < sort_key(2)
    with pytest.raises(ConfigurationError, match="order"):
        sort_key(Place("x"))


def test_declared_types_follow_paths_through_records_and_mappings() -> None:
    assert declared_type(Thing, ("name",)) is str
    assert declared_type(Thing, ("weight",)) is float
    assert declared_type(Thing, ("place", "zip")) is str
    assert declared_type(Thing, ("labels", "anything")) is str
    assert declared_type(Thing, ("tags",)) == list[str]
    assert declared_type(Thing, ("shout",)) is None
    assert declared_type(Thing, ("place", "nowhere")) is None
