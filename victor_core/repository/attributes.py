"""Attribute paths and what comparing their values means, once for every backend.

A specification names an attribute by a dotted path (``"address.city"``) and compares its
value with an operator. Backends that compile specifications must give exactly the results
of the Python meaning defined here, so it is deliberately plain:

* a path walks attributes of objects and keys of mappings; ``None`` or a missing mapping
  key on the way gives ``None``; an object without the attribute is an error (a typo);
* ``==`` with ``None`` is "is none"; ``!=`` is the negation of ``==``;
* ``<``, ``<=``, ``>``, ``>=`` hold only between numbers (``bool`` counts as a number, as in
  Python), between strings, or between values of another type that orders itself; with
  ``None`` or with values that cannot be compared they are false, never an error;
  datetimes without a time zone are taken to be in UTC;
* ``in`` holds when the value equals one of the given values;
* ``contains`` holds when a list, tuple or set has an item equal to the value, or when a
  string has the value as a substring.
"""

from __future__ import annotations

import enum
import keyword
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Union
from uuid import UUID

from victor_core._records import is_record_class, record_fields
from victor_core.errors import ConfigurationError
from victor_core.eventsourcing.serializer import as_utc


class Operator(enum.StrEnum):
    """How an :class:`~victor_core.AttributeSpecification` compares its attribute."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    CONTAINS = "contains"


def operator_from(op: object) -> Operator:
    """The :class:`Operator` written as *op* (``">="``, ``"in"``, ``Operator.GE``)."""
    try:
        return Operator(str(op)) if isinstance(op, str) else Operator(op)  # type: ignore[arg-type]
    except ValueError:
        accepted = ", ".join(repr(o.value) for o in Operator)
        raise ConfigurationError(f"unknown comparison {op!r}; use one of {accepted}") from None


def check_path(path: object) -> tuple[str, ...]:
    """The segments of the dotted attribute *path*, which must be Python identifiers.

    Names are checked before anything else happens with them, so a hostile name such as
    ``"x') OR 1=1 --"`` is refused here and never reaches a query.
    """
    if not isinstance(path, str) or not path:
        raise ConfigurationError(
            f"an attribute path is a non-empty string such as 'email' or 'address.city', "
            f"got {path!r}"
        )
    segments = tuple(path.split("."))
    for segment in segments:
        if not segment.isidentifier() or keyword.iskeyword(segment):
            raise ConfigurationError(
                f"{path!r} is not an attribute path: each part between dots must be a Python "
                f"identifier (letters, digits and '_'), and {segment!r} is not"
            )
    return segments


def read_path(value: Any, segments: tuple[str, ...]) -> Any:
    """The value at *segments* inside *value* (see the module docstring)."""
    for depth, segment in enumerate(segments):
        if value is None:
            return None
        if isinstance(value, Mapping):
            value = value.get(segment)
            continue
        try:
            value = getattr(value, segment)
        except AttributeError:
            where = ".".join(segments[:depth]) or "the entity"
            raise ConfigurationError(
                f"{type(value).__qualname__} ({where}) has no attribute {segment!r}; check the "
                f"spelling of {'.'.join(segments)!r} in the specification or order_by"
            ) from None
    return value


def _normalized(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value)
    return value


def equals(actual: Any, expected: Any) -> bool:
    """``==`` as specifications mean it."""
    if expected is None:
        return actual is None
    if actual is None:
        return False
    return bool(_normalized(actual) == _normalized(expected))


def orders(op: Operator, actual: Any, expected: Any) -> bool:
    """``<``, ``<=``, ``>``, ``>=`` as specifications mean them: false when incomparable."""
    if actual is None or expected is None:
        return False
    left, right = _normalized(actual), _normalized(expected)
    if isinstance(left, str) != isinstance(right, str):
        return False
    try:
        if op is Operator.LT:
            return bool(left < right)
        if op is Operator.LE:
            return bool(left <= right)
        if op is Operator.GT:
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


def contains(actual: Any, item: Any) -> bool:
    """``contains`` as specifications mean it."""
    if isinstance(actual, str):
        return isinstance(item, str) and item in actual
    if isinstance(actual, list | tuple | set | frozenset):
        return any(equals(each, item) for each in actual)
    return False


def compare(op: Operator, actual: Any, expected: Any) -> bool:
    """Whether *actual* (an attribute's value) relates to *expected* by *op*."""
    if op is Operator.EQ:
        return equals(actual, expected)
    if op is Operator.NE:
        return not equals(actual, expected)
    if op is Operator.IN:
        return any(equals(actual, each) for each in expected)
    if op is Operator.CONTAINS:
        return contains(actual, expected)
    return orders(op, actual, expected)


def sort_key(value: Any) -> tuple[int, Any]:
    """A key that orders attribute values: None first, then numbers, then strings.

    This is the order SQL databases give JSON values, so backends can sort in the engine
    and agree with Python. Values of other types sort among themselves.
    """
    if value is None:
        return (0, 0)
    if isinstance(value, enum.Enum):
        return sort_key(value.value)
    if isinstance(value, bool | int | float | Decimal):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, UUID):
        return (2, str(value))
    if isinstance(value, datetime):
        return (3, as_utc(value))
    if isinstance(value, date):
        return (4, value)
    raise ConfigurationError(
        f"cannot order by a value of type {type(value).__qualname__}; order by attributes "
        "holding numbers, strings, UUIDs, enums, dates or datetimes"
    )


def declared_type(record_type: type, segments: tuple[str, ...]) -> Any | None:
    """The type declared for *segments* in *record_type*, without ``None`` from Optionals.

    None when some part is not a declared field (a property, say) or the path goes where
    types are not declared; backends then leave the comparison to Python.
    """
    current: Any = record_type
    for segment in segments:
        current = without_none(current)
        if is_record_class(current):
            hints = {field.name: field.type for field in record_fields(current)}
            if segment not in hints:
                return None
            current = hints[segment]
        elif typing.get_origin(current) in (dict, Mapping) and len(typing.get_args(current)) == 2:
            current = typing.get_args(current)[1]
        else:
            return None
    return without_none(current)


def without_none(declared: Any) -> Any:
    """``X`` for ``X | None`` (``Optional[X]``); *declared* itself otherwise."""
    if typing.get_origin(declared) in (Union, types.UnionType):
        rest = [arg for arg in typing.get_args(declared) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return declared
