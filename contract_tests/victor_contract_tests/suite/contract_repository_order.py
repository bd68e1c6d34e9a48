"""Repositories keep the order of adding, answer from fresh state, and scale past their batches.

Three things backends get wrong without any small test noticing: an update that moves an
entity to the end (a delete and re-insert underneath), a query served from a cache the
backend keeps and forgot to refresh, and a query that is right for a hundred entities but
loses or repeats some once the collection is larger than the engine's own batch, chunk or
cursor size.
"""

from __future__ import annotations

import dataclasses

import pytest

from victor_contract_tests.plugin import OpenRepository, requires
from victor_contract_tests.suite.sample_entities import Ledger, Member
from victor_core import AttributeSpecification, Entity, Repository, UnitOfWork
from victor_core.backend import Capability, EntityAlreadyExists

pytestmark = [pytest.mark.asyncio, requires(Capability.REPOSITORY)]

#: Far larger than any internal batch, chunk or cursor size a backend has.
MANY = 10_000
#: Storing and reading back ten thousand entities takes a while on a busy machine.
SLOW_TIMEOUT = 300


@dataclasses.dataclass
class Row(Entity):
    """A small entity, so that ten thousand of them are quick to store."""

    __entity_name__ = "victor_contract_row"
    number: int = 0
    group: str = ""


def ids(entities: list[Member] | list[Ledger] | list[Row]) -> list[str]:
    return [entity.id for entity in entities]


ORDER = "without order_by, entities come in the order they were added"


async def test_updates_keep_the_order_of_adding(open_repository: OpenRepository) -> None:
    repo: Repository[Member] = await open_repository(Member)
    await repo.add_many(Member(id=name, name=name) for name in ("ann", "bob", "cid", "dan"))
    for name in ("ann", "cid", "ann"):
        member = await repo.get(name)
        assert member is not None
        member.name = member.name.upper()
        await repo.update(member)

    reader: Repository[Member] = await open_repository(Member)

    for source in (repo, reader):
        assert ids(await source.find()) == ["ann", "bob", "cid", "dan"], f"{ORDER}, updated or not"
        assert ids(await source.find(limit=2, offset=1)) == ["bob", "cid"], ORDER
        assert [m.id async for m in source.iterate(page_size=3)] == ["ann", "bob", "cid", "dan"]
    assert [m.name for m in await reader.find()] == ["ANN", "bob", "CID", "dan"]


@requires(Capability.TRANSACTIONS)
async def test_deletions_and_updates_taken_back_keep_the_order_of_adding(
    open_repository: OpenRepository,
) -> None:
    repo: Repository[Ledger] = await open_repository(Ledger)
    await repo.add_many(Ledger(id=f"l{n}", owner=f"o{n}", total=n) for n in range(1, 6))
    uow = UnitOfWork()
    uow.register_repository(repo, Ledger)
    first, second, fourth = [await uow.get(Ledger, key) for key in ("l1", "l2", "l4")]
    assert first is not None
    assert second is not None
    assert fourth is not None
    first.total = 100  # an update, then deletes, then an insert that is refused
    uow.register_deleted(second)
    uow.register_deleted(fourth)
    uow.register_new(Ledger(id="l3", owner="again"))

    with pytest.raises(EntityAlreadyExists):
        await uow.commit()

    reader: Repository[Ledger] = await open_repository(Ledger)
    expected = ["l1", "l2", "l3", "l4", "l5"]
    for source in (repo, reader):
        assert ids(await source.find()) == expected, f"{ORDER}, after a commit taken back"
        assert ids(await source.find(offset=3)) == ["l4", "l5"], ORDER
    assert [(ledger.total, ledger.version) for ledger in await reader.find()] == [
        (n, 1) for n in range(1, 6)
    ], "a commit taken back leaves every entity as it was"


