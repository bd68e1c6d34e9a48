"""The unit of work on every backend with transactions: states, identity map, atomic commits.

Everything a unit of work commits goes to the backend's transaction manager; these tests
check what storage holds afterwards through repositories opened separately, so a change is
only seen once it is really stored. Failures are real ones, met halfway through a commit:
an id already taken, a stale version, an entity that is no longer there.
"""

from __future__ import annotations

import pytest
import pytest_asyncio

from victor_contract_tests.plugin import OpenRepository, requires
from victor_contract_tests.suite.sample_entities import Ledger, Member
from victor_core import EntityState, Repository, UnitOfWork, transactional
from victor_core.backend import (
    Capability,
    ConfigurationError,
    EntityAlreadyExists,
    EntityNotFound,
    StaleEntity,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.REPOSITORY, Capability.TRANSACTIONS)]


@pytest_asyncio.fixture
async def members(open_repository: OpenRepository) -> Repository[Member]:
    return await open_repository(Member)


@pytest_asyncio.fixture
async def ledgers(open_repository: OpenRepository) -> Repository[Ledger]:
    return await open_repository(Ledger)


@pytest_asyncio.fixture
async def uow(members: Repository[Member], ledgers: Repository[Ledger]) -> UnitOfWork:
    uow = UnitOfWork()
    uow.register_repository(members, Member)
    uow.register_repository(ledgers, Ledger)
    return uow


async def stored_members(open_repository: OpenRepository) -> dict[str, str]:
    """What storage holds, read through a repository of its own: id -> name."""
    reader = await open_repository(Member)
    return {member.id: member.name for member in await reader.find()}


async def stored_ledgers(open_repository: OpenRepository) -> dict[str, tuple[int, int]]:
    reader = await open_repository(Ledger)
    return {ledger.id: (ledger.total, ledger.version) for ledger in await reader.find()}


# -- states ---------------------------------------------------------------------------------


async def test_new_entities_are_inserted_in_one_commit_and_become_clean(
    uow: UnitOfWork, open_repository: OpenRepository
) -> None:
    ann, bob = Member(id="ann", name="Ann"), Member(id="bob", name="Bob")
    ledger = Ledger(id="l1", owner="ann", total=5)
    uow.register_new(ann)
    uow.register_new(ledger)
    uow.register_new(bob)
    assert uow.state_of(ann) is EntityState.NEW
    assert uow.has_changes()
    assert await stored_members(open_repository) == {}  # nothing before commit

    await uow.commit()

    assert await stored_members(open_repository) == {"ann": "Ann", "bob": "Bob"}
    assert await stored_ledgers(open_repository) == {"l1": (5, 1)}
    assert ledger.version == 1  # as the repository's own add would set it
    assert uow.state_of(ann) is EntityState.CLEAN
    assert not uow.has_changes()


async def test_a_registered_modification_is_stored_and_moves_the_version(
    uow: UnitOfWork, ledgers: Repository[Ledger], open_repository: OpenRepository
) -> None:
    await ledgers.add(Ledger(id="l1", owner="ann", total=1))
    copy = await ledgers.get("l1")
    assert copy is not None
    before = copy.updated_at
    copy.total = 7

    uow.register_modified(copy)
    assert uow.state_of(copy) is EntityState.MODIFIED
    await uow.commit()

    assert await stored_ledgers(open_repository) == {"l1": (7, 2)}
    assert copy.version == 2
    assert copy.updated_at > before
    assert uow.state_of(copy) is EntityState.CLEAN


async def test_a_deleted_entity_is_removed_and_no_longer_tracked(
    uow: UnitOfWork, members: Repository[Member], open_repository: OpenRepository
) -> None:
    await members.add_many([Member(id="ann", name="Ann"), Member(id="bob", name="Bob")])
    ann = await uow.get(Member, "ann")
    assert ann is not None

    uow.register_deleted(ann)
    assert uow.state_of(ann) is EntityState.DELETED
    assert await uow.get(Member, "ann") is None  # deleted as far as this unit of work goes
    await uow.commit()

    assert await stored_members(open_repository) == {"bob": "Bob"}
    assert uow.state_of(ann) is None
    assert await uow.get(Member, "ann") is None


