"""Pydantic v2 variants of the suite's sample types: events, entities and an aggregate's state.

They are the shapes FastAPI code writes: models with constraints, a nested model, a Decimal,
an enum and optional fields. Their stored names are namespaced, like the other samples'.
Importing this module needs pydantic; the contract module that uses it skips without it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from victor_core import Aggregate
from victor_core.pydantic import EntityModel, EventModel


class Tier(enum.Enum):
    FREE = "free"
    PRO = "pro"


class Address(BaseModel):
    city: str
    street: str = ""


class Credited(EventModel):
    __event_type__ = "victor.contract.pydantic.Credited"
    amount: Decimal = Field(gt=0)
    note: str | None = None


class Rated(EventModel):
    __event_type__ = "victor.contract.pydantic.Rated"
    stars: int = Field(ge=1, le=5)


class Customer(EntityModel):
    __entity_name__ = "victor_contract_pydantic_customers"
    name: str = Field(min_length=1)
    age: int = Field(default=0, ge=0)
    tier: Tier = Tier.FREE
    address: Address | None = None
    tags: list[str] = Field(default_factory=list)
    version: int = 0


class Wallet(Aggregate):
    """An aggregate whose snapshot state holds pydantic values, declared by annotations."""

    __aggregate_type__ = "victor.contract.pydantic.Wallet"

    balance: Decimal
    last: Credited | None
    home: Address | None
    changed: datetime | None

    def __init__(self) -> None:
        super().__init__()
        self.balance = Decimal("0")
        self.last = None
        self.home = None
        self.changed = None

    def credit(self, amount: Decimal) -> None:
        self.apply(Credited(amount=amount))

    def _apply_Credited(self, event: Credited) -> None:
        self.balance += event.amount
        self.last = event
        self.home = Address(city="Lyon", street=str(event.amount))
        self.changed = event.timestamp
