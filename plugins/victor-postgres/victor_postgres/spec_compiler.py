"""Specifications compiled to SQL over the stored JSONB document.

Each comparison reads the attribute with ``document #> '{a,b}'`` (JSONB) and compares it
by the type of the value the converter stored, so that the answer is Python's:

- text as text in byte order, ``(document #>> '{a,b}') COLLATE "C"``, whatever the
  database's collation (Python compares strings by code point, which UTF-8 bytes keep);
- numbers as JSONB numbers, which PostgreSQL compares as exact decimals, so ``1 == 1.0``
  and ints and floats mix as in Python;
- booleans as JSONB booleans; JSON ``null`` and a missing attribute are both ``None``.

Only comparisons whose result is certain to equal the Python meaning are compiled (decided
from the declared types by :class:`~victor_core.backend.PushdownCompiler`); the rest are
left to Python by :func:`~victor_core.backend.pushdown`. Attribute names reach SQL text only
as checked identifiers (an index is only used for an identical expression); every value is
a bound parameter. Every condition is two-valued (never NULL), so ``NOT`` means Python's
``not``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cattrs.preconf.json import JsonConverter

from victor_core.backend import (
    Comparison,
    ConfigurationError,
    DeclaredAttribute,
    Kind,
    Operator,
    OrderKey,
    SQLPushdownCompiler,
    dumps,
    holds_declared_value,
    is_exact_number,
    stored_value,
)

_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Beyond this many values, ``in`` binds them as one array rather than one by one.
_MANY_VALUES = 100
_ORDERS = {Operator.LT: "<", Operator.LE: "<=", Operator.GT: ">", Operator.GE: ">="}


def json_path(path: tuple[str, ...]) -> str:
    """``'{a,b}'`` for a checked path; refuses anything but plain identifiers."""
    for segment in path:
        if not _SQL_NAME.match(segment):
            raise ConfigurationError(
                f"{'.'.join(path)!r} cannot be used in SQL: attribute names must be ASCII "
                "letters, digits and '_'"
            )
    return "'{" + ",".join(path) + "}'"


def json_value(path: tuple[str, ...]) -> str:
    """``document #> '{a,b}'``: the attribute as JSONB (SQL NULL when it is missing)."""
    return f"(document #> {json_path(path)})"


def text_value(path: tuple[str, ...]) -> str:
    """The attribute as text in byte order: the expression text indexes are built on."""
    return f'((document #>> {json_path(path)}) COLLATE "C")'


