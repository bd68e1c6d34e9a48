"""Which writes can commit together, and what happens when they cannot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
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
from victor_core.backend import BackendContractError, DocumentStore, Write, apply_in_order
from victor_core.repository import DocumentRepository
from victor_core.unit_of_work import (
    WriteResult,
    find_transaction_manager,
)

pytestmark = pytest.mark.asyncio


async def test_memory_repositories_share_one_resource_whatever_their_storage() -> None:
    private, named = InMemoryRepository[User](), InMemoryRepository[Order](name="uow-tests")

    first, second = find_transaction_manager(private), find_transaction_manager(named)

    assert first is not None
    assert second is not None
    assert first.key == second.key
    assert str(first.key) == "the in-process memory"


async def test_a_repository_with_no_backend_has_no_transaction_manager() -> None:
    assert find_transaction_manager(NotebookRepository(User)) is None


async def test_a_document_repository_is_recognised_by_its_store() -> None:
    memory = InMemoryRepository[User]()
    plain = DocumentRepository(User, memory.store)

    found, of_store = find_transaction_manager(plain), find_transaction_manager(memory.store)

    assert found is not None
    assert of_store is not None
    assert found.key == of_store.key


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


def offering(repository: InMemoryRepository[Any], manager: object) -> InMemoryRepository[Any]:
    """*repository*, its store now offering *manager* as its transaction manager."""
    store = repository.store

    class Offering(type(store)):  # type: ignore[misc]
        def transaction_manager(self) -> Any:
            return manager

    repository.store = Offering(store.table, store.codec)
    return repository


class Ambient:
    """A manager of the deprecated kind: it only opens and closes a transaction."""

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


async def test_a_manager_with_only_a_transaction_still_commits_with_a_deprecation() -> None:
    ambient = Ambient()
    users = offering(InMemoryRepository[User](), ambient)
    first, second = UnitOfWork(), UnitOfWork()
    first.register_repository(users, User)
    second.register_repository(users, User)

    first.register_new(User(id="u1"))
    with pytest.warns(DeprecationWarning, match="async commit"):
        await first.commit()
    second.register_new(User(id="u1"))
    with (
        pytest.warns(DeprecationWarning, match="async commit"),
        pytest.raises(Exception, match="already stored"),
    ):
        await second.commit()

    assert ambient.outcomes == ["committed", "rolled back: WriteRefused"]
    assert await users.count() == 1


class Standalone:
    """A manager on a server that turns out to have no transactions."""

    def __init__(self) -> None:
        self.asked = 0

    @property
    def key(self) -> str:
        return "standalone server"

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        self.asked += 1
        raise CapabilityNotSupported("this server has no transactions")


async def test_best_effort_writes_one_by_one_where_a_transaction_cannot_begin() -> None:
    standalone = Standalone()
    users = offering(InMemoryRepository[User](), standalone)
    uow = UnitOfWork()
    uow.register_repository(users, User)
    uow.register_new(User(id="u1"))

    with pytest.raises(CapabilityNotSupported, match="no transactions"):
        await uow.commit()
    assert await users.count() == 0

    await uow.commit(best_effort=True)
    assert await users.count() == 1
    assert standalone.asked == 2
    assert not uow.has_changes()


class Miscounting:
    """A manager that applies the writes but answers for one of them too few."""

    @property
    def key(self) -> str:
        return "miscounting resource"

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        return (await apply_in_order(writes))[1:]


async def test_a_manager_answering_for_too_few_writes_is_reported_as_the_backends_fault() -> None:
    users = offering(InMemoryRepository[User](), Miscounting())
    uow = UnitOfWork()
    uow.register_repository(users, User)
    uow.register_new(User(id="u1"))

    with pytest.raises(Exception, match="breaks the TransactionManager contract"):
        await uow.commit()


async def test_a_store_offering_something_else_than_a_manager_says_what_it_must_offer() -> None:
    users = offering(InMemoryRepository[User](), "not a manager")

    with pytest.raises(BackendContractError, match=r"async commit\(writes\)"):
        find_transaction_manager(users.store)


async def test_a_store_of_no_backend_offers_no_manager_and_commits_alone() -> None:
    class Plain(DocumentStore):
        async def insert(self, documents: Sequence[Any]) -> str | None:
            return None

        async def load(self, entity_id: str) -> str | None:
            return None

        async def replace(self, entity_id: str, document: str, check: Any) -> bool:
            return True

        async def remove(self, entity_id: str) -> bool:
            return True

        def select(self, query: Any) -> Any:
            raise NotImplementedError

        async def count(self, where: Any) -> int:
            return 0

    assert find_transaction_manager(Plain()) is None
    assert find_transaction_manager(DocumentRepository(User, Plain())) is None


async def test_the_plugins_argument_is_deprecated_and_the_commit_still_happens() -> None:
    from victor_core import PluginRegistry

    users = InMemoryRepository[User]()
    with pytest.warns(DeprecationWarning, match="plugins= argument"):
        uow = UnitOfWork(plugins=PluginRegistry())
    uow.register_repository(users, User)
    uow.register_new(User(id="u1"))
    await uow.commit()

    assert await users.count() == 1


async def test_the_ambient_protocol_name_still_imports_with_a_deprecation() -> None:
    import victor_core.backend as backend
    import victor_core.unit_of_work as unit_of_work

    with pytest.warns(DeprecationWarning, match="TransactionManager"):
        assert backend.AmbientTransactionManager is not None
    with pytest.warns(DeprecationWarning, match="TransactionManager"):
        assert unit_of_work.AmbientTransactionManager is backend.AmbientTransactionManager
