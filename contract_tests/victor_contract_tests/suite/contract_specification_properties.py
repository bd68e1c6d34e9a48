"""Every comparison, and random trees of them, give what Python's ``is_satisfied_by`` gives.

Whatever part of a specification a backend compiles to its query language, and whatever
part it leaves to Python, ``find`` (with ordering and a window), ``count`` and ``iterate``
must agree with evaluating it in Python on every stored entity. Each comparison is checked
once, and with its negation, over a fixed population; random trees then combine them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from victor_contract_tests.plugin import OpenRepository, requires
from victor_contract_tests.suite.sample_entities import Address, Member, Tier
from victor_core import AttributeSpecification, Repository
from victor_core.backend import BaseSpecification, Capability, read_path, sort_key

pytestmark = [pytest.mark.asyncio, requires(Capability.REPOSITORY)]

NAMES = ["", "a", "A", "ab", "b", "Zoë", "a'b", "é"]
NUMBERS = [-2, -1.5, 0, 0.0, 1, 2.5, 3]
TAGS = ["x", "y", "z"]
CITIES = ["L", "N", "P"]
BALANCES = [Decimal("-1"), Decimal("0"), Decimal("1.0"), Decimal("1.50")]
_PLUS_TWO = timezone(timedelta(hours=2))
MOMENTS = [
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(2024, 1, 1, 2, tzinfo=_PLUS_TWO),  # the same instant, written differently
    datetime(2024, 1, 1, 0, 0, 0, 500, tzinfo=UTC),
    datetime(2023, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2024, 6, 1, 12, tzinfo=_PLUS_TWO),
]

addresses = st.none() | st.builds(
    Address,
    city=st.sampled_from(CITIES),
    postcode=st.none() | st.sampled_from(["1", "2"]),
)
entities = st.builds(
    Member,
    name=st.sampled_from(NAMES),
    email=st.sampled_from(NAMES),
    age=st.sampled_from([-2, 0, 1, 3]),
    score=st.none() | st.sampled_from([-1.5, 0.0, 1.0, 2.5]),
    active=st.booleans(),
    tags=st.lists(st.sampled_from(TAGS), max_size=3),
    address=addresses,
    tier=st.sampled_from(Tier),
    balance=st.sampled_from(BALANCES),
    meta=st.dictionaries(st.sampled_from(["team", "role"]), st.sampled_from(["r", "b"])),
    created_at=st.sampled_from(MOMENTS),
)

#: Attribute -> values worth comparing it with, matching and mismatching types included.
VALUES: dict[str, list[Any]] = {
    "name": [*NAMES, None, 1],
    "email": ["a", "", "b", None],
    "age": [*NUMBERS, None, "1", True],
    "score": [*NUMBERS, None, "x"],
    "active": [True, False, 0, 1, None],
    "tags": [*TAGS, None, 1],
    "address": [None, "P"],
    "address.city": [*CITIES, None, 0],
    "address.postcode": ["1", "2", None],
    "tier": [*Tier, "free", None],
    "balance": [*BALANCES, 1, 0.5, None],
    "meta.team": ["r", "b", None],
    "created_at": [*MOMENTS, datetime(2024, 1, 1), None],
}
OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "in", "contains"]


@st.composite
def comparisons(draw: st.DrawFn) -> BaseSpecification[Any]:
    attr = draw(st.sampled_from(sorted(VALUES)))
    op = draw(st.sampled_from(OPERATORS))
    pool = VALUES[attr]
    if op == "in":
        value: Any = draw(st.lists(st.sampled_from(pool), max_size=3))
    else:
        value = draw(st.sampled_from(pool))
    return AttributeSpecification(attr, value, op=op)


class AgeIsEven(BaseSpecification[Member]):
    def is_satisfied_by(self, candidate: Member) -> bool:
        return candidate.age % 2 == 0

    def __repr__(self) -> str:
        return "AgeIsEven()"


class HasShortName(BaseSpecification[Member]):
    def is_satisfied_by(self, candidate: Member) -> bool:
        return len(candidate.name) < 2

    def __repr__(self) -> str:
        return "HasShortName()"


leaves = comparisons() | st.sampled_from([AgeIsEven(), HasShortName()])
specifications = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.tuples(children, children).map(lambda pair: pair[0] & pair[1]),
        st.tuples(children, children).map(lambda pair: pair[0] | pair[1]),
        children.map(lambda spec: ~spec),
    ),
    max_leaves=6,
)
orderings = st.sampled_from(
    [
        None,
        "age",
        "-age",
        "name",
        ["score", "-name"],
        "address.city",
        "-created_at",
        "tier",
        "-id",
        ["active", "-id"],
    ]
)


def python_order(found: list[Member], order_by: str | list[str] | None) -> list[Member]:
    """The order ``order_by`` promises: None first, ties by ascending id."""
    if order_by is None:
        return found
    result = sorted(found, key=lambda m: m.id)
    for name in reversed([order_by] if isinstance(order_by, str) else order_by):
        path = tuple(name.lstrip("-").split("."))

        def key(member: Member, path: tuple[str, ...] = path) -> tuple[int, Any]:
            return sort_key(read_path(member, path))

        result.sort(key=key, reverse=name[0] == "-")
    return result


def population(size: int) -> list[Member]:
    """Members with values drawn, reproducibly, from the same pools as the trees."""
    pick = random.Random(20240229).choice
    return [
        Member(
            name=pick(NAMES),
            email=pick(NAMES),
            age=pick([-2, 0, 1, 3]),
            score=pick([None, -1.5, 0.0, 1.0, 2.5]),
            active=pick([True, False]),
            tags=[pick(TAGS) for _ in range(pick([0, 1, 2]))],
            address=pick([None, Address(pick(CITIES)), Address(pick(CITIES), postcode="1")]),
            tier=pick(list(Tier)),
            balance=pick(BALANCES),
            meta=pick([{}, {"team": "r"}, {"team": "b", "role": "r"}]),
            created_at=pick(MOMENTS),
        )
        for _ in range(size)
    ]


def every_comparison() -> list[BaseSpecification[Any]]:
    specs: list[BaseSpecification[Any]] = []
    for attr, pool in VALUES.items():
        for op in OPERATORS:
            if op == "in":
                choices: list[Any] = [[], pool[:3], [pool[-1], None], *([v] for v in pool)]
            else:
                choices = pool
            specs.extend(AttributeSpecification(attr, value, op=op) for value in choices)
    return specs


async def test_every_single_comparison_agrees_with_python(open_repository: OpenRepository) -> None:
    repo: Repository[Member] = await open_repository(Member)
    await repo.add_many(population(60))
    stored = await repo.find()

    for spec in every_comparison():
        for each in (spec, ~spec):
            expected = [m.id for m in stored if each.is_satisfied_by(m)]
            assert [m.id for m in await repo.find(each)] == expected, each
            assert await repo.count(each) == len(expected), each


@pytest_asyncio.fixture
async def members_repo(open_repository: OpenRepository) -> Repository[Member]:
    return await open_repository(Member)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(entities, max_size=6),
    specs=st.lists(specifications, min_size=1, max_size=4),
    order_by=orderings,
    limit=st.none() | st.integers(0, 5),
    offset=st.integers(0, 3),
)
async def test_random_specification_trees_agree_with_python(
    members_repo: Repository[Member],
    batch: list[Member],
    specs: list[BaseSpecification[Member]],
    order_by: str | list[str] | None,
    limit: int | None,
    offset: int,
) -> None:
    # Entities accumulate over the examples, so later trees meet larger populations.
    await members_repo.add_many(batch)
    stored = await members_repo.find()

    for spec in specs:
        expected = [m.id for m in stored if spec.is_satisfied_by(m)]
        ordered = [m.id for m in python_order([m for m in stored if m.id in expected], order_by)]
        window = ordered[offset : None if limit is None else offset + limit]

        assert [m.id for m in await members_repo.find(spec)] == expected, spec
        assert await members_repo.count(spec) == len(expected), spec
        found = await members_repo.find(spec, order_by=order_by, limit=limit, offset=offset)
        assert [m.id for m in found] == window, spec
        assert [m.id async for m in members_repo.iterate(spec, page_size=4)] == expected, spec
