"""Specifications compiled to SQL over the stored JSON document.

Each comparison becomes a condition on ``json_extract(document, '$.path')``, the same
expression that :func:`index_statement` indexes, so SQLite uses a declared index. Only
comparisons whose SQL result is certain to equal the Python meaning (see
:mod:`victor_core.repository.specification`) are compiled; the others are left to Python by
:func:`victor_core.backend.pushdown`. That is decided from the types the entity class
declares (:class:`victor_core.backend.PushdownCompiler`): a ``str``
attribute compared with a string, a number with a number, an enum with one of its members,
and so on; what is SQLite's own is here: which values bind exactly, and the SQL text.

Attribute names reach SQL text only as checked identifiers (letters, digits, ``_``), because
an index is only used for an identical expression; every value is a bound parameter.
Every condition is two-valued (never NULL), so ``NOT`` means exactly Python's ``not``.
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
#: Beyond this many values an ``in`` list is bound as one JSON array.
_MANY_VALUES = 100


def json_path(path: tuple[str, ...]) -> str:
    """``$.a.b`` for a checked path; refuses anything but plain identifiers."""
    for segment in path:
        if not _SQL_NAME.match(segment):
            raise ConfigurationError(
                f"{'.'.join(path)!r} cannot be used in SQL: attribute names must be ASCII "
                "letters, digits and '_'"
            )
    return "$." + ".".join(path)


def json_extract(attribute: DeclaredAttribute) -> str:
    """``json_extract(document, '$.a.b')``: the indexable expression for *attribute*."""
    return f"json_extract(document, '{json_path(attribute.path)}')"


def quote_name(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


class SpecificationCompiler(SQLPushdownCompiler):
    """Compiles comparisons on one entity class to SQLite conditions.

    *converter* is the one the repository stores entities with. What may be compiled is
    decided by :class:`~victor_core.backend.PushdownCompiler` with SQLite's rules: ASCII
    identifiers only (they are written into the SQL), text without NUL, numbers that fit
    SQLite's, booleans compared as the numbers SQLite reads them as.
    """

    def __init__(self, entity_type: type, converter: JsonConverter | None = None) -> None:
        super().__init__(
            entity_type,
            converter,
            segment_pattern=_SQL_NAME,
            enum_values=_plain_scalar,
            accepts=_bindable,
            none_is_exact=_json_null_is_none,
        )

    def order_clause(self, keys: Sequence[OrderKey]) -> str:
        """``ORDER BY ...`` for *keys*, ties broken by id; by position without keys."""
        if not keys:
            return "ORDER BY position"
        parts = []
        for key in keys:
            attribute = self.declared.attribute(key.path)
            assert attribute is not None  # orders_by() was asked first
            parts.append(f"{json_extract(attribute)} {'DESC' if key.descending else 'ASC'}")
        return "ORDER BY " + ", ".join(parts) + ", id ASC"

    def comparison(
        self, attribute: DeclaredAttribute, comparison: Comparison, params: list[Any]
    ) -> str:
        x, op, value = json_extract(attribute), comparison.op, comparison.value
        if op is Operator.EQ:
            if value is None:
                return f"({x} IS NULL)"
            params.append(stored_value(attribute, value))
            return f"({x} IS ?)"
        if op is Operator.NE:
            if value is None:
                return f"({x} IS NOT NULL)"
            params.append(stored_value(attribute, value))
            return f"({x} IS NOT ?)"
        if op is Operator.IN:
            present = [stored_value(attribute, v) for v in value if v is not None]
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
            params.append(stored_value(attribute, value))
            if attribute.is_collection:
                path = json_path(attribute.path)
                return f"EXISTS (SELECT 1 FROM json_each(document, '{path}') WHERE value = ?)"
            return f"({x} IS NOT NULL AND instr({x}, ?) > 0)"
        params.append(stored_value(attribute, value))
        return f"({x} IS NOT NULL AND {x} {op.value} ?)"


def _json_null_is_none(attribute: DeclaredAttribute) -> bool:
    """JSON null (or nothing at the path) is exactly Python's None, whatever the type."""
    return True


def _plain_scalar(value: object) -> bool:
    """A value SQLite's JSON functions hold exactly: the enum values it compiles for."""
    if isinstance(value, str):
        # SQLite's JSON functions and instr() end a string at its first NUL.
        return "\x00" not in value
    return isinstance(value, bool) or is_exact_number(value)


def _bindable(attribute: DeclaredAttribute, value: object) -> bool:
    kind = attribute.kind
    if kind is Kind.TEXT:
        return isinstance(value, str) and _plain_scalar(value)
    if kind in (Kind.NUMBER, Kind.BOOLEAN):
        # JSON true is 1 to SQLite, as True == 1 in Python: booleans compare as numbers.
        return not isinstance(value, str) and _plain_scalar(value)
    return holds_declared_value(attribute, value)
