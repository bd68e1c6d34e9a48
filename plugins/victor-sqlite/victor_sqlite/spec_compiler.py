"""Specifications compiled to SQL over the stored JSON document.

Each comparison becomes a condition on ``json_extract(document, '$.path')``, the same
expression that :func:`index_statement` indexes, so SQLite uses a declared index. Only
comparisons whose SQL result is certain to equal the Python meaning (see
:mod:`victor_core.repository.attributes`) are compiled; the others are left to Python by
:func:`victor_core.repository.expressions.pushdown`. That is decided from the types the
entity class declares: a ``str`` attribute compared with a string, a number with a number,
an enum with one of its members, and so on.

Attribute names reach SQL text only as checked identifiers (letters, digits, ``_``), because
an index is only used for an identical expression; every value is a bound parameter.
Every condition is two-valued (never NULL), so ``NOT`` means exactly Python's ``not``.
"""

from __future__ import annotations

import enum
import math
import re
import typing
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from cattrs.preconf.json import JsonConverter

from victor_core import ConfigurationError
from victor_core.eventsourcing.serializer import as_utc, dumps
from victor_core.repository import OrderKey
from victor_core.repository.attributes import Operator, declared_type
from victor_core.repository.expressions import AllOf, AnyOf, Comparison, Expression, Negation
from victor_core.repository.stored_forms import in_default_form
from victor_core.serialization import converter as default_converter

_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT64 = (-(2**63), 2**63 - 1)
#: Beyond this many values an ``in`` list is bound as one JSON array.
_MANY_VALUES = 100
#: Base fields the repository always stores in UTC, so their ISO text sorts as time does.
_UTC_TIMESTAMPS = {("created_at",), ("updated_at",)}


class Kind(enum.Enum):
    """What SQL sees of an attribute, as far as comparing it goes."""

    TEXT = "text"
    NUMBER = "number"
    ENUM = "enum"
    UUID = "uuid"
    TIMESTAMP = "timestamp"


@attrs.frozen
class Attribute:
    """A declared attribute: its JSON path and how its values compare in SQL."""

    path: tuple[str, ...]
    #: The kind of the value, or of the items when ``is_collection``.
    kind: Kind | None
    is_collection: bool = False
    enum_type: type[enum.Enum] | None = None

    @property
    def sql(self) -> str:
        """``json_extract(document, '$.a.b')``: the indexable expression."""
        return f"json_extract(document, '{json_path(self.path)}')"


def json_path(path: tuple[str, ...]) -> str:
    """``$.a.b`` for a checked path; refuses anything but plain identifiers."""
    for segment in path:
        if not _SQL_NAME.match(segment):
            raise ConfigurationError(
                f"{'.'.join(path)!r} cannot be used in SQL: attribute names must be ASCII "
                "letters, digits and '_'"
            )
    return "$." + ".".join(path)


