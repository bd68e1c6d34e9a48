"""The expression tree backends compile specifications from.

:func:`expression_of` turns a specification into a small tree of comparisons, ``AllOf``,
``AnyOf`` and ``Negation``, with every custom specification kept whole as an ``Opaque``
leaf. :func:`pushdown` then splits the work between the engine and Python: it returns the
part a backend can compile, weakened where needed so that it never drops a matching entity,
and says whether that part is exact. When it is not, the repository filters what the engine
returns with the original specification, in Python, so results are identical either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from victor_core.repository.specification import (
    AndSpecification,
    AttributeSpecification,
    BaseSpecification,
    NotSpecification,
    Operator,
    OrSpecification,
    compare,
    is_opaque,
    read_path,
)


@attrs.frozen
class Comparison:
    """The attribute at ``path`` compared by ``op`` with ``value``."""

    path: tuple[str, ...]
    op: Operator
    value: Any

    @property
    def attr(self) -> str:
        """The dotted path as written."""
        return ".".join(self.path)


@attrs.frozen
class Opaque:
    """A specification only Python can evaluate."""

    spec: BaseSpecification[Any] = attrs.field(eq=False)


@attrs.frozen
class AllOf:
    """Every item holds."""

    items: tuple[Expression, ...]


@attrs.frozen
class AnyOf:
    """At least one item holds."""

    items: tuple[Expression, ...]


@attrs.frozen
class Negation:
    """The item does not hold."""

    item: Expression


Expression = Comparison | Opaque | AllOf | AnyOf | Negation


def expression_of(spec: BaseSpecification[Any]) -> Expression:
    """The expression tree of *spec*, with nested ``&`` and ``|`` flattened."""
    if is_opaque(spec):
        return Opaque(spec)
    if isinstance(spec, AttributeSpecification):
        return Comparison(spec.path, spec.op, spec.value)
    if isinstance(spec, AndSpecification):
        return AllOf(_flatten(AllOf, expression_of(spec.left), expression_of(spec.right)))
    if isinstance(spec, OrSpecification):
        return AnyOf(_flatten(AnyOf, expression_of(spec.left), expression_of(spec.right)))
    if isinstance(spec, NotSpecification):
        return Negation(expression_of(spec.inner))
    return Opaque(spec)  # pragma: no cover - is_opaque() covers every other class


def comparisons(expression: Expression) -> list[Comparison]:
    """Every comparison in *expression*, opaque leaves excepted (their code is the user's)."""
    if isinstance(expression, Comparison):
        return [expression]
    if isinstance(expression, Opaque):
        return []
    if isinstance(expression, Negation):
        return comparisons(expression.item)
    return [each for item in expression.items for each in comparisons(item)]


def _flatten(kind: type[AllOf | AnyOf], *parts: Expression) -> tuple[Expression, ...]:
    items: list[Expression] = []
    for part in parts:
        items.extend(part.items if isinstance(part, kind) else (part,))
    return tuple(items)


def evaluate(expression: Expression, candidate: Any) -> bool:
    """What *expression* says about *candidate*, in Python."""
    if isinstance(expression, Comparison):
        return compare(expression.op, read_path(candidate, expression.path), expression.value)
    if isinstance(expression, Opaque):
        return expression.spec.is_satisfied_by(candidate)
    if isinstance(expression, AllOf):
        return all(evaluate(item, candidate) for item in expression.items)
    if isinstance(expression, AnyOf):
        return any(evaluate(item, candidate) for item in expression.items)
    return not evaluate(expression.item, candidate)


def negation_normal_form(expression: Expression) -> Expression:
    """*expression* with every negation pushed down onto a leaf (De Morgan's laws)."""
    if isinstance(expression, AllOf):
        return AllOf(tuple(negation_normal_form(item) for item in expression.items))
    if isinstance(expression, AnyOf):
        return AnyOf(tuple(negation_normal_form(item) for item in expression.items))
    if not isinstance(expression, Negation):
        return expression
    inner = expression.item
    if isinstance(inner, Negation):
        return negation_normal_form(inner.item)
    if isinstance(inner, AllOf):
        return AnyOf(tuple(negation_normal_form(Negation(item)) for item in inner.items))
    if isinstance(inner, AnyOf):
        return AllOf(tuple(negation_normal_form(Negation(item)) for item in inner.items))
    return expression


@attrs.frozen
class Pushdown:
    """What a backend can evaluate itself: a filter that keeps every matching entity.

    ``expression`` is None when the backend cannot narrow the search at all. When
    ``exact`` is false the filter may keep entities that do not match, and the caller
    must check each one against the whole specification.
    """

    expression: Expression | None
    exact: bool


#: The whole specification is left to Python.
NOTHING_PUSHED = Pushdown(None, exact=False)


def pushdown(spec: BaseSpecification[Any], compiles: Callable[[Comparison], bool]) -> Pushdown:
    """The part of *spec* whose comparisons satisfy *compiles*; see :class:`Pushdown`."""
    return _weaken(negation_normal_form(expression_of(spec)), compiles)


def _weaken(expression: Expression, compiles: Callable[[Comparison], bool]) -> Pushdown:
    if isinstance(expression, Comparison):
        return Pushdown(expression, exact=True) if compiles(expression) else NOTHING_PUSHED
    if isinstance(expression, Negation):
        # In negation normal form only a leaf is negated.
        leaf = expression.item
        if isinstance(leaf, Comparison) and compiles(leaf):
            return Pushdown(expression, exact=True)
        return NOTHING_PUSHED
    if isinstance(expression, Opaque):
        return NOTHING_PUSHED
    parts = [_weaken(item, compiles) for item in expression.items]
    exact = all(part.exact for part in parts)
    if isinstance(expression, AnyOf):
        if any(part.expression is None for part in parts):
            # One alternative could be anything, so the engine cannot narrow the search.
            return NOTHING_PUSHED
        kept = [part.expression for part in parts if part.expression is not None]
        return Pushdown(kept[0] if len(kept) == 1 else AnyOf(tuple(kept)), exact)
    kept = [part.expression for part in parts if part.expression is not None]
    if not kept:
        return NOTHING_PUSHED
    return Pushdown(kept[0] if len(kept) == 1 else AllOf(tuple(kept)), exact)
