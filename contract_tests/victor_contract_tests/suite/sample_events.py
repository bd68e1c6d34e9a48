"""Event classes the contract suite stores, covering every kind of field users write.

Their stored names are namespaced so they cannot collide with an application's own events.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs

from victor_core import Event


@dataclasses.dataclass
class Deposited(Event):
    __event_type__ = "victor.contract.Deposited"
    amount: int = 0


@dataclasses.dataclass
class Withdrawn(Event):
    __event_type__ = "victor.contract.Withdrawn"
    amount: int = 0


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Level(enum.IntEnum):
    ONE = 1
    TWO = 2


@dataclasses.dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@attrs.frozen
class Address:
    street: str
    city: str
    postcode: str | None = None


@dataclasses.dataclass
class EverythingDataclass(Event):
    """A dataclass event with a field of every supported kind, some without defaults."""

    __event_type__ = "victor.contract.EverythingDataclass"
    name: str
    count: int
    ratio: float
    flag: bool
    when: datetime
    day: date
    ref: uuid.UUID
    price: Decimal
    priority: Priority
    level: Level
    money: Money
    address: Address
    maybe: int | None = None
    maybe_address: Address | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    pair: tuple[int, str] = (0, "")
    unique: set[str] = dataclasses.field(default_factory=set)
    frozen_set: frozenset[int] = frozenset()
    history: list[Money] = dataclasses.field(default_factory=list)
    by_city: dict[str, Address] = dataclasses.field(default_factory=dict)


@attrs.define
class EverythingAttrs(Event):
    """The same kinds of field on an attrs event, including a private attribute."""

    __event_type__ = "victor.contract.EverythingAttrs"
    name: str
    when: datetime
    ref: uuid.UUID
    price: Decimal
    priority: Priority
    address: Address
    money: Money
    maybe: str | None = None
    tags: list[str] = attrs.Factory(list)
    nested: dict[str, list[Address]] = attrs.Factory(dict)
    _secret_code: str = "x"


def everything_dataclass() -> EverythingDataclass:
    return EverythingDataclass(
        name="ünïcode ✓ 'quotes' \"double\"",
        count=-(2**53) + 1,
        ratio=0.1,
        flag=True,
        when=datetime(
            2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))
        ),
        day=date(1999, 12, 31),
        ref=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        price=Decimal("12345678901234567890.000000000000000001"),
        priority=Priority.HIGH,
        level=Level.TWO,
        money=Money(Decimal("0.10"), "EUR"),
        address=Address("1 Main St", "Springfield", None),
        maybe=None,
        maybe_address=Address("2 Side St", "Shelbyville", "12345"),
        tags=["a", "b", "a"],
        scores={"x": 1.5, "y": -0.0},
        pair=(7, "seven"),
        unique={"p", "q"},
        frozen_set=frozenset({3, 1, 2}),
        history=[Money(Decimal("1"), "USD"), Money(Decimal("-2.50"), "GBP")],
        by_city={"Paris": Address("Rue", "Paris")},
        aggregate_id="account-1",
        timestamp=datetime(2020, 1, 1, tzinfo=UTC),
    )


def everything_attrs() -> EverythingAttrs:
    return EverythingAttrs(
        name="attrs",
        when=datetime(2001, 1, 1, 12, 0, tzinfo=UTC),
        ref=uuid.uuid4(),
        price=Decimal("-0.000001"),
        priority=Priority.LOW,
        address=Address("3 Road", "Ogdenville"),
        money=Money(Decimal("99.99"), "JPY"),
        maybe="present",
        tags=[],
        nested={"north": [Address("a", "b"), Address("c", "d", "e")]},
        secret_code="s3",
        aggregate_id="attrs-1",
    )