def quote_name(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def index_expressions(attribute: DeclaredAttribute | None, path: tuple[str, ...]) -> list[str]:
    """What to index for a declared attribute: its text in byte order and/or its JSONB."""
    if attribute is not None and attribute.kind in (Kind.TEXT, Kind.UUID, Kind.TIMESTAMP):
        return [text_value(path)]
    if attribute is not None and attribute.kind in (Kind.NUMBER, Kind.BOOLEAN):
        return [json_value(path)]
    return [text_value(path), json_value(path)]


class SpecificationCompiler(SQLPushdownCompiler):
    """Compiles comparisons on one entity class to PostgreSQL conditions over JSONB.

    *converter* is the one the repository stores entities with.
    """

    def __init__(self, entity_type: type, converter: JsonConverter | None = None) -> None:
        super().__init__(
            entity_type,
            converter,
            segment_pattern=_SQL_NAME,
            enum_values=_plain_scalar,
            accepts=_bindable,
            none_is_exact=_always,
        )

    def order_clause(self, keys: Sequence[OrderKey]) -> str:
        """``ORDER BY ...`` for *keys*, ties broken by id; by position without keys.

        Each key sorts as :func:`~victor_core.backend.sort_key`: None first, then numbers
        (booleans among them), then text in byte order.
        """
        if not keys:
            return "ORDER BY position"
        parts = []
        for key in keys:
            x = json_value(key.path)
            way = "DESC" if key.descending else "ASC"
            parts += [
                f"CASE jsonb_typeof({x}) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1"
                f" WHEN 'string' THEN 2 ELSE 0 END {way}",
                f"CASE jsonb_typeof({x}) WHEN 'number' THEN ({x} #>> '{{}}')::numeric"
                f" WHEN 'boolean' THEN ({x} #>> '{{}}')::boolean::int END {way}",
                f"CASE jsonb_typeof({x}) WHEN 'string' THEN {text_value(key.path)} END {way}",
            ]
        return "ORDER BY " + ", ".join(parts) + ", id ASC"

    def comparison(
        self, attribute: DeclaredAttribute, comparison: Comparison, params: list[Any]
    ) -> str:
        path, op, value = attribute.path, comparison.op, comparison.value
        x = json_value(path)
        if op in (Operator.EQ, Operator.NE):
            condition = (
                f"(coalesce(jsonb_typeof({x}), 'null') = 'null')"
                if value is None
                else _equals(path, stored_value(attribute, value), params)
            )
            return condition if op is Operator.EQ else f"NOT {condition}"
        if op is Operator.IN:
            present = [stored_value(attribute, v) for v in value if v is not None]
            if len(present) > _MANY_VALUES:
                # One parameter however many values: a query binds at most 32767. JSONB
                # values are equal only when of one JSON type, as each term below demands.
                params.append([as_jsonb(dumps(v)) for v in present])
                terms = [f"coalesce({x} = ANY(${len(params)}::jsonb[]), false)"]
            else:
                terms = [_equals(path, stored, params) for stored in present]
            if any(v is None for v in value):
                terms.append(f"(coalesce(jsonb_typeof({x}), 'null') = 'null')")
            return "(" + " OR ".join(terms) + ")" if terms else "false"
        if op is Operator.CONTAINS:
            stored = stored_value(attribute, value)
            if attribute.is_collection:
                params.append(as_jsonb(dumps([stored])))
                return f"coalesce({x} @> ${len(params)}::jsonb, false)"
            params.append(stored)
            return (
                f"coalesce(jsonb_typeof({x}) = 'string'"
                f" AND strpos({text_value(path)}, ${len(params)}::text) > 0, false)"
            )
        return _compared(path, _ORDERS[op], stored_value(attribute, value), params)


def _equals(path: tuple[str, ...], stored: object, params: list[Any]) -> str:
    return _compared(path, "=", stored, params)


def _compared(path: tuple[str, ...], operator: str, stored: object, params: list[Any]) -> str:
    """The attribute compared with one stored value, by the value's JSON type; never NULL."""
    x = json_value(path)
    if isinstance(stored, str):
        params.append(stored)
        return (
            f"coalesce(jsonb_typeof({x}) = 'string'"
            f" AND {text_value(path)} {operator} ${len(params)}::text, false)"
        )
    kind = "boolean" if isinstance(stored, bool) else "number"
    params.append(as_jsonb(dumps(stored)))
    return f"coalesce(jsonb_typeof({x}) = '{kind}' AND {x} {operator} ${len(params)}::jsonb, false)"


#: A JSON string (matched whole, so nothing inside one is touched) or a number written with
#: a positive exponent, as Python writes floats from 1e16 up.
_STRING_OR_EXPONENT = re.compile(r'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?[eE]\+[0-9]+')


def _as_decimal(match: re.Match[str]) -> str:
    token = match.group()
    if token.startswith('"'):
        return token
    return format(float(token), ".1f")


def as_jsonb(document: str) -> str:
    """*document* with each float written so that JSONB gives it back as a float.

    JSONB keeps numbers as ``numeric`` and writes them back without an exponent: ``1e+20``
    returns as ``100000000000000000000``, which reads as an int, and ``1e+308`` as an int
    that is not even equal to the float. Written out with its exact digits and ``.0``, the
    number keeps a decimal point, and reading it gives the same float back.
    """
    if "e+" not in document and "E+" not in document:
        return document
    return _STRING_OR_EXPONENT.sub(_as_decimal, document)


def _always(attribute: DeclaredAttribute) -> bool:
    """JSON null (or nothing at the path) is exactly Python's None, whatever the type."""
    return True


def _plain_scalar(value: object) -> bool:
    """A value PostgreSQL holds and compares exactly: text without NUL, a number, a bool."""
    if isinstance(value, str):
        return "\x00" not in value
    return isinstance(value, bool) or is_exact_number(value)


def _bindable(attribute: DeclaredAttribute, value: object) -> bool:
    kind = attribute.kind
    if kind is Kind.TEXT:
        return isinstance(value, str) and _plain_scalar(value)
    if kind is Kind.NUMBER:
        return is_exact_number(value)
    if kind is Kind.BOOLEAN:
        return isinstance(value, bool)
    return holds_declared_value(attribute, value) and _plain_scalar(stored_value(attribute, value))