def quote_name(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


class SpecificationCompiler:
    """Compiles comparisons on one entity class to SQLite conditions.

    *converter* is the one the repository stores entities with: a type it writes in a form
    of its own (see :mod:`victor_core.repository.stored_forms`) is left to Python.
    """

    def __init__(self, entity_type: type, converter: JsonConverter | None = None) -> None:
        self.entity_type = entity_type
        self.converter = converter if converter is not None else default_converter
        self._attributes: dict[tuple[str, ...], Attribute | None] = {}

    def attribute(self, path: tuple[str, ...]) -> Attribute | None:
        """The declared attribute at *path*, or None when SQL cannot address it."""
        if path not in self._attributes:
            self._attributes[path] = self._describe(path)
        return self._attributes[path]

    def _describe(self, path: tuple[str, ...]) -> Attribute | None:
        if not all(_SQL_NAME.match(segment) for segment in path):
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
        return Attribute(path, kind, enum_type=enum_type)

    def _checked(self, kind: Kind | None, declared: Any) -> Kind | None:
        """*kind*, unless the converter writes *declared* values in a form of its own."""
        if kind is None:
            return None
        scalar = _PLAIN_NAMES.get(declared, declared)
        return kind if in_default_form(self.converter, scalar) else None

    def compiles(self, comparison: Comparison) -> bool:
        """True when SQL gives exactly Python's answer for *comparison*."""
        attribute = self.attribute(comparison.path)
        if attribute is None:
            return False
        op, value = comparison.op, comparison.value
        if op in (Operator.EQ, Operator.NE) and value is None:
            return True  # JSON null is exactly Python's None, whatever the type
        if attribute.is_collection:
            return op is Operator.CONTAINS and _bindable(attribute, value)
        if op is Operator.CONTAINS:
            return attribute.kind is Kind.TEXT and _bindable(attribute, value)
        if op is Operator.IN:
            return all(v is None or _bindable(attribute, v) for v in value)
        if op in (Operator.EQ, Operator.NE):
            return _bindable(attribute, value)
        return attribute.kind is not Kind.ENUM and _bindable(attribute, value)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        """True when SQLite sorts every key as ``sort_key`` does."""
        for key in keys:
            attribute = self.attribute(key.path)
            if attribute is None or attribute.kind is None or attribute.is_collection:
                return False
        return True

    def order_clause(self, keys: Sequence[OrderKey]) -> str:
        """``ORDER BY ...`` for *keys*, ties broken by id; by position without keys."""
        if not keys:
            return "ORDER BY position"
        parts = []
        for key in keys:
            attribute = self.attribute(key.path)
            assert attribute is not None  # orders_by() was asked first
            parts.append(f"{attribute.sql} {'DESC' if key.descending else 'ASC'}")
        return "ORDER BY " + ", ".join(parts) + ", id ASC"

    def where(self, expression: Expression, params: list[Any]) -> str:
        """SQL for *expression*, appending its parameters to *params*."""
        if isinstance(expression, Comparison):
            return self._comparison(expression, params)
        if isinstance(expression, Negation):
            return f"NOT {self.where(expression.item, params)}"
        if isinstance(expression, AllOf | AnyOf):
            joiner = " AND " if isinstance(expression, AllOf) else " OR "
            return "(" + joiner.join(self.where(item, params) for item in expression.items) + ")"
        raise ConfigurationError(  # pushdown() never hands over an opaque leaf
            f"cannot compile {expression!r} to SQL"
        )

    def _comparison(self, comparison: Comparison, params: list[Any]) -> str:
        attribute = self.attribute(comparison.path)
        assert attribute is not None  # compiles() was asked first
        x, op, value = attribute.sql, comparison.op, comparison.value
        if op is Operator.EQ:
            if value is None:
                return f"({x} IS NULL)"
            params.append(_bind(attribute, value))
            return f"({x} IS ?)"
        if op is Operator.NE:
            if value is None:
                return f"({x} IS NOT NULL)"
            params.append(_bind(attribute, value))
            return f"({x} IS NOT ?)"
        if op is Operator.IN:
            present = [_bind(attribute, v) for v in value if v is not None]
            terms = []
            if len(present) > _MANY_VALUES:
                # One parameter however many values: SQLite builds often bind at most 999.
                params.append(dumps(present))
                terms.append(f"({x} IS NOT NULL AND {x} IN (SELECT value FROM json_each(?)))")
            elif present:
                params.extend(present)
                marks = ", ".join("?" * len(present))
                terms.append(f"({x} IS NOT NULL AND {x} IN ({marks}))")
            if any(v is None for v in value):
                terms.append(f"({x} IS NULL)")
            return "(" + " OR ".join(terms) + ")" if terms else "(0)"
        if op is Operator.CONTAINS:
            params.append(_bind(attribute, value))
            if attribute.is_collection:
                path = json_path(attribute.path)
                return f"EXISTS (SELECT 1 FROM json_each(document, '{path}') WHERE value = ?)"
            return f"({x} IS NOT NULL AND instr({x}, ?) > 0)"
        params.append(_bind(attribute, value))
        return f"({x} IS NOT NULL AND {x} {op.value} ?)"


_PLAIN_NAMES: dict[Any, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _scalar_kind(declared: Any) -> tuple[Kind | None, type[enum.Enum] | None]:
    declared = _PLAIN_NAMES.get(declared, declared)
    if declared is str:
        return Kind.TEXT, None
    if declared in (int, float, bool):
        return Kind.NUMBER, None
    if declared is UUID:
        return Kind.UUID, None
    if isinstance(declared, type) and issubclass(declared, enum.Enum):
        values = [member.value for member in declared]
        if all(_plain_scalar(v) for v in values):
            return Kind.ENUM, declared
    return None, None


def _plain_scalar(value: object) -> bool:
    if isinstance(value, str):
        # SQLite's JSON functions and instr() end a string at its first NUL.
        return "\x00" not in value
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return _INT64[0] <= value <= _INT64[1]
    return isinstance(value, float) and math.isfinite(value)


def _bindable(attribute: Attribute, value: object) -> bool:
    kind = attribute.kind
    if kind is Kind.TEXT:
        return isinstance(value, str) and _plain_scalar(value)
    if kind is Kind.NUMBER:
        return not isinstance(value, str) and _plain_scalar(value)
    if kind is Kind.ENUM:
        return attribute.enum_type is not None and type(value) is attribute.enum_type
    if kind is Kind.UUID:
        return isinstance(value, UUID)
    if kind is Kind.TIMESTAMP:
        return isinstance(value, datetime)
    return False


def _bind(attribute: Attribute, value: Any) -> Any:
    """The parameter to compare with what the converter stored for *value*."""
    if attribute.kind is Kind.ENUM:
        return value.value
    if attribute.kind is Kind.UUID:
        return str(value)
    if attribute.kind is Kind.TIMESTAMP:
        return as_utc(value).isoformat()
    return value
