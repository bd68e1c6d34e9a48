"""Strings compare by code point, whatever collation the storage would use by default.

Python orders and compares ``str`` by code point: ``"B" < "a"``, ``"Z" < "a"``,
``"a" != "A"``, ``"e" < "z" < "é"``. A repository answers the same, so an engine whose
default collation is linguistic or case-insensitive (most server databases are) must be told
to use byte order. Run the suite with ``--victor-collation=NAME`` on a backend that can make
its storage default to another collation: one that forgets to ask for byte order fails here.
"""

from __future__ import annotations

import pytest

from victor_contract_tests.plugin import OpenRepository, requires
from victor_contract_tests.suite.sample_entities import Member
from victor_core import AttributeSpecification
from victor_core.backend import Capability

pytestmark = [pytest.mark.asyncio, requires(Capability.REPOSITORY)]

#: Names a linguistic or case-insensitive collation orders or equates differently; the last two
#: are ordered one way by code point and the other by UTF-16 code unit.
NAMES = [
    *("a", "B", "Z", "b", "A", "é", "e", "z", "ä", "Ä", "10", "9", "a b", "ab", "a-c", "ß", "ss"),
    *("\uff21", "\U0001f600"),
]


def by_id(members: list[Member]) -> list[str]:
    return [m.id for m in members]


async def test_ordering_by_a_string_field_is_code_point_order(
    open_repository: OpenRepository,
) -> None:
    repo = await open_repository(Member)
    await repo.add_many(Member(id=f"m{i:02}", name=name) for i, name in enumerate(NAMES))

    found = await repo.find(order_by="name")

    assert [m.name for m in found] == sorted(NAMES)
    assert [m.name for m in await repo.find(order_by="-name")] == sorted(NAMES, reverse=True)


@pytest.mark.parametrize("bound", ["B", "a", "e", "ss", "ä"])
@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
async def test_comparing_a_string_field_is_code_point_comparison(
    open_repository: OpenRepository, op: str, bound: str
) -> None:
    repo = await open_repository(Member)
    stored = [Member(id=f"m{i:02}", name=name) for i, name in enumerate(NAMES)]
    await repo.add_many(stored)
    spec = AttributeSpecification("name", bound, op=op)

    expected = [m.id for m in stored if spec.is_satisfied_by(m)]

    assert by_id(await repo.find(spec)) == expected
    assert await repo.count(spec) == len(expected)


async def test_ids_that_differ_only_in_case_are_different_entities(
    open_repository: OpenRepository,
) -> None:
    repo = await open_repository(Member)

    await repo.add(Member(id="alice", name="lower"))
    await repo.add(Member(id="Alice", name="upper"))

    lower, upper = await repo.get("alice"), await repo.get("Alice")
    assert lower is not None
    assert lower.name == "lower"
    assert upper is not None
    assert upper.name == "upper"
    assert await repo.count() == 2
