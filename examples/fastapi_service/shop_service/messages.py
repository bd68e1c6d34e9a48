"""The commands and queries the shop answers: request bodies as they are."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from victor_core.pydantic import CommandModel, QueryModel


class RegisterCustomer(CommandModel):
    name: str = Field(min_length=1)


class PlaceOrder(CommandModel):
    customer_id: str


class AddItem(CommandModel):
    #: Taken from the URL by the service; a body need not repeat it.
    order_id: str = ""
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    unit_price: Decimal = Field(ge=0)


class ConfirmOrder(CommandModel):
    order_id: str


class OrderSummary(BaseModel):
    """One order as the read model shows it."""

    order_id: str
    customer_id: str
    items: int = 0
    total: Decimal = Decimal(0)
    confirmed: bool = False
    #: How many of the order's events the summary includes: the order's stream version.
    version: int = 0


class GetOrderSummary(QueryModel[OrderSummary]):
    order_id: str
    #: Read-your-writes: wait until the summary includes this version of the order.
    at_least_version: int = 0