async def test_an_entity_registered_new_then_deleted_is_never_written(
    uow: UnitOfWork, open_repository: OpenRepository
) -> None:
    ghost = Member(id="ghost", name="Ghost")
    uow.register_new(ghost)
    uow.register_modified(ghost)  # still new: the insert writes its latest state
    assert uow.state_of(ghost) is EntityState.NEW

    uow.register_deleted(ghost)

    assert uow.state_of(ghost) is None
    assert not uow.has_changes()
    await uow.commit()
    assert await stored_members(open_repository) == {}


async def test_a_new_entity_changed_before_commit_is_inserted_as_it_is_then(
    uow: UnitOfWork, open_repository: OpenRepository
) -> None:
    ann = Member(id="ann", name="Ann")
    uow.register_new(ann)
    ann.name = "Ann Lee"

    await uow.commit()

    assert await stored_members(open_repository) == {"ann": "Ann Lee"}


async def test_an_attached_entity_is_clean_until_it_changes(
    uow: UnitOfWork, ledgers: Repository[Ledger], open_repository: OpenRepository
) -> None:
    await ledgers.add(Ledger(id="l1", owner="ann", total=1))
    ledger = await ledgers.get("l1")
    assert ledger is not None

    uow.attach(ledger)
    assert uow.state_of(ledger) is EntityState.CLEAN
    assert not uow.has_changes()
    await uow.commit()  # nothing to write: the version does not move
    assert await stored_ledgers(open_repository) == {"l1": (1, 1)}

    ledger.total = 9
    assert uow.state_of(ledger) is EntityState.MODIFIED
    assert uow.has_changes()
    await uow.commit()

    assert await stored_ledgers(open_repository) == {"l1": (9, 2)}
    assert uow.state_of(ledger) is EntityState.CLEAN


async def test_in_place_changes_to_loaded_entities_are_found_and_stored(
    uow: UnitOfWork, members: Repository[Member], open_repository: OpenRepository
) -> None:
    await members.add_many([Member(id="ann", name="Ann"), Member(id="bob", name="Bob")])
    ann = await uow.get(Member, "ann")
    bob = await uow.get(Member, "bob")
    assert ann is not None
    assert bob is not None

    ann.tags.append("vip")  # a change inside a list counts too
    await uow.commit()

    reader = await open_repository(Member)
    stored_ann, stored_bob = await reader.get("ann"), await reader.get("bob")
    assert stored_ann is not None
    assert stored_bob is not None
    assert stored_ann.tags == ["vip"]
    assert stored_bob.updated_at == bob.updated_at  # unchanged, so not written


async def test_entities_stay_tracked_after_a_commit_and_commit_again(
    uow: UnitOfWork, open_repository: OpenRepository
) -> None:
    ann = Member(id="ann", name="Ann")
    uow.register_new(ann)
    await uow.commit()

    assert await uow.get(Member, "ann") is ann
    ann.name = "Anne"
    await uow.commit()

    assert await stored_members(open_repository) == {"ann": "Anne"}


# -- identity map ---------------------------------------------------------------------------


async def test_loading_the_same_entity_twice_gives_the_same_object(
    uow: UnitOfWork, members: Repository[Member]
) -> None:
    await members.add(Member(id="ann", name="Ann"))

    first = await uow.get(Member, "ann")
    second = await uow.get(Member, "ann")

    assert first is not None
    assert first is second
    assert await uow.get(Member, "nobody") is None


async def test_a_registered_entity_is_what_get_returns(uow: UnitOfWork) -> None:
    ann = Member(id="ann", name="Ann")
    uow.register_new(ann)

    assert await uow.get(Member, "ann") is ann


async def test_a_second_copy_of_a_tracked_entity_is_refused(
    uow: UnitOfWork, members: Repository[Member], open_repository: OpenRepository
) -> None:
    await members.add(Member(id="ann", name="Ann"))
    tracked = await uow.get(Member, "ann")
    other_copy = await members.get("ann")
    assert tracked is not None
    assert other_copy is not None
    other_copy.name = "Impostor"

    with pytest.raises(ConfigurationError, match="already tracked"):
        uow.register_modified(other_copy)
    with pytest.raises(ConfigurationError, match="already tracked"):
        uow.attach(other_copy)

    await uow.commit()
    assert await stored_members(open_repository) == {"ann": "Ann"}


