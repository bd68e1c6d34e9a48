"""What an entity class declares about its attributes, as far as a query engine may compare them.

Every backend that compiles specifications must compile only what gives exactly Python's
answer (see :mod:`victor_core.repository.specification`) and leave the rest to Python through
:func:`victor_core.repository.expressions.pushdown`. Whether a comparison qualifies rests on
the types the entity class declares, not on the engine: a ``str`` attribute compared with a
string, a number with a number, an enum with one of its own members, a list searched for an
item. That analysis is made here, once, so that SQLite, MongoDB and any later engine agree
on it; each backend adds only its own rules: how it names a field, which values it can bind
exactly, what it makes of null.

It also rests on what the converter wrote (:func:`in_default_form`): a ``str`` as itself, an
enum member as its ``value``, a UUID as its canonical text, a UTC datetime as ISO 8601 text.
A converter with hooks of its own (an enum stored by name, say) breaks that knowledge, so a
type it stores in a form of its own has no known kind, and comparisons on it stay in Python,
which decodes the entity and cannot be misled.
"""

from __future__ import annotations

import enum
import math
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
from cattrs.preconf.json import JsonConverter

from victor_core._records import is_record_class, record_fields
from victor_core.eventsourcing.serializer import as_utc, dumps
from victor_core.repository.expressions import Comparison
from victor_core.repository.specification import Operator, OrderKey, without_none
from victor_core.serialization import converter as default_converter

#: Base fields the repository always stores in UTC, so their ISO text sorts as time does.
_UTC_TIMESTAMPS = {("created_at",), ("updated_at",)}
#: Builtin types as string annotations name them (``from __future__ import annotations``).
_PLAIN_NAMES: dict[Any, type] = {"str": str, "int": int, "float": float, "bool": bool}
_INT64 = (-(2**63), 2**63 - 1)


