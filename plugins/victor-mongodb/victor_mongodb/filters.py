"""Specifications compiled to MongoDB query filters, where that gives exactly Python's answer.

A comparison is compiled only when MongoDB's result is certain to equal the Python meaning
(see :mod:`victor_core.repository.specification`); the others are left to Python by
:func:`victor_core.backend.pushdown`. That is decided from the types the entity class
declares (:class:`victor_core.backend.PushdownCompiler`), with MongoDB's own
rules in mind:

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

import re
import types
import typing
from collections.abc import Sequence
from typing import Any

from cattrs.preconf.json import JsonConverter

from victor_core.backend import (
    Comparison,
    ConfigurationError,
    DeclaredAttribute,
    Expression,
    Kind,
    Operator,
    OrderKey,
    PushdownCompiler,
    holds_declared_value,
    is_exact_number,
    stored_value,
)

_ORDERINGS = {Operator.LT: "$lt", Operator.LE: "$lte", Operator.GT: "$gt", Operator.GE: "$gte"}
_SAFE_SEGMENT = re.compile(r"^[^\W\d]\w*$")


def field_name(path: tuple[str, ...]) -> str:
    """The dotted document field for an attribute path (the id is ``_id``).

    Refuses anything but identifiers, so no field name can be read as an operator.
    """
    for segment in path:
        if not _SAFE_SEGMENT.match(segment):
            raise ConfigurationError(
                f"{'.'.join(path)!r} cannot name a MongoDB field: each part must be an "
                "identifier (letters, digits and '_', not starting with a digit)"
            )
    return "_id" if path == ("id",) else ".".join(path)


class FilterCompiler(PushdownCompiler[dict[str, Any], None]):
    """Compiles comparisons on one entity class to MongoDB filters and sorts.

    *converter* is the one the repository stores entities with. What may be compiled is
    decided by :class:`~victor_core.backend.PushdownCompiler` with MongoDB's rules (see the
    module docstring): booleans apart from numbers, and ``None`` only where no array could
    stand.
    """

    language = "a MongoDB filter"

    def __init__(self, entity_type: type, converter: JsonConverter | None = None) -> None:
        super().__init__(
            entity_type,
            converter,
            segment_pattern=_SAFE_SEGMENT,
            enum_values=_enum_value,
            accepts=_bindable,
            none_is_exact=_null_is_none,
        )

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
        return self.condition(expression, None)

    def negation(self, condition: dict[str, Any]) -> dict[str, Any]:
        return {"$nor": [condition]}

    def all_of(self, conditions: list[dict[str, Any]]) -> dict[str, Any]:
        return {"$and": conditions}

    def any_of(self, conditions: list[dict[str, Any]]) -> dict[str, Any]:
        return {"$or": conditions}

    def comparison(
        self, attribute: DeclaredAttribute, comparison: Comparison, params: None
    ) -> dict[str, Any]:
        op, value = comparison.op, comparison.value
        if op is Operator.EQ and value is None:
            return _none_at(attribute)
        if op is Operator.NE and value is None:
            return {"$nor": [_none_at(attribute)]}
        if op is Operator.IN and None in value:
            present = [stored_value(attribute, v) for v in value if v is not None]
            if not present:
                return _none_at(attribute)
            return {"$or": [{field_name(attribute.path): {"$in": present}}, _none_at(attribute)]}
        if op is Operator.EQ:
            condition: dict[str, Any] = {"$eq": stored_value(attribute, value)}
        elif op is Operator.NE:
            condition = {"$ne": stored_value(attribute, value)}
        elif op is Operator.IN:
            condition = {"$in": [stored_value(attribute, v) for v in value]}
        elif op is Operator.CONTAINS and attribute.is_collection:
            condition = {"$elemMatch": {"$eq": stored_value(attribute, value)}}
        elif op is Operator.CONTAINS:
            condition = {"$regex": re.escape(value)}
        else:
            condition = {_ORDERINGS[op]: stored_value(attribute, value)}
        return {field_name(attribute.path): condition}


def _none_at(attribute: DeclaredAttribute) -> dict[str, Any]:
    """Where Python reads None at the attribute: it, or any record on the way to it, is null.

    A server treats ``a.b`` under a null ``a`` as missing, which ``{"$eq": None}`` matches;
    naming every step makes that explicit, so in-process stand-ins that disagree get it right.
    """
    if len(attribute.path) == 1:
        return {field_name(attribute.path): {"$eq": None}}
    steps = [".".join(attribute.path[: n + 1]) for n in range(len(attribute.path))]
    return {"$or": [{step: {"$eq": None}} for step in steps]}


def _enum_value(value: object) -> bool:
    """An enum member value MongoDB compares as Python does: text or a number, not a bool."""
    return isinstance(value, str) or is_exact_number(value)


def _null_is_none(attribute: DeclaredAttribute) -> bool:
    """True when null or missing is exactly Python's None: no array holding null can be there."""
    return not attribute.is_collection and _never_an_array(attribute.declared)


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


def _bindable(attribute: DeclaredAttribute, value: object) -> bool:
    kind = attribute.kind
    if kind is Kind.TEXT:
        return isinstance(value, str)
    if kind is Kind.NUMBER:
        return is_exact_number(value)
    if kind is Kind.BOOLEAN:
        return isinstance(value, bool)
    return holds_declared_value(attribute, value)
