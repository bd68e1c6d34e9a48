"""Which writes can commit together, and what happens when they cannot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

pytest.importorskip("victor_memory", reason="exercises the memory backend plugin (victor-memory)")

from tests.unit_of_work.notebook import NotebookRepository, Order, User
from victor_core import (
    CachedRepository,
    CapabilityNotSupported,
    EntityNotFound,
    EntityState,
    InMemoryRepository,
    NotAtomic,
    PartialCommit,
    UnitOfWork,
)
from victor_core.repository import DocumentRepository, NewDocument
from victor_core.unit_of_work import (
    InsertDocuments,
    WriteRefused,
    WriteResult,
    find_transaction_manager,
)
from victor_core.unit_of_work.commit import Group, commit_groups
from victor_core.unit_of_work.managers import Transactional
from victor_core.unit_of_work.participants import participant_for
from victor_core.unit_of_work.tracking import Tracked

pytestmark = pytest.mark.asyncio


async def test_memory_repositories_share_one_resource_whatever_their_storage() -> None:
    private, named = InMemoryRepository[User](), InMemoryRepository[Order](name="uow-tests")

    first, second = find_transaction_manager(private), find_transaction_manager(named)

    assert first is not None
    assert second is not None
    assert first.key == second.key
    assert str(first.key) == "the in-process memory"
    assert first.backend == "memory"


async def test_a_repository_with_no_backend_has_no_transaction_manager() -> None:
    assert find_transaction_manager(NotebookRepository(User)) is None


async def test_a_document_repository_is_recognised_by_its_store() -> None:
    memory = InMemoryRepository[User]()
    plain = DocumentRepository(User, memory.store)

    found = find_transaction_manager(plain)

    assert found is not None
    assert found.backend == "memory"


async def test_writes_to_two_resources_are_refused_naming_both_and_nothing_is_written() -> None:
    users, orders = InMemoryRepository[User](), NotebookRepository(Order)
    uow = UnitOfWork()
    uow.register_repository(users, User)
    uow.register_repository(orders, Order)
    uow.register_new(User(id="u1", name="Ann"))
    uow.register_new(Order(id="o1", user_id="u1"))

    with pytest.raises(NotAtomic) as refused:
        await uow.commit()

    assert refused.value.resources == (
        "the in-process memory (insert User 'u1')",
        "Order (NotebookRepository), whose backend provides no transaction manager, so its "
        "writes are made one by one (insert Order 'o1')",
    )
    assert "best_effort=True" in str(refused.value)
    assert await users.count() == 0
    assert orders.pages == {}
    assert uow.has_changes()


async def test_a_repository_without_transactions_alone_still_needs_best_effort() -> None:
    uow = UnitOfWork()
    uow.register_repository(NotebookRepository(Order), Order)
    uow.register_new(Order(id="o1"))
    uow.register_new(Order(id="o2"))

    with pytest.raises(NotAtomic, match="no transaction manager"):
        await uow.commit()


@pytest.mark.parametrize("where", ["constructor", "commit"])
async def test_best_effort_commits_each_resource_in_turn(where: str) -> None:
    users, orders = InMemoryRepository[User](), NotebookRepository(Order)
    uow = UnitOfWork(best_effort=where == "constructor")
    uow.register_repository(users, User)
    uow.register_repository(orders, Order)
    user, order = User(id="u1", name="Ann"), Order(id="o1", user_id="u1")
    uow.register_new(user)
    uow.register_new(order)

    await uow.commit(best_effort=True if where == "commit" else None)

    assert [u.id for u in await users.find()] == ["u1"]
    assert list(orders.pages) == ["o1"]
    assert not uow.has_changes()


async def test_a_best_effort_failure_after_a_commit_says_what_was_and_was_not_written() -> None:
    users, orders = InMemoryRepository[User](), NotebookRepository(Order)
    uow = UnitOfWork(best_effort=True)
    uow.register_repository(users, User)
    uow.register_repository(orders, Order)
    user = User(id="u1", name="Ann")
    missing = Order(id="o-missing", user_id="u1")
    uow.register_new(user)
    uow.register_new(Order(id="o1"))
    uow.register_modified(missing)  # not stored: its update fails

    with pytest.raises(PartialCommit) as partial:
        await uow.commit()

    error = partial.value
    assert error.committed == ("insert User 'u1'", "insert Order 'o1'")
    assert error.not_committed == ("update Order 'o-missing'",)
    assert isinstance(error.error, EntityNotFound)
    assert error.__cause__ is error.error
    assert [u.id for u in await users.find()] == ["u1"]
    assert list(orders.pages) == ["o1"]
    assert uow.state_of(user) is EntityState.CLEAN
    assert uow.state_of(missing) is EntityState.MODIFIED


async def test_a_best_effort_failure_before_anything_committed_is_the_error_itself() -> None:
    users, orders = InMemoryRepository[User](), NotebookRepository(Order)
    await users.add(User(id="taken"))
    uow = UnitOfWork(best_effort=True)
    uow.register_repository(users, User)
    uow.register_repository(orders, Order)
    uow.register_new(User(id="taken"))
    uow.register_new(Order(id="o1"))

    with pytest.raises(Exception, match="already stored") as failed:
        await uow.commit()

    assert not isinstance(failed.value, PartialCommit)
    assert orders.pages == {}


async def test_a_cached_repository_commits_with_the_others_and_forgets_what_changed() -> None:
    base = InMemoryRepository[User]()
    await base.add(User(id="u1", name="Ann"))
    cached = CachedRepository(base, ttl=None)
    orders = InMemoryRepository[Order]()
    uow = UnitOfWork()
    uow.register_repository(cached, User)
    uow.register_repository(orders, Order)

    user = await uow.get(User, "u1")
    assert user is not None
    user.name = "Anne"
    uow.register_new(Order(id="o1", user_id="u1"))
    await uow.commit()  # one resource: no NotAtomic

    again = await cached.get("u1")
    assert again is not None
    assert again.name == "Anne"
    assert await orders.count() == 1


class Ambient:
    """A manager of the ambient kind: it only opens and closes a transaction."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    @property
    def key(self) -> str:
        return "ambient resource"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        try:
            yield None
        except BaseException as exc:
            self.outcomes.append(f"rolled back: {type(exc).__name__}")
            raise
        self.outcomes.append("committed")


