"""Attribute paths and what comparing their values means, once for every backend.

A specification names an attribute by a dotted path (``"address.city"``) and compares its
value with an operator. Backends that compile specifications must give exactly the results
of the Python meaning defined here, so it is deliberately plain:

* a path walks only data (see :data:`PATH_RULE`): the entity's declared fields and, below
  them, keys of mappings and fields of nested dataclass, attrs and pydantic values; ``None``
  or a missing mapping key on the way gives ``None``; anything else (a typo, a method, a
  property, a class attribute, a name starting with ``_``) is a :class:`ConfigurationError`;
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
import functools
import inspect
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

#: What an attribute path may contain, as errors and the docs state it. A path is written by
#: whoever builds the specification, sometimes from a request's parameters, so it must never
#: reach past the stored data into methods, properties, classes or a module's globals.
PATH_RULE = (
    "a path names one of the entity's declared fields and, below it, only plain data: keys "
    "of mappings and fields of nested dataclass, attrs or pydantic values, joined by dots; "
    "no part may start with '_' or name a method, property, class attribute or anything "
    "else that is not a stored field"
)


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
    """The segments of the dotted attribute *path*: identifiers that do not start with ``_``.

    Names are checked before anything else happens with them, so a hostile name such as
    ``"x') OR 1=1 --"`` or ``"__init__.__globals__"`` is refused here and never reaches a
    query or an object. Whether the names are fields is checked where the entity class is
    known (:func:`check_declared_path`) and again as values are read (:func:`read_path`).
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
        if segment.startswith("_"):
            raise ConfigurationError(
                f"{path!r} is refused: {segment!r} starts with '_'; {PATH_RULE}"
            )
    return segments


@functools.lru_cache(maxsize=1024)
def declared_fields(cls: type) -> dict[str, Any] | None:
    """The declared fields of the record class *cls* and their types; None for other types."""
    if not is_record_class(cls):
        return None
    return {field.name: field.type for field in record_fields(cls)}


def check_declared_path(record_type: type, segments: tuple[str, ...]) -> None:
    """Refuse *segments* unless they follow :data:`PATH_RULE` through *record_type*'s types.

    Where the declared types stop saying what a value is (``Any``, a union of records, a
    name that cannot be resolved), the rest of the path is checked by :func:`read_path` on
    the values themselves.
    """
    current: Any = record_type
    for depth, segment in enumerate(segments):
        if segment.startswith("_"):
            raise ConfigurationError(
                f"{'.'.join(segments)!r} is refused: {segment!r} starts with '_'; {PATH_RULE}"
            )
        current = without_none(current)
        fields = declared_fields(current) if isinstance(current, type) else None
        if fields is not None:
            if segment not in fields:
                raise _not_a_field(segments, depth, current)
            current = fields[segment]
            continue
        origin = typing.get_origin(current)
        container = origin if origin is not None else current
        if isinstance(container, type) and issubclass(container, Mapping):
            arguments = typing.get_args(current)
            current = arguments[1] if len(arguments) == 2 else Any
            continue
        if isinstance(container, type) and container not in (object, Any, types.UnionType):
            where = ".".join(segments[:depth])
            raise ConfigurationError(
                f"{'.'.join(segments)!r} is refused: {where!r} holds a "
                f"{_type_name(current)} (as declared), which has no fields to read "
                f"{segment!r} from; {PATH_RULE}"
            )
        return  # the declared type does not say; read_path checks the values


def read_path(value: Any, segments: tuple[str, ...]) -> Any:
    """The value at *segments* inside *value*, reading only what :data:`PATH_RULE` allows."""
    for depth, segment in enumerate(segments):
        if value is None:
            return None
        if segment.startswith("_"):
            raise ConfigurationError(
                f"{'.'.join(segments)!r} is refused: {segment!r} starts with '_'; {PATH_RULE}"
            )
        if isinstance(value, Mapping):
            value = value.get(segment)
            continue
        kind: type = type(value)
        fields = declared_fields(kind)
        if fields is None:
            where = ".".join(segments[:depth])
            raise ConfigurationError(
                f"{'.'.join(segments)!r} is refused: {where!r} holds a "
                f"{type(value).__qualname__}, which has no fields to read {segment!r} from; "
                f"{PATH_RULE}"
            )
        if segment not in fields:
            raise _not_a_field(segments, depth, type(value))
        value = getattr(value, segment)
    return value


def _not_a_field(segments: tuple[str, ...], depth: int, record_type: type) -> ConfigurationError:
    segment = segments[depth]
    where = ".".join(segments[:depth]) or "the entity"
    found = inspect.getattr_static(record_type, segment, _ABSENT)
    if isinstance(found, property | functools.cached_property):
        what = f"{segment!r} is a property, not a field"
    elif inspect.isroutine(found) or isinstance(found, classmethod | staticmethod):
        what = f"{segment!r} is a method, not a field"
    elif found is not _ABSENT:
        what = f"{segment!r} is a class attribute, not a field"
    else:
        what = f"it has no field {segment!r} (check the spelling)"
    return ConfigurationError(
        f"{'.'.join(segments)!r} is refused: {where} ({record_type.__qualname__}) is read "
        f"by its fields and {what}; {PATH_RULE}"
    )


_ABSENT = object()


def _type_name(declared: Any) -> str:
    return declared.__qualname__ if isinstance(declared, type) else repr(declared)


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
