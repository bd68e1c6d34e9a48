"""``SQLiteUnitOfWork`` and SQLite transactions: what is particular to files and connections."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from victor_core import (
    Aggregate,
    Entity,
    Event,
    EventDispatcher,
    NotAtomic,
    Projection,
    UnitOfWork,
    transactional,
)
from victor_core.backend import ConfigurationError, EntityAlreadyExists, StoreClosed
from victor_sqlite import (
    SQLiteDatabase,
    SQLiteEventStore,
    SQLiteRepository,
    SQLiteUnitOfWork,
)

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Customer(Entity):
    __entity_name__ = "uow_customer"
    name: str = ""


@dataclasses.dataclass
class Signed(Event):
    __event_type__ = "victor.test.sqlite.uow.Signed"
    customer_id: str = ""


class Contract(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.customer_id = ""

    def sign(self, contract_id: str, customer_id: str) -> None:
        self.apply(Signed(aggregate_id=contract_id, customer_id=customer_id))

    def _apply_Signed(self, event: Signed) -> None:
        self.id = event.aggregate_id
        self.customer_id = event.customer_id


class SignedContracts(Projection):
    def __init__(self) -> None:
        self.customers: list[str] = []

    async def handle_Signed(self, event: Signed) -> None:
        self.customers.append(event.customer_id)


async def test_entities_and_events_commit_in_one_transaction_then_are_dispatched(
    tmp_path: Path,
) -> None:
    dispatcher = EventDispatcher()
    signed = dispatcher.register(SignedContracts())
    path = tmp_path / "app.db"

    async with SQLiteUnitOfWork(path, dispatcher=dispatcher) as uow:
        uow.repository(Customer)
        uow.aggregates(Contract)
        uow.register_new(Customer(id="c1", name="Ann"))
        contract = Contract()
        contract.sign("k1", "c1")
        uow.register_new(contract)
        assert signed.customers == []  # nothing before the commit

    assert signed.customers == ["c1"]
    assert uow.database.closed  # it opened the database, so it closed it
    async with SQLiteRepository(Customer, path) as customers, SQLiteEventStore(path) as store:
        assert [c.name for c in await customers.find()] == ["Ann"]
        assert [r.event.customer_id for r in await store.read_stream("k1")] == ["c1"]  # type: ignore[attr-defined]


async def test_a_failed_unit_dispatches_nothing_and_writes_nothing(tmp_path: Path) -> None:
    dispatcher = EventDispatcher()
    signed = dispatcher.register(SignedContracts())
    database = SQLiteDatabase(tmp_path / "app.db")
    await SQLiteRepository(Customer, database).add(Customer(id="c1", name="Ann"))

    uow = SQLiteUnitOfWork(database, dispatcher=dispatcher)

    async def sign_again() -> None:
        async with uow:
            uow.aggregates(Contract)
            uow.repository(Customer)
            contract = Contract()
            contract.sign("k1", "c1")
            uow.register_new(contract)  # appended first, then taken back
            uow.register_new(Customer(id="c1", name="Again"))

    with pytest.raises(EntityAlreadyExists):
        await sign_again()

    assert signed.customers == []
    assert not database.closed  # shared: its owner closes it
    assert await uow.event_store.read_stream("k1") == []
    await database.close()


async def test_snapshots_are_taken_after_the_commit(tmp_path: Path) -> None:
    async with SQLiteUnitOfWork(tmp_path / "app.db") as uow:
        contracts = uow.aggregates(Contract, snapshot_every=1)
        contract = Contract()
        contract.sign("k1", "c1")
        uow.register_new(contract)
        await uow.commit()

        assert uow.event_store.snapshots is not None
        snapshot = await uow.event_store.snapshots.latest_snapshot("k1", None)
        assert snapshot is not None
        assert snapshot.version == 1
        assert (await contracts.load("k1")).customer_id == "c1"


async def test_repositories_on_one_file_commit_together_whatever_their_connection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    customers = SQLiteRepository(Customer, path)
    store = SQLiteEventStore(f"sqlite:///{path}")  # the same file, by URL, its own connection
    contract = Contract()
    contract.sign("k1", "c1")

    async with SQLiteUnitOfWork(path) as uow:
        uow.register_repository(customers, Customer)
        uow.register_repository(store, Contract)
        uow.register_new(Customer(id="c1"))
        uow.register_new(contract)

    assert await customers.count() == 1
    assert await store.stream_version("k1") == 1
    await customers.close()
    await store.close()


async def test_repositories_on_two_files_are_not_committed_together(tmp_path: Path) -> None:
    here = SQLiteRepository(Customer, tmp_path / "here.db")
    there = SQLiteEventStore(tmp_path / "there.db")
    contract = Contract()
    contract.sign("k1", "c1")
    uow = UnitOfWork()
    uow.register_repository(here, Customer)
    uow.register_repository(there, Contract)
    uow.register_new(Customer(id="c1"))
    uow.register_new(contract)
    files = [str((tmp_path / name).resolve()) for name in ("here.db", "there.db")]

    with pytest.raises(NotAtomic) as refused:
        await uow.commit()

    assert [resource.split(" (")[0] for resource in refused.value.resources] == [
        f"SQLite file {file!r}" for file in files
    ]
    assert await here.count() == 0
    assert await there.stream_version("k1") == 0

    await uow.commit(best_effort=True)
    assert await here.count() == 1
    assert await there.stream_version("k1") == 1
    await here.close()
    await there.close()


async def test_in_memory_databases_commit_together_only_when_shared() -> None:
    apart = transactional((SQLiteRepository(Customer), Customer), (SQLiteEventStore(), Contract))
    apart.register_new(Customer(id="c1"))
    contract = Contract()
    contract.sign("k1", "c1")
    apart.register_new(contract)
    with pytest.raises(NotAtomic, match="in-memory SQLite database"):
        await apart.commit()

    async with SQLiteUnitOfWork() as together:
        together.repository(Customer)
        together.aggregates(Contract)
        together.register_new(Customer(id="c1"))
        together.register_new(contract)
    assert contract.pending_events == []


async def test_a_repository_on_another_database_is_refused_when_registered(
    tmp_path: Path,
) -> None:
    elsewhere = SQLiteRepository(Customer, tmp_path / "other.db")
    async with SQLiteUnitOfWork(tmp_path / "app.db") as uow:
        with pytest.raises(ConfigurationError, match=r"stores its data in SQLite file .*other\.db"):
            uow.register_repository(elsewhere, Customer)
        with pytest.raises(ConfigurationError, match="outside SQLite"):
            uow.register_repository(object(), Customer)
    await elsewhere.close()


async def test_the_bound_repositories_are_opened_once(tmp_path: Path) -> None:
    async with SQLiteUnitOfWork(tmp_path / "app.db") as uow:
        assert uow.repository(Customer) is uow.repository(Customer)
        assert uow.aggregates(Contract) is uow.aggregates(Contract)
        assert uow.event_store is uow.event_store
        with pytest.raises(ConfigurationError, match="not an SQLiteRepository"):
            uow.repository(Contract)  # type: ignore[type-var]


async def test_connection_options_belong_to_a_shared_database(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / "app.db")
    with pytest.raises(ConfigurationError, match="belong to the SQLiteDatabase"):
        SQLiteUnitOfWork(database, synchronous="NORMAL")
    await database.close()


async def test_a_closed_unit_of_work_cannot_commit(tmp_path: Path) -> None:
    uow = SQLiteUnitOfWork(tmp_path / "app.db")
    uow.repository(Customer)
    await uow.close()
    uow.register_new(Customer(id="c1"))

    with pytest.raises(StoreClosed):
        await uow.commit()