class Kind(enum.Enum):
    """What an engine holds for an attribute, as far as comparing it goes."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    UUID = "uuid"
    TIMESTAMP = "timestamp"


@attrs.frozen
class DeclaredAttribute:
    """An attribute the entity class declares, and how an engine may compare its values."""

    path: tuple[str, ...]
    #: The kind of the value, or of the items when ``is_collection``; None when unknown.
    kind: Kind | None
    #: The type declared at *path* (``Optional`` removed), for an engine's own rules.
    declared: Any
    is_collection: bool = False
    enum_type: type[enum.Enum] | None = None


class DeclaredAttributes:
    """The declared attributes of one entity class, described once per path.

    *converter* is the one the repository stores entities with. *segment_pattern* is what
    the engine accepts as one part of a path; other paths are never described. *enum_values*
    says which enum member values the engine compares exactly as Python does: an enum with
    any other value has no known kind.
    """

    def __init__(
        self,
        entity_type: type,
        converter: JsonConverter | None = None,
        *,
        segment_pattern: re.Pattern[str],
        enum_values: Callable[[object], bool],
    ) -> None:
        self.entity_type = entity_type
        self.converter = converter if converter is not None else default_converter
        self._segment_pattern = segment_pattern
        self._enum_values = enum_values
        self._described: dict[tuple[str, ...], DeclaredAttribute | None] = {}

    def attribute(self, path: tuple[str, ...]) -> DeclaredAttribute | None:
        """The declared attribute at *path*, or None when the engine cannot address it."""
        if path not in self._described:
            self._described[path] = self._describe(path)
        return self._described[path]

    def compiles(
        self,
        comparison: Comparison,
        accepts: Callable[[DeclaredAttribute, object], bool],
        *,
        none_is_exact: Callable[[DeclaredAttribute], bool],
    ) -> bool:
        """True when an engine comparing stored forms gives exactly Python's answer.

        *accepts* says which values the engine compares with the attribute's stored form
        exactly as Python compares them with its value; *none_is_exact* whether the engine's
        null or missing field is exactly Python's ``None`` there. Beyond those two rules of
        the engine's own, a collection only answers ``contains``; a substring is searched
        for only in text and never holds NUL, where engines written in C end a string; enum
        members do not order.
        """
        attribute = self.attribute(comparison.path)
        if attribute is None:
            return False
        op, value = comparison.op, comparison.value
        if op in (Operator.EQ, Operator.NE) and value is None:
            return none_is_exact(attribute)
        if attribute.is_collection:
            return op is Operator.CONTAINS and accepts(attribute, value)
        if op is Operator.CONTAINS:
            return attribute.kind is Kind.TEXT and isinstance(value, str) and "\x00" not in value
        if op is Operator.IN:
            return all(v is None or accepts(attribute, v) for v in value)
        if op in (Operator.EQ, Operator.NE):
            return accepts(attribute, value)
        return attribute.kind is not Kind.ENUM and accepts(attribute, value)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        """True when every key is one declared value of a known kind.

        Values of a known kind are stored as numbers or as text that sorts as they do, so an
        engine orders them as :func:`~victor_core.repository.specification.sort_key` does.
        """
        for key in keys:
            attribute = self.attribute(key.path)
            if attribute is None or attribute.kind is None or attribute.is_collection:
                return False
        return True

    def _describe(self, path: tuple[str, ...]) -> DeclaredAttribute | None:
        if not all(self._segment_pattern.match(segment) for segment in path):
            return None
        declared = declared_type(self.entity_type, path)
        if declared is None:
            return None
        if path in _UTC_TIMESTAMPS and declared is datetime:
            return DeclaredAttribute(path, self._checked(Kind.TIMESTAMP, datetime), declared)
        origin = typing.get_origin(declared)
        if origin in (list, set, frozenset) or (
            origin is tuple and typing.get_args(declared)[1:] == (Ellipsis,)
        ):
            item = typing.get_args(declared)[0]
            kind, enum_type = self._scalar_kind(item)
            kind = self._checked(kind, enum_type or item)
            return DeclaredAttribute(path, kind, declared, is_collection=True, enum_type=enum_type)
        kind, enum_type = self._scalar_kind(declared)
        kind = self._checked(kind, enum_type or declared)
        return DeclaredAttribute(path, kind, declared, enum_type=enum_type)

    def _scalar_kind(self, declared: Any) -> tuple[Kind | None, type[enum.Enum] | None]:
        declared = _PLAIN_NAMES.get(declared, declared)
        if declared is str:
            return Kind.TEXT, None
        if declared is bool:
            return Kind.BOOLEAN, None
        if declared in (int, float):
            return Kind.NUMBER, None
        if declared is UUID:
            return Kind.UUID, None
        if (
            isinstance(declared, type)
            and issubclass(declared, enum.Enum)
            and all(self._enum_values(member.value) for member in declared)
        ):
            return Kind.ENUM, declared
        return None, None

    def _checked(self, kind: Kind | None, declared: Any) -> Kind | None:
        """*kind*, unless the converter writes *declared* values in a form of its own."""
        if kind is None:
            return None
        scalar = _PLAIN_NAMES.get(declared, declared)
        return kind if in_default_form(self.converter, scalar) else None


def holds_declared_value(attribute: DeclaredAttribute, value: object) -> bool:
    """True when *value* is an enum member, UUID or datetime of the attribute's kind.

    The converter stores each of these in one form (a member's value, canonical text, UTC
    ISO text), so comparing stored forms is comparing values. Text, numbers and booleans
    are the engine's to judge: False for them.
    """
    kind = attribute.kind
    if kind is Kind.ENUM:
        return attribute.enum_type is not None and type(value) is attribute.enum_type
    if kind is Kind.UUID:
        return isinstance(value, UUID)
    if kind is Kind.TIMESTAMP:
        return isinstance(value, datetime)
    return False


def stored_value(attribute: DeclaredAttribute, value: Any) -> Any:
    """What the converter stored for *value*, for an engine to compare the attribute with."""
    if value is None:
        return None
    if attribute.kind is Kind.ENUM:
        return value.value
    if attribute.kind is Kind.UUID:
        return str(value)
    if attribute.kind is Kind.TIMESTAMP:
        return as_utc(value).isoformat()
    return value


def is_exact_number(value: object) -> bool:
    """True for an int within 64 bits or a finite float (never a bool).

    Engines store such numbers exactly and compare them as Python does; a larger integer,
    NaN or an infinity they would round, refuse or order differently.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return _INT64[0] <= value <= _INT64[1]
    return isinstance(value, float) and math.isfinite(value)


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


_SAMPLE_UUID = UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
_PLAIN_SAMPLES: dict[type, tuple[Any, ...]] = {
    str: ("", "text"),
    int: (0, -7),
    float: (0.5, -2.0),
    bool: (True, False),
}


def in_default_form(converter: JsonConverter, declared: Any) -> bool:
    """True when *converter* writes values of the scalar type *declared* in victor's form."""
    try:
        if declared in _PLAIN_SAMPLES:
            return all(_written_as(converter, v, declared, v) for v in _PLAIN_SAMPLES[declared])
        if declared is UUID:
            return _written_as(converter, _SAMPLE_UUID, UUID, str(_SAMPLE_UUID))
        if declared is datetime:
            return all(
                _written_as(converter, moment, datetime, moment.isoformat())
                for moment in (
                    datetime(2024, 2, 29, 12, 30, tzinfo=UTC),
                    datetime(2024, 2, 29, 12, 30, 1, 5, tzinfo=UTC),
                )
            )
        if isinstance(declared, type) and issubclass(declared, enum.Enum):
            return all(_written_as(converter, m, declared, m.value) for m in declared)
    except Exception:  # a hook that cannot write a sample is not the default one
        return False
    return False


def _written_as(converter: JsonConverter, value: Any, declared: Any, expected: Any) -> bool:
    # Compared as the JSON text stored, where an IntEnum member is its number.
    return dumps(converter.unstructure(value, declared)) == dumps(expected)
