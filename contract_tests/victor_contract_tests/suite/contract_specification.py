"""The specification contract: every comparison, combinator and custom rule, on every backend.

A backend may compile specifications to its own query language or evaluate them in Python;
either way the results are the ones Python's ``is_satisfied_by`` gives, including for
custom specifications it cannot compile, and with limit, offset and count still exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from victor_contract_tests.plugin import OpenRepository, requires
from victor_contract_tests.suite.sample_entities import (
    ActiveSpec,
    EvenAge,
    Member,
    NameSpec,
    Tier,
    members,
)
from victor_core import AttributeSpecification, Repository
from victor_core.backend import BaseSpecification, Capability, ConfigurationError, make_converter

pytestmark = [pytest.mark.asyncio, requires(Capability.REPOSITORY)]

A = AttributeSpecification


@pytest_asyncio.fixture
async def populated(open_repository: OpenRepository) -> Repository[Member]:
    repo: Repository[Member] = await open_repository(Member)
    await repo.add_many(members())
    return repo


CASES: list[tuple[BaseSpecification[Any], list[str]]] = [
    (A("active", True), ["m1", "m3", "m4", "m6", "m7", "m8"]),
    (A("active", False), ["m2", "m5"]),
    (A("active", 1), ["m1", "m3", "m4", "m6", "m7", "m8"]),
    (A("name", "Alice"), ["m1"]),
    (A("email", ""), ["m5"]),
    (A("age", 30, op="!="), ["m2", "m3", "m5", "m6", "m7"]),
    (A("age", 30, op="<"), ["m2", "m5", "m7"]),
    (A("age", 30, op="<="), ["m1", "m2", "m4", "m5", "m7", "m8"]),
    (A("age", 30, op=">"), ["m3", "m6"]),
    (A("age", 30, op=">="), ["m1", "m3", "m4", "m6", "m8"]),
    (A("age", 30.0), ["m1", "m4", "m8"]),
    (A("score", None), ["m2", "m7"]),
    (~A("score", None), ["m1", "m3", "m4", "m5", "m6", "m8"]),
    (A("score", 9.5, op=">="), ["m1", "m6", "m8"]),
    (A("score", 0, op="<"), ["m5"]),
    (A("score", 9.5, op="!="), ["m2", "m3", "m4", "m5", "m7", "m8"]),
    (~A("score", 9.5, op="<"), ["m1", "m2", "m6", "m7", "m8"]),
    (A("address.city", "Paris"), ["m1", "m3", "m8"]),
    (A("address.city", None), ["m4", "m7"]),
    (A("address.postcode", None), ["m2", "m3", "m4", "m6", "m7"]),
    (A("address.city", "M", op="<"), ["m2", "m6"]),
    (A("address.city", ["Lyon", "Nice"], op="in"), ["m2", "m5", "m6"]),
    (A("name", ("Bob", "Zoë", "nobody"), op="in"), ["m2", "m8"]),
    (A("score", [None, 0.0], op="in"), ["m2", "m4", "m7"]),
    (A("age", [], op="in"), []),
    (~A("age", [30, 17], op="in"), ["m2", "m3", "m6", "m7"]),
    (A("tags", "vip", op="contains"), ["m1", "m2"]),
    (A("tags", "admin", op="contains"), ["m1", "m6"]),
    (~A("tags", "admin", op="contains"), ["m2", "m3", "m4", "m5", "m7", "m8"]),
    (A("email", "example.org", op="contains"), ["m3", "m4"]),
    (A("name", "'", op="contains"), ["m7"]),
    (A("name", "", op="contains"), ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"]),
    (A("tier", Tier.PRO), ["m1", "m5", "m8"]),
    (A("tier", Tier.FREE, op="!="), ["m1", "m5", "m8"]),
    (A("tier", [Tier.FREE], op="in"), ["m2", "m3", "m4", "m6", "m7"]),
    (A("meta.team", "red"), ["m1", "m5"]),
    (A("meta.team", None), ["m2", "m4", "m6", "m7", "m8"]),
    (A("balance", Decimal("10.5")), ["m1"]),
    (A("balance", 0, op=">"), ["m1"]),
    (A("name", "B", op=">=") & A("name", "E", op="<"), ["m2", "m3", "m4"]),
    (A("active", True) & A("age", 30), ["m1", "m4", "m8"]),
    (A("age", 17) | A("age", 41), ["m5", "m6"]),
    (~(A("active", True) | A("tier", Tier.PRO)), ["m2"]),
    (~~A("age", 30), ["m1", "m4", "m8"]),
    (A("age", "30"), []),
    (A("name", 30), []),
    (A("age", "x", op="<"), []),
    (A("address", "Paris", op="<"), []),
    (ActiveSpec() & NameSpec("Alice"), ["m1"]),
    (ActiveSpec() & A("address.city", "Paris"), ["m1", "m3", "m8"]),
    (~ActiveSpec() | A("age", 41), ["m2", "m5", "m6"]),
    (~(ActiveSpec() & A("age", 30, op=">=")), ["m2", "m5", "m7"]),
    ((A("age", 30) | NameSpec("Eve")) & ~A("tier", Tier.PRO), ["m4"]),
    (NameSpec("alice") | A("name", "Alice"), ["m1", "m6"]),
]


@pytest.mark.parametrize(("spec", "expected"), CASES, ids=[repr(s) for s, _ in CASES])
async def test_find_count_and_iterate_give_what_python_says(
    populated: Repository[Member], spec: BaseSpecification[Member], expected: list[str]
) -> None:
    everything = await populated.find()
    assert [m.id for m in everything if spec.is_satisfied_by(m)] == expected

    assert [m.id for m in await populated.find(spec)] == expected
    assert await populated.count(spec) == len(expected)
    assert [m.id async for m in populated.iterate(spec, page_size=3)] == expected


async def test_custom_specifications_keep_limit_offset_order_and_count_exact(
    populated: Repository[Member],
) -> None:
    spec = ActiveSpec() & A("age", 30, op=">=")

    page = await populated.find(spec, order_by="-age", limit=2, offset=1)
    rest = await populated.find(spec, order_by="-age", offset=3)

    assert [m.id for m in page] == ["m3", "m1"]
    assert [m.id for m in rest] == ["m4", "m8"]
    assert await populated.count(spec) == 5
    assert [m.id for m in await populated.find(spec, limit=1)] == ["m1"]


async def test_a_specification_on_an_attribute_the_class_lacks_is_an_error(
    populated: Repository[Member],
) -> None:
    with pytest.raises(ConfigurationError, match="nickname"):
        await populated.find(A("nickname", "x"))
    with pytest.raises(ConfigurationError, match="country"):
        await populated.count(A("address.country", "FR"))
    with pytest.raises(ConfigurationError, match="nickname"):
        await populated.find(order_by="nickname")


@pytest.mark.parametrize(
    "hostile",
    [
        "x') OR 1=1 --",
        "name; DROP TABLE victor_contract_member",
        "name' OR '1'='1",
        'name" OR "1"="1',
        "address.city')",
        "$.name",
        "name[0]",
        "a b",
        "",
        "1abc",
        "a..b",
        ".name",
        "name.",
        "class",
        "name\x00",
    ],
)
async def test_hostile_attribute_names_are_refused_before_any_query(
    populated: Repository[Member], hostile: str
) -> None:
    with pytest.raises(ConfigurationError):
        A(hostile, 1)
    with pytest.raises(ConfigurationError):
        await populated.find(order_by=hostile)
    assert await populated.count() == 8


@pytest.mark.parametrize(
    "value",
    [
        "x' OR '1'='1",
        "Alice' --",
        "'); DELETE FROM victor_contract_member; --",
        '" OR 1=1 --',
        "%",
        "_",
        "*",
    ],
)
async def test_hostile_values_are_only_ever_compared(
    populated: Repository[Member], value: str
) -> None:
    assert await populated.find(A("name", value)) == []
    assert await populated.find(A("name", [value], op="in")) == []
    assert await populated.find(A("tags", value, op="contains")) == []
    assert await populated.find(A("email", value, op="contains")) == []
    assert await populated.count() == 8


async def test_an_in_comparison_needs_a_collection_and_operators_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="in"):
        A("name", "Alice", op="in")
    with pytest.raises(ConfigurationError, match="comparison"):
        A("name", "Alice", op="LIKE")
    with pytest.raises(ConfigurationError):
        A("name", 1) & "not a specification"  # type: ignore[operator]


async def test_find_refuses_what_is_not_a_specification(populated: Repository[Member]) -> None:
    with pytest.raises(ConfigurationError, match="specification"):
        await populated.find({"name": "Alice"})  # type: ignore[arg-type]


@requires(Capability.SPECIFICATION_PUSHDOWN)
async def test_the_engine_narrows_the_search_before_python_runs_custom_rules(
    populated: Repository[Member],
) -> None:
    even = EvenAge()

    found = await populated.find(even & A("address.city", "Paris"))

    assert [m.id for m in found] == ["m1", "m8"]
    assert sorted(even.asked) == ["m1", "m3", "m8"]


def _legacy_tier_names() -> Any:
    """A converter storing tiers under the names an older system gave them."""
    names = {Tier.FREE: "standard", Tier.PRO: "gold"}
    converter = make_converter()
    converter.register_unstructure_hook(Tier, names.__getitem__)
    converter.register_structure_hook(
        Tier, lambda stored, _: next(t for t, name in names.items() if name == stored)
    )
    return converter


async def test_results_follow_python_when_a_converter_stores_values_its_own_way(
    open_repository: OpenRepository,
) -> None:
    repo: Repository[Member] = await open_repository(Member, converter=_legacy_tier_names())
    await repo.add_many(members())
    stored = await repo.find()
    pro = ["m1", "m5", "m8"]

    for spec, expected in [
        (A("tier", Tier.PRO), pro),
        (A("tier", Tier.FREE, op="!="), pro),
        (A("tier", [Tier.PRO], op="in"), pro),
        (~A("tier", Tier.FREE), pro),
    ]:
        assert [m.id for m in stored if spec.is_satisfied_by(m)] == expected
        assert [m.id for m in await repo.find(spec)] == expected, spec
        assert await repo.count(spec) == len(expected), spec
    # Sorted by what the tiers are in Python (their values), not by the names stored.
    by_tier = await repo.find(order_by=["-tier", "id"], limit=4)
    assert [m.id for m in by_tier] == ["m1", "m5", "m8", "m2"]


async def test_in_comparisons_with_hundreds_of_values_agree_with_python(
    populated: Repository[Member],
) -> None:
    stored = await populated.find()
    many = range(-100, 300)

    for spec in [
        A("age", [*many, None], op="in"),
        A("score", [n / 4 for n in many], op="in"),
        A("name", [f"{name}{n}" for n in many for name in ("Alice", "Bob")] + ["Zoë"], op="in"),
        A("active", [True] * 150, op="in"),
        A("tier", [Tier.PRO] * 150, op="in"),
        A("address.city", ["Paris", *(str(n) for n in many)], op="in"),
        ~A("id", [f"m{n}" for n in range(4, 300)], op="in"),
    ]:
        expected = [m.id for m in stored if spec.is_satisfied_by(m)]
        assert expected, spec  # every case keeps some members
        assert [m.id for m in await populated.find(spec)] == expected, spec
        assert await populated.count(spec) == len(expected), spec


async def test_an_in_comparison_with_more_values_than_a_query_binds_is_answered(
    populated: Repository[Member],
) -> None:
    """An ``in`` with more values than any engine binds one by one still gives Python's answer."""
    # PostgreSQL binds at most 32767 parameters to a query, SQLite often 999.
    names = [*(f"nobody-{i}" for i in range(40_000)), "Bob", "Alice"]
    ages = [*range(100, 40_100), 25]

    assert [m.id for m in await populated.find(A("name", names, op="in"))] == ["m1", "m2"]
    assert await populated.count(A("name", names, op="in")) == 2
    assert [m.id for m in await populated.find(A("age", ages, op="in"))] == ["m2"]
    assert await populated.count(~A("name", names, op="in")) == len(members()) - 2
