"""Specifications become MongoDB filters only where the answer is exactly Python's, and safely.

What the repository returns is proven by the contract suite; these tests pin the filters
themselves: values are always wrapped in an operator, no field name can be an operator,
and comparisons MongoDB would answer differently stay in Python.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from victor_core import AttributeSpecification, Entity
from victor_core.backend import BaseSpecification, ConfigurationError, pushdown
from victor_mongodb.filters import FilterCompiler, field_name

A = AttributeSpecification


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Place:
    city: str = ""


@dataclasses.dataclass
class Thing(Entity):
    name: str = ""
    size: int = 0
    weight: float | None = None
    fragile: bool = False
    tags: list[str] = dataclasses.field(default_factory=list)
    colour: Colour = Colour.RED
    code: UUID | None = None
    place: Place | None = None
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    seen_at: datetime | None = None
    anything: Any = None


COMPILER = FilterCompiler(Thing)


def compiled(spec: BaseSpecification[Any]) -> dict[str, Any] | None:
    """The filter for *spec*, or None when it is left to Python entirely."""
    plan = pushdown(spec, COMPILER.compiles)
    if plan.expression is None:
        return None
    assert plan.exact, "a partly compiled plan would be checked in Python as well"
    return COMPILER.filter(plan.expression)


@pytest.mark.parametrize(
    "hostile",
    ["$where", "{'$gt': ''}", "'; db.dropDatabase(); '", "\x00", "$ne", ".*"],
)
def test_values_are_compared_never_interpreted(hostile: str) -> None:
    assert compiled(A("name", hostile)) == {"name": {"$eq": hostile}}
    assert compiled(A("name", [hostile], op="in")) == {"name": {"$in": [hostile]}}


def test_contains_on_text_escapes_every_pattern_character() -> None:
    spec = A("name", "a.b*(c)$^", op="contains")

    assert compiled(spec) == {"name": {"$regex": r"a\.b\*\(c\)\$\^"}}
    assert compiled(A("name", "nul\x00inside", op="contains")) is None


def test_documents_are_never_compiled_as_values() -> None:
    assert compiled(A("anything", {"$gt": ""})) is None
    assert compiled(A("labels", {"$ne": None})) is None
    assert compiled(A("place", {"city": "Paris"})) is None


@pytest.mark.parametrize("name", ["$where", "a.$b", "name\x00", "1st", "", "a..b", "a b"])
def test_attribute_names_that_could_be_operators_are_refused(name: str) -> None:
    with pytest.raises(ConfigurationError):
        A(name, 1)
    with pytest.raises(ConfigurationError):
        field_name(tuple(name.split(".")))


def test_the_id_is_the_document_key_and_paths_are_dotted() -> None:
    assert compiled(A("id", "t-1")) == {"_id": {"$eq": "t-1"}}
    assert compiled(A("place.city", "Paris")) == {"place.city": {"$eq": "Paris"}}
    assert compiled(A("labels.team", "red")) == {"labels.team": {"$eq": "red"}}


def test_none_is_null_or_missing_at_every_step_of_a_path() -> None:
    assert compiled(A("weight", None)) == {"weight": {"$eq": None}}
    assert compiled(A("place.city", None)) == {
        "$or": [{"place": {"$eq": None}}, {"place.city": {"$eq": None}}]
    }
    assert compiled(A("place.city", None, op="!=")) == {
        "$nor": [{"$or": [{"place": {"$eq": None}}, {"place.city": {"$eq": None}}]}]
    }
    assert compiled(A("weight", [1.5, None], op="in")) == {
        "$or": [{"weight": {"$in": [1.5]}}, {"weight": {"$eq": None}}]
    }


@pytest.mark.parametrize(
    "spec",
    [
        A("size", True),  # True == 1 in Python, never in MongoDB
        A("fragile", 1),
        A("fragile", 0, op="<"),
        A("size", "3"),
        A("size", 2**70),
        A("weight", float("nan")),
        A("name", 3, op="<"),
        A("colour", "red"),  # a plain Enum member never equals its value in Python
        A("colour", Colour.RED, op="<"),
        A("tags", "x"),  # MongoDB would match arrays holding "x"
        A("tags", None),
        A("anything", None),  # could be an array holding null
        A("seen_at", datetime(2026, 1, 1, tzinfo=UTC)),  # stored with its writer's offset
        A("place", None, op="<"),
    ],
    ids=repr,
)
def test_comparisons_mongodb_would_answer_differently_stay_in_python(
    spec: BaseSpecification[Any],
) -> None:
    assert compiled(spec) is None


def test_kinds_are_compared_as_they_are_stored() -> None:
    code = UUID("12345678-1234-5678-1234-567812345678")
    plus_two = timezone(timedelta(hours=2))

    assert compiled(A("colour", Colour.BLUE)) == {"colour": {"$eq": "blue"}}
    assert compiled(A("code", code)) == {"code": {"$eq": str(code)}}
    assert compiled(A("fragile", False)) == {"fragile": {"$eq": False}}
    assert compiled(A("size", 2.5, op=">=")) == {"size": {"$gte": 2.5}}
    assert compiled(A("tags", "x", op="contains")) == {"tags": {"$elemMatch": {"$eq": "x"}}}
    assert compiled(A("created_at", datetime(2026, 1, 1, 2, tzinfo=plus_two), op="<")) == {
        "created_at": {"$lt": "2026-01-01T00:00:00+00:00"}
    }


def test_combinations_become_and_or_nor() -> None:
    spec = (A("size", 1) | A("size", 2)) & ~A("name", "x")

    assert compiled(spec) == {
        "$and": [
            {"$or": [{"size": {"$eq": 1}}, {"size": {"$eq": 2}}]},
            {"$nor": [{"name": {"$eq": "x"}}]},
        ]
    }


def test_sorting_is_pushed_only_for_kinds_mongodb_orders_like_python() -> None:
    def keys(*names: str) -> Any:
        from victor_core.backend import order_from

        return order_from(list(names))

    assert COMPILER.orders_by(keys("name", "-size", "fragile", "colour", "created_at"))
    assert COMPILER.sort(keys("name", "-size")) == [("name", 1), ("size", -1), ("_id", 1)]
    assert not COMPILER.orders_by(keys("tags"))
    assert not COMPILER.orders_by(keys("seen_at"))
    assert not COMPILER.orders_by(keys("anything"))


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["-id"], [("_id", -1)]),
        (["id"], [("_id", 1)]),
        (["name", "-id"], [("name", 1), ("_id", -1)]),
        (["name", "-name"], [("name", 1), ("_id", 1)]),
    ],
)
def test_a_sort_names_each_field_once_so_the_driver_keeps_every_direction(
    names: list[str], expected: list[tuple[str, int]]
) -> None:
    from pymongo.helpers_shared import _index_document

    from victor_core.backend import order_from

    sort = COMPILER.sort(order_from(names))

    assert sort == expected
    # PyMongo sends a sort as one document: a field named twice would keep only its last
    # direction, so order_by="-id" would come back in ascending order from a server.
    assert list(_index_document(sort).items()) == expected