# -- rollback and the context manager -------------------------------------------------------


async def test_rollback_forgets_every_change_and_restores_attached_entities(
    uow: UnitOfWork, members: Repository[Member], open_repository: OpenRepository
) -> None:
    await members.add(Member(id="ann", name="Ann", tags=["a"]))
    ann = await uow.get(Member, "ann")
    assert ann is not None
    ann.name = "Changed"
    ann.tags.append("b")
    uow.register_new(Member(id="bob", name="Bob"))

    await uow.rollback()

    assert (ann.name, ann.tags) == ("Ann", ["a"])
    assert not uow.has_changes()
    assert uow.state_of(ann) is None
    await uow.commit()
    assert await stored_members(open_repository) == {"ann": "Ann"}


async def test_transactional_commits_when_the_block_ends(
    members: Repository[Member], ledgers: Repository[Ledger], open_repository: OpenRepository
) -> None:
    async with transactional((members, Member), (ledgers, Ledger)) as uow:
        uow.register_new(Member(id="ann", name="Ann"))
        uow.register_new(Ledger(id="l1", owner="ann"))

    assert await stored_members(open_repository) == {"ann": "Ann"}
    assert await stored_ledgers(open_repository) == {"l1": (0, 1)}


async def test_transactional_rolls_back_when_the_block_raises(
    members: Repository[Member], ledgers: Repository[Ledger], open_repository: OpenRepository
) -> None:
    await members.add(Member(id="ann", name="Ann"))
    seen: list[Member] = []

    async def work_that_fails() -> None:
        async with transactional((members, Member), (ledgers, Ledger)) as uow:
            ann = await uow.get(Member, "ann")
            assert ann is not None
            seen.append(ann)
            ann.name = "Changed"
            uow.register_new(Ledger(id="l1", owner="ann"))
            raise LookupError("no such thing")

    with pytest.raises(LookupError, match="no such thing"):
        await work_that_fails()

    assert seen[0].name == "Ann"
    assert await stored_members(open_repository) == {"ann": "Ann"}
    assert await stored_ledgers(open_repository) == {}


# -- all or nothing -------------------------------------------------------------------------


async def test_a_taken_id_halfway_through_a_commit_leaves_nothing_written(
    uow: UnitOfWork,
    members: Repository[Member],
    ledgers: Repository[Ledger],
    open_repository: OpenRepository,
) -> None:
    await members.add(Member(id="taken", name="First"))
    await ledgers.add(Ledger(id="l1", owner="ann", total=1))
    ledger = await uow.get(Ledger, "l1")
    assert ledger is not None
    ledger.total = 2  # written before the failing insert
    uow.register_new(Member(id="ann", name="Ann"))
    uow.register_new(Ledger(id="l2", owner="bob"))
    uow.register_new(Member(id="taken", name="Second"))  # refused: the id is stored

    with pytest.raises(EntityAlreadyExists, match="taken"):
        await uow.commit()

    assert await stored_members(open_repository) == {"taken": "First"}
    assert await stored_ledgers(open_repository) == {"l1": (1, 1)}
    assert ledger.version == 1  # the objects did not move either
    assert uow.has_changes()  # still there: fix the cause and commit again, or roll back


async def test_a_vanished_entity_halfway_through_a_commit_leaves_nothing_written(
    uow: UnitOfWork,
    members: Repository[Member],
    open_repository: OpenRepository,
) -> None:
    await members.add_many([Member(id="ann", name="Ann"), Member(id="bob", name="Bob")])
    ann = await uow.get(Member, "ann")
    bob = await uow.get(Member, "bob")
    assert ann is not None
    assert bob is not None
    ann.name = "Ann Lee"
    uow.register_new(Member(id="cid", name="Cid"))
    uow.register_deleted(bob)
    await (await open_repository(Member)).delete("bob")  # someone else deletes it first
    await (await open_repository(Member)).add(Member(id="dan", name="Dan"))

    with pytest.raises(EntityNotFound, match="bob"):
        await uow.commit()

    assert await stored_members(open_repository) == {"ann": "Ann", "dan": "Dan"}


