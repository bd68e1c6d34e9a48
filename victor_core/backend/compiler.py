"""The base of a specification compiler: what every engine's compiler does the same way.

A compiler turns the part of a specification that :func:`~victor_core.backend.pushdown`
hands it into the engine's own query (SQL text, a MongoDB filter). Every engine decides the
same way what it may compile, from the entity class's declared types
(:class:`~victor_core.backend.DeclaredAttributes`) and three rules of its own, and walks the
expression tree the same way; only what one comparison, a negation, ``and`` and ``or``
become is the engine's. That part is what a subclass writes, so a new engine cannot compile
a comparison the kernel did not approve, nor forget a kind of node.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from cattrs.preconf.json import JsonConverter

from victor_core.errors import ConfigurationError
from victor_core.repository.declared_attributes import DeclaredAttribute, DeclaredAttributes
from victor_core.repository.expressions import (
    AllOf,
    AnyOf,
    Comparison,
    Expression,
    Negation,
    Pushdown,
    pushdown,
)
from victor_core.repository.specification import BaseSpecification, OrderKey

#: What one compiled condition is: SQL text, a filter document...
C = TypeVar("C")
#: What conditions collect along the walk: SQL's bound parameters; ``None`` when nothing.
P = TypeVar("P")


class PushdownCompiler(ABC, Generic[C, P]):
    """Compiles comparisons on one entity class to conditions of type ``C``.

    The engine's rules, given to the constructor: *segment_pattern*, what the engine accepts
    as one part of a path; *enum_values*, which enum member values it compares exactly as
    Python does; *accepts*, which values it compares with an attribute's stored form exactly
    as Python compares them with its value; *none_is_exact*, whether its null or missing
    field is exactly Python's ``None`` at an attribute. *converter* is the one the repository
    stores entities with. A subclass then says what each node becomes: :meth:`comparison`,
    :meth:`negation`, :meth:`all_of` and :meth:`any_of`.
    """

    #: The engine's query language, as errors name it.
    language = "the engine's query language"

    def __init__(
        self,
        entity_type: type,
        converter: JsonConverter | None = None,
        *,
        segment_pattern: re.Pattern[str],
        enum_values: Callable[[object], bool],
        accepts: Callable[[DeclaredAttribute, object], bool],
        none_is_exact: Callable[[DeclaredAttribute], bool],
    ) -> None:
        self.declared = DeclaredAttributes(
            entity_type, converter, segment_pattern=segment_pattern, enum_values=enum_values
        )
        self._accepts = accepts
        self._none_is_exact = none_is_exact

    def compiles(self, comparison: Comparison) -> bool:
        """True when the engine gives exactly Python's answer for *comparison*."""
        return self.declared.compiles(comparison, self._accepts, none_is_exact=self._none_is_exact)

    def pushdown(self, spec: BaseSpecification[Any]) -> Pushdown:
        """The part of *spec* this compiler compiles: a ``DocumentStore.pushdown`` answer."""
        return pushdown(spec, self.compiles)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        """True when the engine sorts every key as ``sort_key`` does."""
        return self.declared.orders_by(keys)

    def condition(self, expression: Expression, params: P) -> C:
        """The engine's condition for *expression* (as ``pushdown`` returned it).

        *params* is handed to every :meth:`comparison`, which may add to it (SQL's bound
        parameters, numbered in the order they are added).
        """
        if isinstance(expression, Comparison):
            attribute = self.declared.attribute(expression.path)
            if attribute is None or not self.compiles(expression):
                raise ConfigurationError(  # pushdown() asked compiles() first
                    f"cannot compile {expression!r} to {self.language}"
                )
            return self.comparison(attribute, expression, params)
        if isinstance(expression, Negation):
            return self.negation(self.condition(expression.item, params))
        if isinstance(expression, AllOf):
            return self.all_of([self.condition(item, params) for item in expression.items])
        if isinstance(expression, AnyOf):
            return self.any_of([self.condition(item, params) for item in expression.items])
        raise ConfigurationError(  # pushdown() never hands over an opaque leaf
            f"cannot compile {expression!r} to {self.language}"
        )

    @abstractmethod
    def comparison(self, attribute: DeclaredAttribute, comparison: Comparison, params: P) -> C:
        """The condition for one comparison that :meth:`compiles` approved."""

    @abstractmethod
    def negation(self, condition: C) -> C:
        """The condition that holds where *condition* does not."""

    @abstractmethod
    def all_of(self, conditions: list[C]) -> C:
        """The condition that holds where every one of *conditions* does."""

    @abstractmethod
    def any_of(self, conditions: list[C]) -> C:
        """The condition that holds where at least one of *conditions* does."""


class SQLPushdownCompiler(PushdownCompiler[str, list[Any]]):
    """A compiler to an SQL condition, its values bound as parameters collected in a list.

    ``NOT``, ``AND`` and ``OR`` mean Python's ``not``, ``and`` and ``or`` only between
    conditions that are never NULL, so every :meth:`comparison` must be two-valued
    (``coalesce(..., false)``, ``IS``, ``IS NOT NULL AND ...``).
    """

    language = "SQL"

    def where(self, expression: Expression, params: list[Any]) -> str:
        """SQL for *expression*, appending its parameters to *params*."""
        return self.condition(expression, params)

    def negation(self, condition: str) -> str:
        return f"NOT {condition}"

    def all_of(self, conditions: list[str]) -> str:
        return "(" + " AND ".join(conditions) + ")"

    def any_of(self, conditions: list[str]) -> str:
        return "(" + " OR ".join(conditions) + ")"