async def test_an_ambient_manager_gets_the_writes_made_inside_its_transaction() -> None:
    users = InMemoryRepository[User]()
    ambient = Ambient()
    manager = Transactional(ambient, "ambient-backend")
    document = NewDocument("u1", users.codec.encode(User(id="u1")))

    await manager.commit([InsertDocuments(users.store, (document,))])
    with pytest.raises(WriteRefused) as refused:
        await manager.commit([InsertDocuments(users.store, (document,))])

    assert not manager.takes_writes
    assert refused.value.entity_id == "u1"
    assert ambient.outcomes == ["committed", "rolled back: WriteRefused"]
    assert await users.count() == 1


class Standalone:
    """An ambient manager on a server that turns out to have no transactions."""

    @property
    def key(self) -> str:
        return "standalone server"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        raise CapabilityNotSupported("this server has no transactions")
        yield  # pragma: no cover - never reached


async def test_best_effort_writes_one_by_one_where_a_transaction_cannot_begin() -> None:
    users = InMemoryRepository[User]()
    participant = participant_for(users, User)
    tracked = Tracked(User(id="u1"), participant, EntityState.NEW)
    group = Group("standalone server", Transactional(Standalone(), "standalone"), [])
    group.steps.append(participant.stage_insert([tracked]))
    settled: list[WriteResult] = []

    with pytest.raises(CapabilityNotSupported, match="no transactions"):
        await commit_groups([group], lambda step, result: settled.append(result))
    assert await users.count() == 0

    await commit_groups([group], lambda step, result: settled.append(result), best_effort=True)
    assert await users.count() == 1
    assert settled == [None]
