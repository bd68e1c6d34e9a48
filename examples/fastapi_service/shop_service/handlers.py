"""One unit of work per command, and the queries, registered on a mediator.

A handler loads what it changes through its unit of work, changes it, and leaves the block:
the customer and the order's events commit in one transaction, or not at all. What went
wrong is reported in the ``CommandResult``, with a ``reason`` the HTTP layer turns into a
status code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from shop_service.domain import Customer, Order, OrderRefused
from shop_service.messages import (
    AddItem,
    ConfirmOrder,
    GetOrderSummary,
    OrderSummary,
    PlaceOrder,
    RegisterCustomer,
)
from shop_service.read_model import OrderSummaries
from victor_core import (
    AggregateRepository,
    CommandResult,
    EventStore,
    Mediator,
    QueryResult,
    Repository,
    UnitOfWork,
    new_id,
)

#: Why a command failed; the service maps each to an HTTP status code.
NOT_FOUND, REFUSED = "not_found", "refused"


def failed(reason: str, error: str) -> CommandResult:
    return CommandResult(success=False, error=error, data={"reason": reason})


class Shop:
    """The shop's handlers over one event store (orders) and one repository (customers)."""

    def __init__(
        self,
        store: EventStore,
        customers: Repository[Customer],
        summaries: OrderSummaries,
        *,
        read_timeout: float = 5.0,
    ) -> None:
        self.store = store
        self.customers = customers
        self.orders = AggregateRepository(store, Order)
        self.summaries = summaries
        self.read_timeout = read_timeout

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work over customers and orders: committed when the block ends."""
        async with UnitOfWork() as uow:
            uow.register_repository(self.customers, Customer)
            uow.register_repository(self.orders, Order)
            yield uow

    def register(self, mediator: Mediator) -> None:
        mediator.register_command(RegisterCustomer, self.register_customer)
        mediator.register_command(PlaceOrder, self.place_order)
        mediator.register_command(AddItem, self.add_item)
        mediator.register_command(ConfirmOrder, self.confirm_order)
        mediator.register_query(GetOrderSummary, self.get_order_summary)

    async def register_customer(self, command: RegisterCustomer) -> CommandResult:
        customer = Customer(name=command.name)
        async with self.unit_of_work() as uow:
            uow.register_new(customer)
        return CommandResult(success=True, data={"customer_id": customer.id})

    async def place_order(self, command: PlaceOrder) -> CommandResult:
        async with self.unit_of_work() as uow:
            customer = await uow.get(Customer, command.customer_id)
            if customer is None:
                return failed(NOT_FOUND, f"no customer {command.customer_id!r}")
            order = Order.place(new_id(), customer.id)
            uow.register_new(order)
            customer.orders_placed += 1  # a loaded entity: the change is found at commit
        return CommandResult(success=True, data=_written(order))

    async def add_item(self, command: AddItem) -> CommandResult:
        return await self._change(
            command.order_id,
            lambda o: o.add_item(command.sku, command.quantity, command.unit_price),
        )

    async def confirm_order(self, command: ConfirmOrder) -> CommandResult:
        return await self._change(command.order_id, lambda order: order.confirm())

    async def _change(self, order_id: str, change: Any) -> CommandResult:
        async with self.unit_of_work() as uow:
            order = await uow.get(Order, order_id)
            if order is None:
                return failed(NOT_FOUND, f"no order {order_id!r}")
            try:
                change(order)
            except OrderRefused as refused:
                return failed(REFUSED, str(refused))
        return CommandResult(success=True, data=_written(order))

    async def get_order_summary(self, query: GetOrderSummary) -> QueryResult[OrderSummary]:
        summary = await self.summaries.wait_for(
            query.order_id, query.at_least_version, within=self.read_timeout
        )
        if summary is None:
            return QueryResult(success=False, error=f"no order {query.order_id!r} (yet)")
        return QueryResult(success=True, data=summary)


def _written(order: Order) -> dict[str, Any]:
    """What a write returns: the order and the version to wait for when reading it back."""
    return {"order_id": order.id, "version": order.version}
