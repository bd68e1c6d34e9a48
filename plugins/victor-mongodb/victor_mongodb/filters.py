"""Specifications compiled to MongoDB query filters, where that gives exactly Python's answer.

A comparison is compiled only when MongoDB's result is certain to equal the Python meaning
(see :mod:`victor_core.repository.attributes`); the others are left to Python by
:func:`victor_core.repository.expressions.pushdown`. That is decided from the types the
entity class declares, with MongoDB's own rules in mind:

- a boolean is not a number in MongoDB (``true`` never equals ``1``), so booleans and numbers
  are compared only with values of their own kind;
- a filter on an array field matches when *any* item matches, so list fields are only
  compiled for ``contains``;
- ``created_at`` and ``updated_at`` are stored as UTC text of one format, so they compare and
  sort as time does; other datetimes keep their writer's offset and are left to Python.

Safety: attribute paths are identifiers (checked by the specification), so no field name
in a filter starts with ``$`` or contains NUL; every value is wrapped in an operator
(``{"$eq": value}``), so no value is ever read as an operator, and the values compiled are
scalars (strings, numbers, booleans, None), never documents.
"""

from __future__ import annotations

import enum
import math
import re
import types
import typing
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from cattrs.preconf.json import JsonConverter

from victor_core import ConfigurationError
from victor_core.eventsourcing.serializer import as_utc
from victor_core.repository import OrderKey
from victor_core.repository.attributes import Operator, declared_type
from victor_core.repository.expressions import AllOf, AnyOf, Comparison, Expression, Negation
from victor_core.repository.stored_forms import in_default_form
from victor_core.serialization import converter as default_converter

_INT64 = (-(2**63), 2**63 - 1)
_UTC_TIMESTAMPS = {("created_at",), ("updated_at",)}
_ORDERINGS = {Operator.LT: "$lt", Operator.LE: "$lte", Operator.GT: "$gt", Operator.GE: "$gte"}
_SAFE_SEGMENT = re.compile(r"^[^\W\d]\w*$")


class Kind(enum.Enum):
    """What MongoDB holds for an attribute, as far as comparing it goes."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    UUID = "uuid"
    TIMESTAMP = "timestamp"


@attrs.frozen
class Attribute:
    """A declared attribute: its field in the document and how its values compare."""

    path: tuple[str, ...]
    #: The kind of the value, or of the items when ``is_collection``; None when unknown.
    kind: Kind | None
    is_collection: bool = False
    enum_type: type[enum.Enum] | None = None
    #: True when the stored value is never an array, whose items MongoDB would match.
    scalar: bool = True

    @property
    def field(self) -> str:
        """The dotted field name in the stored document (the id is ``_id``)."""
        return "_id" if self.path == ("id",) else ".".join(self.path)


def field_name(path: tuple[str, ...]) -> str:
    """The document field for an attribute path; refuses anything but identifiers."""
    for segment in path:
        if not _SAFE_SEGMENT.match(segment):
            raise ConfigurationError(
                f"{'.'.join(path)!r} cannot name a MongoDB field: each part must be an "
                "identifier (letters, digits and '_', not starting with a digit)"
            )
    return "_id" if path == ("id",) else ".".join(path)


class FilterCompiler:
    """Compiles comparisons on one entity class to MongoDB filters and sorts.

    *converter* is the one the repository stores entities with: a type it writes in a form
    of its own (see :mod:`victor_core.repository.stored_forms`) is left to Python.
    """

    def __init__(self, entity_type: type, converter: JsonConverter | None = None) -> None:
        self.entity_type = entity_type
        self.converter = converter if converter is not None else default_converter
        self._attributes: dict[tuple[str, ...], Attribute | None] = {}

    def attribute(self, path: tuple[str, ...]) -> Attribute | None:
        """The declared attribute at *path*, or None when MongoDB cannot be trusted with it."""
        if path not in self._attributes:
            self._attributes[path] = self._describe(path)
        return self._attributes[path]

    def _describe(self, path: tuple[str, ...]) -> Attribute | None:
        if not all(_SAFE_SEGMENT.match(segment) for segment in path):
            return None
        declared = declared_type(self.entity_type, path)
        if declared is None:
            return None
        if path in _UTC_TIMESTAMPS and declared is datetime:
            return Attribute(path, self._checked(Kind.TIMESTAMP, datetime))
        origin = typing.get_origin(declared)
        if origin in (list, set, frozenset) or (
            origin is tuple and typing.get_args(declared)[1:] == (Ellipsis,)
        ):
            item = typing.get_args(declared)[0]
            kind, enum_type = _scalar_kind(item)
            kind = self._checked(kind, enum_type or item)
            return Attribute(path, kind, is_collection=True, enum_type=enum_type)
        kind, enum_type = _scalar_kind(declared)
        kind = self._checked(kind, enum_type or declared)
        return Attribute(path, kind, enum_type=enum_type, scalar=_never_an_array(declared))

    def _checked(self, kind: Kind | None, declared: Any) -> Kind | None:
        """*kind*, unless the converter writes *declared* values in a form of its own."""
        if kind is None:
            return None
        scalar = _PLAIN_NAMES.get(declared, declared)
        return kind if in_default_form(self.converter, scalar) else None

    def compiles(self, comparison: Comparison) -> bool:
        """True when MongoDB gives exactly Python's answer for *comparison*."""
        attribute = self.attribute(comparison.path)
        if attribute is None:
            return False
        op, value = comparison.op, comparison.value
        if op in (Operator.EQ, Operator.NE) and value is None:
            # Null or missing is exactly Python's None, unless an array holding null is there.
            return attribute.scalar and not attribute.is_collection
        if attribute.is_collection:
            return op is Operator.CONTAINS and _bindable(attribute, value)
        if op is Operator.CONTAINS:
            return attribute.kind is Kind.TEXT and isinstance(value, str) and "\x00" not in value
        if op is Operator.IN:
            return all(v is None or _bindable(attribute, v) for v in value)
        if op in (Operator.EQ, Operator.NE):
            return _bindable(attribute, value)
        return attribute.kind is not Kind.ENUM and _bindable(attribute, value)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        """True when MongoDB sorts every key as ``sort_key`` does."""
        for key in keys:
            attribute = self.attribute(key.path)
            if attribute is None or attribute.kind is None or attribute.is_collection:
                return False
        return True

    def sort(self, keys: Sequence[OrderKey]) -> list[tuple[str, int]]:
        """The sort for *keys*, ties broken by ascending id, each field named once.

        PyMongo sends a sort as one document, where a field named twice keeps only its last
        direction (``-id`` plus the tie-breaking ``_id`` would sort ascending). A later key
        on a field already sorted by can never change the order, so it is dropped.
        """
        fields: dict[str, int] = {}
        for key in keys:
            fields.setdefault(field_name(key.path), -1 if key.descending else 1)
        fields.setdefault("_id", 1)
        return list(fields.items())

    def filter(self, expression: Expression) -> dict[str, Any]:
        """The MongoDB filter for *expression* (as returned by ``pushdown``)."""
        if isinstance(expression, Comparison):
            return self._comparison(expression)
        if isinstance(expression, Negation):
            return {"$nor": [self.filter(expression.item)]}
        if isinstance(expression, AllOf):
            return {"$and": [self.filter(item) for item in expression.items]}
        if isinstance(expression, AnyOf):
            return {"$or": [self.filter(item) for item in expression.items]}
        raise ConfigurationError(  # pushdown() never hands over an opaque leaf
            f"cannot compile {expression!r} to a MongoDB filter"
        )

    def _comparison(self, comparison: Comparison) -> dict[str, Any]:
        attribute = self.attribute(comparison.path)
        if attribute is None or not self.compiles(comparison):
            raise ConfigurationError(  # pushdown() asked compiles() first
                f"cannot compile {comparison!r} to a MongoDB filter"
            )
        op, value = comparison.op, comparison.value
        if op is Operator.EQ and value is None:
            return _none_at(attribute)
        if op is Operator.NE and value is None:
            return {"$nor": [_none_at(attribute)]}
        if op is Operator.IN and None in value:
            present = [_bind(attribute, v) for v in value if v is not None]
            if not present:
                return _none_at(attribute)
            return {"$or": [{attribute.field: {"$in": present}}, _none_at(attribute)]}
        if op is Operator.EQ:
            condition: dict[str, Any] = {"$eq": _bind(attribute, value)}
        elif op is Operator.NE:
            condition = {"$ne": _bind(attribute, value)}
        elif op is Operator.IN:
            condition = {"$in": [_bind(attribute, v) for v in value]}
        elif op is Operator.CONTAINS and attribute.is_collection:
            condition = {"$elemMatch": {"$eq": _bind(attribute, value)}}
        elif op is Operator.CONTAINS:
            condition = {"$regex": re.escape(value)}
        else:
            condition = {_ORDERINGS[op]: _bind(attribute, value)}
        return {attribute.field: condition}


