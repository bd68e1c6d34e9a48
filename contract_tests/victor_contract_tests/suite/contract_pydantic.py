"""Pydantic models as events, entities and aggregate state, stored like dataclasses.

What FastAPI code writes must survive every backend exactly: the same converter stores the
model field by field, and reading builds the model again, so the model's own rules are
checked on the way in. A stored value that breaks them is a SerializationError, never a
model that skipped validation.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pydantic", reason="pydantic is not installed: pip install 'pydantic>=2'")

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.sample_pydantic import (
    Address,
    Credited,
    Customer,
    Rated,
    Tier,
    Wallet,
)
from victor_core import (
    AggregateRepository,
    AttributeSpecification,
    Entity,
    Event,
    EventStore,
    EventTypeRegistry,
    UnitOfWork,
    UpcasterRegistry,
)
from victor_core.backend import (
    Capability,
    EventSerializer,
    SerializationError,
    StaleEntity,
)

pytestmark = pytest.mark.asyncio


@requires(Capability.EVENT_STORE)
async def test_a_pydantic_event_reads_back_equal_with_its_types_exact(
    event_store: EventStore,
) -> None:
    written = Credited(amount=Decimal("10.50"), note="first")
    await event_store.append("wallet-1", [written, Rated(stars=4)], expected_version=0)

    first, second = [r.event for r in await event_store.read_stream("wallet-1")]

    assert type(first) is Credited
    assert type(second) is Rated
    assert str(first.amount) == "10.50", "a Decimal in a pydantic event keeps its exact digits"
    assert (first.id, first.timestamp, first.note) == (written.id, written.timestamp, "first")
    assert first.aggregate_id == "wallet-1"
    assert second.stars == 4


@requires(Capability.EVENT_STORE)
async def test_a_stored_event_the_model_refuses_is_a_serialization_error(
    open_event_store: OpenEventStore,
) -> None:
    @dataclasses.dataclass
    class LooseRated(Event):
        """What an older deployment wrote: the same event name, without the 1-5 rule."""

        stars: int = 0

    writer_types = EventTypeRegistry()
    writer_types.register(LooseRated, name=Rated.__event_type__)
    writer = await open_event_store(serializer=EventSerializer(registry=writer_types))
    await writer.append("ratings", LooseRated(stars=9), expected_version=0)

    reader_types = EventTypeRegistry()
    reader_types.register(Rated, name=Rated.__event_type__)
    reader = await open_event_store(serializer=EventSerializer(registry=reader_types))

    with pytest.raises(SerializationError, match="stars") as caught:
        await reader.read_stream("ratings")
    assert "Rated" in str(caught.value), "the error must name the model that refused the value"


@requires(Capability.EVENT_STORE)
async def test_an_upcaster_feeds_a_pydantic_event_and_its_result_is_validated(
    open_event_store: OpenEventStore,
) -> None:
    class CreditedV2(Credited):
        """Version 2 renamed ``note`` to ``memo``."""

        __event_type__ = "victor.contract.pydantic.CreditedV2"
        __schema_version__ = 2
        memo: str = ""

    old_types = EventTypeRegistry()
    old_types.register(Credited, name="victor.contract.pydantic.Credit")
    old = await open_event_store(serializer=EventSerializer(registry=old_types))
    await old.append("w", [Credited(amount=Decimal(1), note="rent")], expected_version=0)

    def rename(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "memo": data.pop("note") or ""}

    new_types = EventTypeRegistry()
    new_types.register(CreditedV2, name="victor.contract.pydantic.Credit")
    upcasters = UpcasterRegistry()
    upcasters.register(CreditedV2, from_version=1, upcast=rename)
    new = await open_event_store(
        serializer=EventSerializer(registry=new_types, upcasters=upcasters)
    )

    [event] = [r.event for r in await new.read_stream("w")]
    assert isinstance(event, CreditedV2)
    assert event.memo == "rent"

    def negative(data: dict[str, Any]) -> dict[str, Any]:
        return {**rename(data), "amount": "-1"}

    refusing = UpcasterRegistry()
    refusing.register(CreditedV2, from_version=1, upcast=negative)
    strict = await open_event_store(
        serializer=EventSerializer(registry=new_types, upcasters=refusing)
    )
    with pytest.raises(SerializationError, match="amount"):
        await strict.read_stream("w")


@requires(Capability.REPOSITORY)
async def test_a_pydantic_entity_round_trips_and_is_found_by_its_declared_fields(
    open_repository: OpenRepository,
) -> None:
    customers = await open_repository(Customer)
    ann = Customer(name="Ann", age=34, tier=Tier.PRO, address=Address(city="Paris"), tags=["a"])
    await customers.add_many([ann, Customer(name="Bob", age=19), Customer(name="Cy", age=51)])

    found = await customers.get(ann.id)
    assert found == ann
    assert found is not ann
    assert type(found) is Customer
    assert type(found.address) is Address
    assert found.tier is Tier.PRO

    in_paris = await customers.find(AttributeSpecification("address.city", "Paris"))
    older = await customers.find(AttributeSpecification("age", 30, op=">"))
    pro_or_young = await customers.find(
        AttributeSpecification("tier", Tier.PRO) | AttributeSpecification("age", 20, op="<")
    )
    assert [c.name for c in in_paris] == ["Ann"], "a nested model's field must be queryable"
    assert sorted(c.name for c in older) == ["Ann", "Cy"]
    assert sorted(c.name for c in pro_or_young) == ["Ann", "Bob"]


@requires(Capability.REPOSITORY)
async def test_a_pydantic_entity_is_locked_optimistically_by_its_version_field(
    open_repository: OpenRepository,
) -> None:
    customers = await open_repository(Customer)
    await customers.add(Customer(id="c1", name="Ann"))
    mine = await customers.get("c1")
    theirs = await customers.get("c1")
    assert mine is not None
    assert theirs is not None

    mine.age = 40
    await customers.update(mine)
    theirs.age = 41

    with pytest.raises(StaleEntity):
        await customers.update(theirs)
    stored = await customers.get("c1")
    assert stored is not None
    assert (stored.age, stored.version) == (40, 2)


@requires(Capability.REPOSITORY)
async def test_a_stored_entity_the_model_refuses_is_a_serialization_error(
    open_repository: OpenRepository,
) -> None:
    @dataclasses.dataclass
    class LooseCustomer(Entity):
        """What an older deployment stored in the same table, before names were required."""

        __entity_name__ = Customer.__entity_name__
        name: str = ""
        version: int = 0

    await (await open_repository(LooseCustomer)).add(LooseCustomer(id="c0", name=""))
    customers = await open_repository(Customer)

    with pytest.raises(SerializationError, match="name"):
        await customers.get("c0")


@requires(Capability.REPOSITORY, Capability.TRANSACTIONS)
async def test_a_unit_of_work_finds_changes_made_to_a_loaded_pydantic_entity(
    open_repository: OpenRepository,
) -> None:
    customers = await open_repository(Customer)
    await customers.add(Customer(id="c1", name="Ann", tags=["a"]))

    uow = UnitOfWork()
    uow.register_repository(customers, Customer)
    loaded = await uow.get(Customer, "c1")
    assert loaded is not None
    loaded.tags.append("b")  # changed in place: no register_dirty
    await uow.commit()

    stored = await (await open_repository(Customer)).get("c1")
    assert stored is not None
    assert stored.tags == ["a", "b"]
    assert stored.version == 2


@requires(Capability.EVENT_STORE, Capability.SNAPSHOTS)
async def test_a_snapshot_restores_pydantic_state_exactly(
    open_event_store: OpenEventStore,
) -> None:
    writer = AggregateRepository(await open_event_store(), Wallet, snapshot_every=2)
    wallet = Wallet()
    wallet.id = "w1"
    wallet.credit(Decimal("1.25"))
    wallet.credit(Decimal("2.50"))
    await writer.save(wallet)
    store = await open_event_store()
    assert store.snapshots is not None
    snapshot = await store.snapshots.latest_snapshot("w1", None)
    assert snapshot is not None
    assert snapshot.version == 2, "a snapshot was due at version 2"

    loaded = await AggregateRepository(store, Wallet, snapshots=True).load("w1")

    assert loaded.balance == Decimal("3.75")
    assert type(loaded.last) is Credited
    assert loaded.last == wallet.last
    assert loaded.home == Address(city="Lyon", street="2.50")
    assert loaded.changed == wallet.changed
    assert loaded.version == 2
