"""Unit of work: a checkout that stores a customer, an order and its events together.

The design document's unit-of-work examples, completed into a program. A checkout registers
a new customer and order and records the sale as an event-sourced aggregate; the unit of
work commits all three in one transaction, and only then does the revenue projection hear
of the sale. A second checkout fails halfway (its order id is already taken) and leaves
nothing behind; a third shows the identity map and changes found without registering them.
Run it with ``python examples/unit_of_work.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from victor_core import (
    Aggregate,
    AggregateRepository,
    Entity,
    EntityAlreadyExists,
    Event,
    EventDispatcher,
    InMemoryEventStore,
    InMemoryRepository,
    Projection,
    UnitOfWork,
    transactional,
)


@dataclass
class User(Entity):
    name: str = ""


@dataclass
class Order(Entity):
    user_id: str = ""
    total: float = 0.0
    version: int = 0


@dataclass
class SaleRecorded(Event):
    total: float = 0.0


class Sale(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.total = 0.0

    def record(self, order_id: str, total: float) -> None:
        self.apply(SaleRecorded(aggregate_id=order_id, total=total))

    def _apply_SaleRecorded(self, event: SaleRecorded) -> None:
        self.id = event.aggregate_id
        self.total = event.total


class Revenue(Projection):
    def __init__(self) -> None:
        self.total = 0.0

    async def handle_SaleRecorded(self, event: SaleRecorded) -> None:
        self.total += event.total


def checkout(uow: UnitOfWork, customer: str, order_id: str, total: float) -> Order:
    """Register a new customer, their order and the sale; nothing is written yet."""
    user = User(name=customer)
    order = Order(id=order_id, user_id=user.id, total=total)
    sale = Sale()
    sale.record(order.id, total)
    uow.register_new(user)
    uow.register_new(order)
    uow.register_new(sale)
    return order


async def main() -> None:
    user_repo = InMemoryRepository[User]()
    order_repo = InMemoryRepository[Order]()
    sales = AggregateRepository(InMemoryEventStore(), Sale)
    dispatcher = EventDispatcher()
    revenue = dispatcher.register(Revenue())

    def unit_of_work() -> UnitOfWork:
        return transactional(
            (user_repo, User), (order_repo, Order), (sales, Sale), dispatcher=dispatcher
        )

    # Explicit commit: all three writes in one transaction.
    uow = unit_of_work()
    order = checkout(uow, "Bob", "order-1", 99.99)
    print("before commit:", await user_repo.count(), "users, revenue", revenue.total)
    await uow.commit()
    print("after commit:", await user_repo.count(), "users, revenue", revenue.total)

    # A failure halfway through: the user is inserted, then the order id is taken.
    try:
        async with unit_of_work() as uow:
            checkout(uow, "Mallory", "order-1", 10.0)
    except EntityAlreadyExists as exc:
        print("checkout refused:", type(exc).__name__)
    print(
        f"a failure halfway wrote nothing: {await user_repo.count()} users and "
        f"{await order_repo.count()} orders stored, revenue {revenue.total}"
    )

    # The identity map and changes found by comparing with what was loaded.
    async with unit_of_work() as uow:
        loaded = await uow.get(Order, order.id)
        assert loaded is not None
        print("loaded twice, one object:", loaded is await uow.get(Order, order.id))
        loaded.total = 89.99  # a discount; no registration needed
        print("state before commit:", uow.state_of(loaded))
    stored = await order_repo.get(order.id)
    assert stored is not None
    print(f"stored total {stored.total} at version {stored.version}")


if __name__ == "__main__":
    asyncio.run(main())