def _none_at(attribute: Attribute) -> dict[str, Any]:
    """Where Python reads None at the attribute: it, or any record on the way to it, is null.

    A server treats ``a.b`` under a null ``a`` as missing, which ``{"$eq": None}`` matches;
    naming every step makes that explicit, so in-process stand-ins that disagree get it right.
    """
    if len(attribute.path) == 1:
        return {attribute.field: {"$eq": None}}
    steps = [".".join(attribute.path[: n + 1]) for n in range(len(attribute.path))]
    return {"$or": [{step: {"$eq": None}} for step in steps]}


_PLAIN_NAMES: dict[Any, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _scalar_kind(declared: Any) -> tuple[Kind | None, type[enum.Enum] | None]:
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
        and all(isinstance(m.value, str) or _number(m.value) for m in declared)
    ):
        return Kind.ENUM, declared
    return None, None


def _never_an_array(declared: Any) -> bool:
    """True when the converter never writes a value of type *declared* as an array."""
    origin = typing.get_origin(declared)
    if origin in (typing.Union, types.UnionType):
        return all(_never_an_array(arg) for arg in typing.get_args(declared))
    if origin is not None:
        declared = origin
    if declared in (Any, object) or not isinstance(declared, type):
        return False  # Any, a type variable or object: it could hold a list
    return not issubclass(declared, list | tuple | set | frozenset)


def _number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return _INT64[0] <= value <= _INT64[1]
    return isinstance(value, float) and math.isfinite(value)


def _bindable(attribute: Attribute, value: object) -> bool:
    kind = attribute.kind
    if kind is Kind.TEXT:
        return isinstance(value, str)
    if kind is Kind.NUMBER:
        return _number(value)
    if kind is Kind.BOOLEAN:
        return isinstance(value, bool)
    if kind is Kind.ENUM:
        return attribute.enum_type is not None and type(value) is attribute.enum_type
    if kind is Kind.UUID:
        return isinstance(value, UUID)
    if kind is Kind.TIMESTAMP:
        return isinstance(value, datetime)
    return False


def _bind(attribute: Attribute, value: Any) -> Any:
    """The value to compare with what the converter stored for *value*."""
    if value is None:
        return None
    if attribute.kind is Kind.ENUM:
        return value.value
    if attribute.kind is Kind.UUID:
        return str(value)
    if attribute.kind is Kind.TIMESTAMP:
        return as_utc(value).isoformat()
    return value
