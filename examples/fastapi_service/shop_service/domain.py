"""What happens to an order, and who places it."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from victor_core import Aggregate
from victor_core.pydantic import EntityModel, EventModel


# Stored names are namespaced, so that they never meet another application's events.
class OrderPlaced(EventModel):
    __event_type__ = "shop.OrderPlaced"
    customer_id: str


class ItemAdded(EventModel):
    __event_type__ = "shop.ItemAdded"
    sku: str
    quantity: int = Field(gt=0)
    unit_price: Decimal = Field(ge=0)


class OrderConfirmed(EventModel):
    __event_type__ = "shop.OrderConfirmed"


class OrderRefused(ValueError):
    """A command that the order's rules do not allow; nothing was changed."""


class Order(Aggregate):
    """An order: placed by a customer, filled with items, then confirmed and closed."""

    def __init__(self) -> None:
        super().__init__()
        self.customer_id = ""
        self.lines: dict[str, int] = {}
        self.total = Decimal(0)
        self.confirmed = False

    @classmethod
    def place(cls, order_id: str, customer_id: str) -> Order:
        order = cls()
        order.apply(OrderPlaced(aggregate_id=order_id, customer_id=customer_id))
        return order

    def add_item(self, sku: str, quantity: int, unit_price: Decimal) -> None:
        if self.confirmed:
            raise OrderRefused(f"order {self.id} is confirmed; items can no longer be added")
        self.apply(ItemAdded(sku=sku, quantity=quantity, unit_price=unit_price))

    def confirm(self) -> None:
        if self.confirmed:
            raise OrderRefused(f"order {self.id} is already confirmed")
        if not self.lines:
            raise OrderRefused(f"order {self.id} has no items; add one before confirming")
        self.apply(OrderConfirmed())

    def _apply_OrderPlaced(self, event: OrderPlaced) -> None:
        self.id = event.aggregate_id
        self.customer_id = event.customer_id

    def _apply_ItemAdded(self, event: ItemAdded) -> None:
        self.lines[event.sku] = self.lines.get(event.sku, 0) + event.quantity
        self.total += event.quantity * event.unit_price

    def _apply_OrderConfirmed(self, event: OrderConfirmed) -> None:
        self.confirmed = True


class Customer(EntityModel):
    """Someone who places orders; ``version`` makes concurrent updates safe."""

    __entity_name__ = "shop_customers"
    name: str = Field(min_length=1)
    orders_placed: int = 0
    version: int = 0