async def test_queries_right_after_writes_see_the_new_state(
    open_repository: OpenRepository,
) -> None:
    repo: Repository[Member] = await open_repository(Member)
    await repo.add_many(Member(id=f"m{n}", name="old", age=n) for n in range(6))
    named = AttributeSpecification("name", "new")
    before = [await repo.count(named), ids(await repo.find(named)), await repo.count()]
    assert before == [0, [], 6]

    fresh = "queries on the same repository object must see its own writes at once"
    for number in (1, 4):
        member = await repo.get(f"m{number}")
        assert member is not None
        member.name, member.age = "new", 100 + number
        await repo.update(member)
    assert ids(await repo.find(named)) == ["m1", "m4"], fresh
    assert await repo.count(named) == 2, fresh
    assert ids(await repo.find(order_by="-age", limit=1)) == ["m4"], fresh
    await repo.delete("m2")
    await repo.add(Member(id="m9", name="new", age=0))

    assert ids(await repo.find(named)) == ["m1", "m4", "m9"], fresh
    assert await repo.count(named) == 3, fresh
    assert await repo.count() == 6, fresh
    assert await repo.exists("m2") is False, fresh
    assert ids(await repo.find(order_by="-age", limit=2)) == ["m4", "m1"], fresh
    assert ids(await repo.find(AttributeSpecification("name", "old"))) == ["m0", "m3", "m5"], fresh
    assert [m.id async for m in repo.iterate(named, page_size=1)] == ["m1", "m4", "m9"], fresh
    stored = await repo.get("m4")
    assert stored is not None
    assert (stored.name, stored.age) == ("new", 104), fresh


@requires(Capability.TRANSACTIONS)
async def test_queries_right_after_a_commit_see_what_it_wrote(
    open_repository: OpenRepository,
) -> None:
    repo: Repository[Member] = await open_repository(Member)
    await repo.add_many(Member(id=f"m{n}", name="old") for n in range(4))
    assert await repo.count(AttributeSpecification("name", "new")) == 0
    uow = UnitOfWork()
    uow.register_repository(repo, Member)
    changed = await uow.get(Member, "m2")
    gone = await uow.get(Member, "m0")
    assert changed is not None
    assert gone is not None
    changed.name = "new"
    uow.register_deleted(gone)
    uow.register_new(Member(id="m7", name="new"))
    await uow.commit()

    fresh = "queries on the repository a unit of work committed through must see the commit"
    assert ids(await repo.find(AttributeSpecification("name", "new"))) == ["m2", "m7"], fresh
    assert ids(await repo.find()) == ["m1", "m2", "m3", "m7"], fresh
    assert await repo.count() == 4, fresh


@pytest.mark.timeout(SLOW_TIMEOUT)
async def test_a_collection_far_larger_than_any_batch_is_found_counted_ordered_and_paged(
    open_repository: OpenRepository,
) -> None:
    repo: Repository[Row] = await open_repository(Row)
    # Added out of numeric order, so that the order of adding and the order by number differ.
    numbers = [(n * 7919) % MANY for n in range(MANY)]
    await repo.add_many(Row(id=f"r{n:05}", number=n, group=f"g{n % 10}") for n in numbers)

    every = await repo.find()
    assert len(every) == MANY, f"find() must return all {MANY} entities, got {len(every)}"
    assert [row.number for row in every] == numbers, f"{ORDER}, however many there are"
    assert await repo.count() == MANY, "count() must count every entity"

    group = AttributeSpecification("group", "g3")
    in_group = [n for n in numbers if n % 10 == 3]
    assert await repo.count(group) == len(in_group), "count(spec) must count every match"
    assert [row.number for row in await repo.find(group)] == in_group, "find(spec) finds all"

    by_number = await repo.find(order_by="-number")
    assert [row.number for row in by_number] == list(range(MANY - 1, -1, -1)), (
        "order_by must order the whole collection, not each batch of it"
    )
    pages: list[int] = []
    for offset in range(0, MANY, 4_999):  # pages that straddle every round batch size
        pages.extend(
            row.number for row in await repo.find(order_by="number", limit=4_999, offset=offset)
        )
    assert pages == list(range(MANY)), "pages of limit and offset must cover everything once"
    window = await repo.find(group, order_by="number", limit=5, offset=990)
    assert [row.number for row in window] == [9903, 9913, 9923, 9933, 9943], (
        "limit and offset must apply after the specification and the order"
    )

    seen = [row.id async for row in repo.iterate(page_size=2_500)]
    assert seen == ids(every), "iterate must give every entity once, in the order of adding"
