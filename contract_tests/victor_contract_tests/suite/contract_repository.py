"""The repository contract: CRUD, atomic batches, timestamps, versions, paging, ordering."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
import pytest_asyncio

from victor_contract_tests.plugin import OpenRepository, requires
from victor_contract_tests.suite.sample_entities import Address, Ledger, Member, Tier, members
from victor_core import AttributeSpecification, Entity, Repository
from victor_core.backend import (
    Capability,
    ConcurrencyError,
    ConfigurationError,
    EntityAlreadyExists,
    EntityNotFound,
    SerializationError,
    StaleEntity,
    StoreClosed,
    VictorError,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.REPOSITORY)]


@pytest_asyncio.fixture
async def repo(open_repository: OpenRepository) -> Repository[Member]:
    return await open_repository(Member)


@pytest_asyncio.fixture
async def populated(repo: Repository[Member]) -> Repository[Member]:
    await repo.add_many(members())
    return repo


def ids(entities: list[Member]) -> list[str]:
    return [entity.id for entity in entities]


async def test_an_added_entity_comes_back_equal_as_a_new_object(repo: Repository[Member]) -> None:
    alice = members()[0]
    await repo.add(alice)

    found = await repo.get("m1")

    assert found == alice
    assert found is not alice
    assert type(found) is Member
    assert found is not None
    assert found.address == Address("Paris", "1 Rue", "75001")
    assert found.tier is Tier.PRO
    assert str(found.balance) == "10.50"
    assert await repo.get("m1") is not found


async def test_an_entity_gets_a_generated_id_and_utc_timestamps(repo: Repository[Member]) -> None:
    first, second = Member(name="a"), Member(name="b")
    await repo.add_many([first, second])

    found = await repo.get(first.id)

    assert first.id
    assert first.id != second.id
    assert found is not None
    assert found.created_at == first.created_at
    assert found.created_at.utcoffset() == timedelta(0)
    assert found.updated_at.utcoffset() == timedelta(0)


async def test_times_given_in_another_zone_come_back_as_the_same_instant(
    repo: Repository[Member],
) -> None:
    moment = datetime(2024, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    await repo.add(Member(id="tz", created_at=moment))

    found = await repo.get("tz")

    assert found is not None
    assert found.created_at == moment
    assert found.created_at.tzinfo is not None


async def test_get_of_a_missing_id_is_none(repo: Repository[Member]) -> None:
    assert await repo.get("nobody") is None
    assert not await repo.exists("nobody")


async def test_exists_and_count_follow_adds_and_deletes(repo: Repository[Member]) -> None:
    await repo.add_many(members()[:3])
    assert await repo.exists("m2")
    assert await repo.count() == 3

    await repo.delete("m2")

    assert not await repo.exists("m2")
    assert await repo.count() == 2


async def test_adding_a_taken_id_is_refused_and_changes_nothing(repo: Repository[Member]) -> None:
    await repo.add(Member(id="x", name="first"))

    with pytest.raises(EntityAlreadyExists) as caught:
        await repo.add(Member(id="x", name="second"))

    assert caught.value.entity_id == "x"
    assert "update" in str(caught.value)
    stored = await repo.get("x")
    assert stored is not None
    assert stored.name == "first"


async def test_a_batch_with_one_taken_id_adds_nothing(repo: Repository[Member]) -> None:
    await repo.add(Member(id="taken"))

    with pytest.raises(EntityAlreadyExists):
        await repo.add_many([Member(id="new-1"), Member(id="taken"), Member(id="new-2")])
    with pytest.raises(EntityAlreadyExists):
        await repo.add_many([Member(id="twice"), Member(id="twice")])

    assert await repo.count() == 1
    assert not await repo.exists("new-1")
    assert not await repo.exists("twice")


async def test_a_value_no_database_could_store_is_refused_and_nothing_is_written(
    repo: Repository[Member],
) -> None:
    with pytest.raises(SerializationError, match="Member"):
        await repo.add_many([Member(id="fine"), Member(id="bad", payload=object())])
    assert await repo.count() == 0

    await repo.add(Member(id="fine", name="before"))
    changed = Member(id="fine", name="after", payload=object())
    with pytest.raises(SerializationError):
        await repo.update(changed)
    stored = await repo.get("fine")
    assert stored is not None
    assert stored.name == "before"


#: Floats an engine may write without a decimal point (JSONB writes 1e20 as
#: 100000000000000000000), next to ones it keeps as written.
FLOATS = [1e16, 1e20, -2.5e17, 1.5e300, 1e308, 1e-7, 5e-324, 0.1]


@pytest.mark.parametrize("number", FLOATS, ids=repr)
async def test_a_float_comes_back_as_the_same_float_wherever_it_is_held(
    repo: Repository[Member], number: float
) -> None:
    """A float comes back as the same float, also where the class declares no type."""
    await repo.add(Member(id="m1", score=number, payload={"n": number, "items": [number]}))
    await repo.add(Member(id="m2"))
    await repo.update(Member(id="m2", score=number, payload=number))

    first, second = await repo.get("m1"), await repo.get("m2")
    assert first is not None
    assert second is not None
    for stored in (first.payload["n"], first.payload["items"][0], second.payload, first.score):
        assert type(stored) is float, f"{number!r} came back as {stored!r}"
        assert stored == number, f"{number!r} came back as {stored!r}"
    assert ids(await repo.find(AttributeSpecification("score", number))) == ["m1", "m2"]
    assert ids(await repo.find(AttributeSpecification("score", number, op=">="))) == ["m1", "m2"]
    assert await repo.count(AttributeSpecification("score", number, op="<")) == 0


async def test_changing_an_entity_after_add_does_not_change_storage(
    repo: Repository[Member],
) -> None:
    alice = members()[0]
    await repo.add(alice)

    alice.name = "Mallory"
    alice.tags.append("intruder")
    alice.meta["team"] = "black"
    fetched = await repo.get("m1")
    assert fetched is not None
    fetched.tags.clear()

    stored = await repo.get("m1")
    assert stored is not None
    assert stored.name == "Alice"
    assert stored.tags == ["admin", "vip"]
    assert stored.meta == {"team": "red"}


async def test_update_stores_the_new_state_and_moves_updated_at(repo: Repository[Member]) -> None:
    member = Member(id="u", name="old", updated_at=datetime(2000, 1, 1, tzinfo=UTC))
    await repo.add(member)
    created = member.created_at

    member.name = "new"
    member.address = Address("Nice")
    await repo.update(member)

    stored = await repo.get("u")
    assert stored is not None
    assert stored.name == "new"
    assert stored.address == Address("Nice")
    assert stored.created_at == created
    assert stored.updated_at > datetime(2000, 1, 1, tzinfo=UTC)
    assert member.updated_at == stored.updated_at


async def test_updating_or_deleting_a_missing_entity_is_an_error(
    repo: Repository[Member],
) -> None:
    ghost = Member(id="ghost", updated_at=datetime(2000, 1, 1, tzinfo=UTC))

    with pytest.raises(EntityNotFound) as caught:
        await repo.update(ghost)
    assert caught.value.entity_id == "ghost"
    assert isinstance(caught.value, VictorError)
    assert ghost.updated_at == datetime(2000, 1, 1, tzinfo=UTC)
    with pytest.raises(EntityNotFound):
        await repo.delete("ghost")
    assert await repo.count() == 0


async def test_a_deleted_id_can_be_added_again(repo: Repository[Member]) -> None:
    await repo.add(Member(id="again", name="one"))
    await repo.delete("again")

    await repo.add(Member(id="again", name="two"))

    stored = await repo.get("again")
    assert stored is not None
    assert stored.name == "two"


async def test_an_attrs_entity_round_trips(open_repository: OpenRepository) -> None:
    ledgers = await open_repository(Ledger)
    ledger = Ledger(owner="ann", total=5)
    await ledgers.add(ledger)

    stored = await ledgers.get(ledger.id)

    assert stored == ledger
    assert type(stored) is Ledger


async def test_a_versioned_entity_refuses_updates_from_a_stale_copy(
    open_repository: OpenRepository,
) -> None:
    ledgers: Repository[Ledger] = await open_repository(Ledger)
    ledger = Ledger(id="l1", owner="ann")
    await ledgers.add(ledger)
    assert ledger.version == 1
    first = await ledgers.get("l1")
    second = await ledgers.get("l1")
    assert first is not None
    assert second is not None

    first.total = 10
    await ledgers.update(first)
    assert first.version == 2
    second.total = 99
    with pytest.raises(StaleEntity) as caught:
        await ledgers.update(second)

    assert isinstance(caught.value, ConcurrencyError)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert second.version == 1
    stored = await ledgers.get("l1")
    assert stored is not None
    assert (stored.total, stored.version) == (10, 2)
    # A fresh copy can be updated.
    stored.total = 11
    await ledgers.update(stored)
    assert stored.version == 3


@dataclasses.dataclass
class NoteBeforeLocking(Entity):
    """A class as first deployed, without a version field."""

    __entity_name__ = "victor_contract_note"
    text: str = ""


@dataclasses.dataclass
class NoteWithLocking(Entity):
    """The same stored entities, once the class declared ``version: int = 0``."""

    __entity_name__ = "victor_contract_note"
    text: str = ""
    version: int = 0


async def test_an_entity_stored_before_its_class_declared_a_version_can_be_updated(
    open_repository: OpenRepository,
) -> None:
    before: Repository[NoteBeforeLocking] = await open_repository(NoteBeforeLocking)
    await before.add(NoteBeforeLocking(id="n1", text="draft"))
    notes: Repository[NoteWithLocking] = await open_repository(NoteWithLocking)
    mine, theirs = await notes.get("n1"), await notes.get("n1")
    assert mine is not None
    assert theirs is not None
    assert mine.version == 0  # the stored document has no version: the default applies

    mine.text = "final"
    await notes.update(mine)

    assert mine.version == 1
    stored = await notes.get("n1")
    assert stored is not None
    assert (stored.text, stored.version) == ("final", 1)
    # The other copy of version 0 is now stale, like any other.
    theirs.text = "late"
    with pytest.raises(StaleEntity):
        await notes.update(theirs)
    stored = await notes.get("n1")
    assert stored is not None
    assert (stored.text, stored.version) == ("final", 1)


async def test_concurrent_updates_of_one_version_have_one_winner(
    open_repository: OpenRepository,
) -> None:
    ledgers: Repository[Ledger] = await open_repository(Ledger)
    await ledgers.add(Ledger(id="hot", owner="ann"))
    copies = [await ledgers.get("hot") for _ in range(5)]

    async def attempt(number: int, copy: Ledger | None) -> bool:
        assert copy is not None
        copy.total = number
        try:
            await ledgers.update(copy)
        except StaleEntity:
            return False
        return True

    outcomes = await asyncio.gather(*(attempt(n, c) for n, c in enumerate(copies, start=1)))

    assert outcomes.count(True) == 1
    stored = await ledgers.get("hot")
    assert stored is not None
    assert stored.total == outcomes.index(True) + 1
    assert stored.version == 2


async def test_entities_of_another_class_are_refused(repo: Repository[Member]) -> None:
    @dataclasses.dataclass
    class Stranger(Entity):
        name: str = ""

    with pytest.raises(ConfigurationError, match="Member"):
        await repo.add(Stranger())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="ids"):
        await repo.get(42)  # type: ignore[arg-type]
    assert await repo.count() == 0


async def test_without_order_entities_come_in_the_order_they_were_added(
    repo: Repository[Member],
) -> None:
    population = members()
    await repo.add_many(population[4:])
    await repo.add_many(population[:4])
    await repo.delete("m6")
    await repo.add(Member(id="m6", name="back"))

    assert ids(await repo.find()) == ["m5", "m7", "m8", "m1", "m2", "m3", "m4", "m6"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("age", ["m7", "m5", "m2", "m1", "m4", "m8", "m3", "m6"]),
        ("-age", ["m6", "m3", "m1", "m4", "m8", "m2", "m5", "m7"]),
        (["-age", "name"], ["m6", "m3", "m1", "m4", "m8", "m2", "m5", "m7"]),
        (["age", "-name"], ["m7", "m5", "m2", "m8", "m4", "m1", "m3", "m6"]),
        ("name", ["m1", "m2", "m3", "m4", "m5", "m7", "m8", "m6"]),
        ("score", ["m2", "m7", "m5", "m4", "m3", "m1", "m6", "m8"]),
        ("-score", ["m8", "m1", "m6", "m3", "m4", "m5", "m2", "m7"]),
        ("address.city", ["m4", "m7", "m2", "m6", "m5", "m1", "m3", "m8"]),
        (["active", "tier", "id"], ["m2", "m5", "m3", "m4", "m6", "m7", "m1", "m8"]),
        ("balance", ["m2", "m3", "m4", "m5", "m6", "m7", "m8", "m1"]),
    ],
)
async def test_order_by_sorts_with_none_first_and_ties_broken_by_id(
    populated: Repository[Member], order_by: str | list[str], expected: list[str]
) -> None:
    assert ids(await populated.find(order_by=order_by)) == expected


async def test_limit_and_offset_take_pages_of_the_ordered_results(
    populated: Repository[Member],
) -> None:
    everything = ids(await populated.find(order_by="age"))

    pages = [
        ids(await populated.find(order_by="age", limit=3, offset=start)) for start in (0, 3, 6)
    ]

    assert pages[0] + pages[1] + pages[2] == everything
    assert ids(await populated.find(limit=2)) == ["m1", "m2"]
    assert ids(await populated.find(offset=6)) == ["m7", "m8"]
    assert await populated.find(limit=0) == []
    assert await populated.find(offset=100) == []


async def test_windows_beyond_64_bits_mean_no_limit_or_nothing(
    populated: Repository[Member],
) -> None:
    """A limit, offset or page size beyond 64 bits means no limit, nothing, or one page."""
    everything = ids(await populated.find())

    assert ids(await populated.find(limit=2**64)) == everything
    assert ids(await populated.find(order_by="age", limit=2**70)) == ids(
        await populated.find(order_by="age")
    )
    assert await populated.find(offset=2**64) == []
    assert await populated.find(order_by="name", offset=2**63) == []
    assert [m.id async for m in populated.iterate(page_size=2**64)] == everything


@pytest.mark.parametrize(
    "window", [{"limit": -1}, {"offset": -1}, {"limit": "3"}, {"offset": 1.5}, {"limit": True}]
)
async def test_nonsense_windows_are_refused(
    populated: Repository[Member], window: dict[str, object]
) -> None:
    with pytest.raises(ConfigurationError):
        await populated.find(**window)  # type: ignore[arg-type]


@pytest.mark.parametrize("order_by", ["", [], "-", "age; DROP TABLE x", ["name", 3], "a..b"])
async def test_nonsense_order_by_is_refused(
    populated: Repository[Member], order_by: object
) -> None:
    with pytest.raises(ConfigurationError):
        await populated.find(order_by=order_by)  # type: ignore[arg-type]
    assert await populated.count() == 8


async def test_iterate_pages_through_everything_once(populated: Repository[Member]) -> None:
    await populated.add_many(Member(id=f"extra-{n:02}") for n in range(13))

    seen = [m.id async for m in populated.iterate(page_size=4)]
    matching = [
        m.id async for m in populated.iterate(AttributeSpecification("age", 30), page_size=2)
    ]
    default = [m.id async for m in populated]

    assert seen == ids(await populated.find())
    assert len(seen) == 21 == len(set(seen))
    assert matching == ["m1", "m4", "m8"]
    assert default == seen


async def test_iterate_refuses_a_nonsense_page_size(populated: Repository[Member]) -> None:
    with pytest.raises(ConfigurationError, match="page_size"):
        [m async for m in populated.iterate(page_size=0)]


async def test_a_second_repository_on_the_same_storage_sees_the_entities(
    open_repository: OpenRepository,
) -> None:
    writer = await open_repository(Member)
    await writer.add(Member(id="shared", name="one"))

    reader = await open_repository(Member)

    found = await reader.get("shared")
    assert found is not None
    assert found.name == "one"
    with pytest.raises(EntityAlreadyExists):
        await reader.add(Member(id="shared"))


async def test_entities_of_two_classes_are_kept_apart(open_repository: OpenRepository) -> None:
    people = await open_repository(Member)
    ledgers = await open_repository(Ledger)
    await people.add(Member(id="same-id"))
    await ledgers.add(Ledger(id="same-id", owner="x"))

    assert await people.count() == 1
    assert await ledgers.count() == 1


@requires(Capability.DURABILITY)
async def test_entities_survive_closing_every_repository(
    open_repository: OpenRepository,
) -> None:
    first = await open_repository(Member)
    await first.add(Member(id="kept", name="durable"))
    await first.close()

    again = await open_repository(Member)

    found = await again.get("kept")
    assert found is not None
    assert found.name == "durable"


async def test_a_closed_repository_refuses_work(repo: Repository[Member]) -> None:
    await repo.close()
    await repo.close()  # closing twice is harmless

    with pytest.raises(StoreClosed):
        await repo.add(Member())
    with pytest.raises(StoreClosed):
        await repo.find()
