"""What a unit of work accepts and refuses, before anything reaches storage."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.backend import ListRepository, list_event_store
from tests.support.plugins import needs
from tests.unit_of_work.notebook import Order, User
from victor_core import (
    Aggregate,
    AggregateRepository,
    ConfigurationError,
    Entity,
    EntityAlreadyExists,
    EntityState,
    Event,
    SerializationError,
    UnitOfWork,
    transactional,
)

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Opened(Event):
    __event_type__ = "tests.uow.Opened"


class Ledger(Aggregate):
    def _apply_Opened(self, event: Opened) -> None:
        self.id = event.aggregate_id


@pytest.fixture
def uow() -> UnitOfWork:
    uow = UnitOfWork()
    uow.register_repository(ListRepository[User](), User)
    uow.register_repository(ListRepository[Order](), Order)
    return uow


async def test_a_class_without_a_repository_is_refused_with_what_to_call(uow: UnitOfWork) -> None:
    @dataclasses.dataclass
    class Invoice(Entity):
        pass

    with pytest.raises(ConfigurationError, match=r"register_repository\(repository, Invoice\)"):
        uow.register_new(Invoice())
    with pytest.raises(ConfigurationError, match=r"no repository is registered for .*Invoice"):
        await uow.get(Invoice, "x")


async def test_a_repository_must_store_the_class_it_is_registered_for() -> None:
    uow = UnitOfWork()

    with pytest.raises(ConfigurationError, match="stores User, not Order"):
        uow.register_repository(ListRepository[User](), Order)
    with pytest.raises(ConfigurationError, match="takes a Repository"):
        uow.register_repository(object(), User)
    with pytest.raises(ConfigurationError, match="is an aggregate"):
        uow.register_repository(ListRepository[User](), Ledger)

    class Other(Aggregate):
        pass

    with pytest.raises(ConfigurationError, match="stores Ledger, not"):
        uow.register_repository(AggregateRepository(list_event_store(), Ledger), Other)


async def test_one_repository_per_class(uow: UnitOfWork) -> None:
    with pytest.raises(ConfigurationError, match="already has a repository"):
        uow.register_repository(ListRepository[User](), User)


async def test_registering_the_same_repository_again_is_harmless() -> None:
    users = ListRepository[User]()
    uow = UnitOfWork(best_effort=True)  # the lists backend has no transactions
    uow.register_repository(users, User)
    uow.register_repository(users, User)
    uow.register_new(User(name="Ann"))

    await uow.commit()

    assert await users.count() == 1


async def test_transitions_that_make_no_sense_are_refused(uow: UnitOfWork) -> None:
    stored = User(name="Stored")
    uow.attach(stored)
    with pytest.raises(ConfigurationError, match=r"is clean.*use register_modified"):
        uow.register_new(stored)

    doomed = User(name="Doomed")
    uow.register_deleted(doomed)
    with pytest.raises(ConfigurationError, match="registered for deletion"):
        uow.register_modified(doomed)
    with pytest.raises(ConfigurationError, match=r"is deleted.*commit the deletion first"):
        uow.register_new(doomed)

    assert uow.state_of(stored) is EntityState.CLEAN
    assert uow.state_of(doomed) is EntityState.DELETED


async def test_repeating_a_registration_changes_nothing(uow: UnitOfWork) -> None:
    user = User(name="Ann")
    uow.register_new(user)
    uow.register_new(user)
    assert uow.state_of(user) is EntityState.NEW

    other = User(name="Bob")
    uow.register_modified(other)
    uow.register_modified(other)
    uow.attach(other)
    assert uow.state_of(other) is EntityState.MODIFIED

    gone = User(name="Cid")
    uow.register_deleted(gone)
    uow.register_deleted(gone)
    assert uow.state_of(gone) is EntityState.DELETED


async def test_untracked_objects_have_no_state(uow: UnitOfWork) -> None:
    assert uow.state_of(User()) is None
    assert uow.state_of("not an entity") is None


async def test_an_entity_needs_an_id_to_be_tracked(uow: UnitOfWork) -> None:
    with pytest.raises(ConfigurationError, match="non-empty string"):
        uow.register_new(User(id=""))


async def test_an_aggregate_needs_its_id_before_it_is_registered() -> None:
    uow = UnitOfWork()
    uow.register_repository(list_event_store(), Ledger)

    with pytest.raises(ConfigurationError, match="non-empty string"):
        uow.register_new(Ledger())


async def test_state_that_cannot_be_stored_is_refused_when_attached(uow: UnitOfWork) -> None:
    user = User(name="Ann")
    user.name = object()  # type: ignore[assignment]

    with pytest.raises(SerializationError, match="cannot track User"):
        uow.attach(user)


async def test_rollback_may_be_awaited_or_not(uow: UnitOfWork) -> None:
    uow.register_new(User(name="Ann"))
    uow.rollback()
    assert not uow.has_changes()

    uow.register_new(User(name="Bob"))
    await uow.rollback()
    assert not uow.has_changes()


async def test_transactional_takes_repository_and_class_pairs() -> None:
    with pytest.raises(ConfigurationError, match=r"\(repository, EntityType\) pairs"):
        transactional(ListRepository[User]())  # type: ignore[arg-type]


@needs("victor_memory", "victor-memory")
async def test_a_failed_commit_in_a_block_rolls_back_and_raises() -> None:
    from victor_memory import InMemoryRepository  # a rollback needs transactions

    users = InMemoryRepository[User]()
    await users.add(User(id="taken", name="First"))

    uow = transactional((users, User))

    async def add_both() -> None:
        async with uow:
            uow.register_new(User(name="Ann"))
            uow.register_new(User(id="taken", name="Second"))

    with pytest.raises(EntityAlreadyExists):
        await add_both()

    assert not uow.has_changes()
    assert [user.name for user in await users.find()] == ["First"]


async def test_a_commit_with_nothing_to_write_writes_nothing(uow: UnitOfWork) -> None:
    await uow.commit()
    assert not uow.has_changes()