async def test_a_deletion_taken_back_keeps_the_order_of_adding(
    uow: UnitOfWork, members: Repository[Member], open_repository: OpenRepository
) -> None:
    await members.add_many([Member(id=name, name=name) for name in ("ann", "bob", "cid")])
    bob = await uow.get(Member, "bob")
    assert bob is not None
    uow.register_deleted(bob)
    uow.register_new(Member(id="ann", name="Another Ann"))  # refused after the delete

    with pytest.raises(EntityAlreadyExists):
        await uow.commit()

    reader = await open_repository(Member)
    assert [member.id for member in await reader.find()] == ["ann", "bob", "cid"]
    assert [member.id for member in await reader.find(limit=2)] == ["ann", "bob"]


async def test_a_failed_commit_can_be_retried_once_the_cause_is_fixed(
    uow: UnitOfWork, members: Repository[Member], open_repository: OpenRepository
) -> None:
    await members.add(Member(id="taken", name="First"))
    ann, clash = Member(id="ann", name="Ann"), Member(id="taken", name="Second")
    uow.register_new(ann)
    uow.register_new(clash)
    with pytest.raises(EntityAlreadyExists):
        await uow.commit()

    uow.register_deleted(clash)  # never stored by this unit of work: simply forgotten
    await uow.commit()

    assert await stored_members(open_repository) == {"taken": "First", "ann": "Ann"}


# -- conflicts ------------------------------------------------------------------------------


async def test_a_stale_entity_version_is_refused_at_commit_and_nothing_is_written(
    members: Repository[Member], ledgers: Repository[Ledger], open_repository: OpenRepository
) -> None:
    await ledgers.add(Ledger(id="l1", owner="ann", total=1))
    mine, theirs = UnitOfWork(), UnitOfWork()
    for uow in (mine, theirs):
        uow.register_repository(members, Member)
        uow.register_repository(ledgers, Ledger)
    my_ledger = await mine.get(Ledger, "l1")
    their_ledger = await theirs.get(Ledger, "l1")
    assert my_ledger is not None
    assert their_ledger is not None
    their_ledger.total = 50
    await theirs.commit()

    mine.register_new(Member(id="ann", name="Ann"))
    my_ledger.total = 2
    with pytest.raises(StaleEntity) as refused:
        await mine.commit()

    assert (refused.value.expected, refused.value.actual) == (1, 2)
    assert await stored_ledgers(open_repository) == {"l1": (50, 2)}
    assert await stored_members(open_repository) == {}


# -- order ----------------------------------------------------------------------------------


async def test_writes_happen_in_the_order_they_were_registered(
    uow: UnitOfWork, members: Repository[Member], open_repository: OpenRepository
) -> None:
    await members.add(Member(id="old", name="Old"))
    old = await uow.get(Member, "old")
    assert old is not None
    for name in ("carol", "alice"):
        uow.register_new(Member(id=name, name=name))
    uow.register_deleted(old)
    uow.register_new(Member(id="bob", name="bob"))

    await uow.commit()

    reader = await open_repository(Member)
    assert [member.id for member in await reader.find()] == ["carol", "alice", "bob"]


async def test_an_entity_stored_before_its_class_declared_a_version_commits_an_update(
    open_repository: OpenRepository,
) -> None:
    from victor_contract_tests.suite.contract_repository import (
        NoteBeforeLocking,
        NoteWithLocking,
    )

    before: Repository[NoteBeforeLocking] = await open_repository(NoteBeforeLocking)
    await before.add(NoteBeforeLocking(id="n1", text="draft"))
    notes: Repository[NoteWithLocking] = await open_repository(NoteWithLocking)
    uow = UnitOfWork()
    uow.register_repository(notes, NoteWithLocking)

    note = await uow.get(NoteWithLocking, "n1")
    assert note is not None
    note.text = "final"
    await uow.commit()

    stored = await notes.get("n1")
    assert stored is not None
    assert (stored.text, stored.version) == ("final", 1)
