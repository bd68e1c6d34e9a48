"""Splitting a specification between the engine and Python never loses a match."""

from __future__ import annotations

from typing import Any

from victor_core import AttributeSpecification, BaseSpecification
from victor_core.repository.expressions import (
    AllOf,
    AnyOf,
    Comparison,
    Negation,
    Opaque,
    expression_of,
    negation_normal_form,
    pushdown,
)

A = AttributeSpecification


class Custom(BaseSpecification[Any]):
    def is_satisfied_by(self, candidate: Any) -> bool:
        return True


def only_name(comparison: Comparison) -> bool:
    return comparison.path == ("name",)


def test_nested_ands_and_ors_are_flattened() -> None:
    tree = expression_of((A("a", 1) & A("b", 2)) & (A("c", 3) | A("d", 4) | A("e", 5)))

    assert isinstance(tree, AllOf)
    assert len(tree.items) == 3
    assert isinstance(tree.items[2], AnyOf)
    assert len(tree.items[2].items) == 3


def test_negations_are_pushed_onto_leaves() -> None:
    tree = negation_normal_form(expression_of(~(A("a", 1) & ~(A("b", 2) | Custom()))))

    assert isinstance(tree, AnyOf)
    first, second = tree.items
    assert first == Negation(Comparison(("a",), A("a", 1).op, 1))
    assert isinstance(second, AnyOf)
    assert [type(item) for item in second.items] == [Comparison, Opaque]


def test_a_fully_compilable_specification_is_pushed_exactly() -> None:
    plan = pushdown(A("name", "x") | ~A("name", "y"), only_name)

    assert plan.exact
    assert isinstance(plan.expression, AnyOf)


def test_an_and_keeps_its_compilable_part_as_a_filter() -> None:
    plan = pushdown(Custom() & A("name", "x") & A("size", 3), only_name)

    assert not plan.exact
    assert plan.expression == Comparison(("name",), A("name", "x").op, "x")


def test_an_or_with_an_uncompilable_branch_cannot_narrow_anything() -> None:
    plan = pushdown(A("name", "x") | Custom(), only_name)

    assert plan.expression is None
    assert not plan.exact


def test_the_negation_of_an_approximation_is_not_used() -> None:
    # ~(name == x & custom) == (name != x | ~custom): the second branch is Python's.
    plan = pushdown(~(A("name", "x") & Custom()), only_name)

    assert plan.expression is None
    assert not plan.exact


def test_a_negated_and_with_compilable_branches_becomes_an_exact_or() -> None:
    plan = pushdown(~(A("name", "x") & A("name", "y")), only_name)

    assert plan.exact
    assert isinstance(plan.expression, AnyOf)
    assert all(isinstance(item, Negation) for item in plan.expression.items)
