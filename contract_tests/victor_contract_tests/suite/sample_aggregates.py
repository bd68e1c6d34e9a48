"""Aggregates the contract suite saves, loads and snapshots.

``Account.replayed`` counts the events applied while loading, across all instances, so a test
can tell how much of a stream a load replayed (and hence whether it started from a snapshot).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, cast

from victor_contract_tests.suite.sample_events import Deposited, Money, Withdrawn
from victor_core import Aggregate, Event


@dataclasses.dataclass
class Opened(Event):
    __event_type__ = "victor.contract.Opened"
    owner: str = ""


class Account(Aggregate):
    """A bank account: opened once, then deposits and withdrawals."""

    __aggregate_type__ = "victor.contract.Account"
    replayed: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self.owner = ""
        self.balance = 0
        self.movements: list[int] = []

    @classmethod
    def open(cls, account_id: str, owner: str) -> Account:
        account = cls()
        account.apply(Opened(owner=owner, aggregate_id=account_id))
        return account

    def deposit(self, amount: int) -> None:
        self.apply(Deposited(amount=amount))

    def withdraw(self, amount: int) -> None:
        self.apply(Withdrawn(amount=amount))

    def _apply_Opened(self, event: Opened) -> None:
        self.id = event.aggregate_id
        self.owner = event.owner
        self._count()

    def _apply_Deposited(self, event: Deposited) -> None:
        self.balance += event.amount
        self.movements.append(event.amount)
        self._count()

    def _apply_Withdrawn(self, event: Withdrawn) -> None:
        self.balance -= event.amount
        self.movements.append(-event.amount)
        self._count()

    def _count(self) -> None:
        type(self).replayed += 1


class AccountWithNickname(Account):
    """The same stored aggregate with one more state attribute: its old snapshots no longer fit."""

    __aggregate_type__ = "victor.contract.Account"

    def __init__(self) -> None:
        super().__init__()
        self.nickname = ""


class AccountWithMovementsByNumber(Account):
    """The same attributes, but the movements start as a dict: its old snapshots no longer fit."""

    __aggregate_type__ = "victor.contract.Account"

    def __init__(self) -> None:
        super().__init__()
        self.movements = cast(list[int], {})

    def _apply_Deposited(self, event: Deposited) -> None:
        numbered = cast(dict[str, int], self.movements)
        numbered[str(len(numbered) + 1)] = event.amount
        self.balance += event.amount
        self._count()


class AccountReinterpreted(Account):
    """The same shape with a new ``__snapshot_version__``: its old snapshots no longer fit."""

    __aggregate_type__ = "victor.contract.Account"
    __snapshot_version__ = 2


class Portfolio(Aggregate):
    """State of every kind a snapshot must restore exactly, declared by annotations."""

    __aggregate_type__ = "victor.contract.Portfolio"

    last_change: datetime | None
    total: Decimal
    tags: set[str]
    largest: Money | None
    pair: tuple[int, str]

    def __init__(self) -> None:
        super().__init__()
        self.last_change = None
        self.total = Decimal("0")
        self.tags = set()
        self.largest = None
        self.pair = (0, "")
        self.counts: dict[str, int] = {}

    def _apply_Opened(self, event: Opened) -> None:
        self.id = event.aggregate_id

    def _apply_Deposited(self, event: Deposited) -> None:
        self.last_change = event.timestamp
        self.total += Decimal(event.amount) / 100
        self.tags.add(f"d{event.amount % 3}")
        money = Money(Decimal(event.amount) / 100, "EUR")
        if self.largest is None or money.amount > self.largest.amount:
            self.largest = money
        self.pair = (event.amount, str(event.amount))
        self.counts[str(event.amount % 2)] = self.counts.get(str(event.amount % 2), 0) + 1


class Unsnapshottable(Aggregate):
    """Holds a set without declaring its type, which a snapshot could not restore."""

    __aggregate_type__ = "victor.contract.Unsnapshottable"

    def __init__(self) -> None:
        super().__init__()
        self.seen = set()  # type: ignore[var-annotated]

    def _apply_Opened(self, event: Opened) -> None:
        self.id = event.aggregate_id

    def _apply_Deposited(self, event: Deposited) -> None:
        self.seen.add(event.amount)


class Ticket(Aggregate):
    """State declared by an annotation and set by its events only, never by ``__init__``."""

    __aggregate_type__ = "victor.contract.Ticket"

    owner: str

    def _apply_Opened(self, event: Opened) -> None:
        self.id = event.aggregate_id
        self.owner = event.owner

    def _apply_Deposited(self, event: Deposited) -> None:
        pass  # a ticket of this shape does not count deposits


class TicketWithPoints(Ticket):
    """The same stored aggregate, grown declared state: its old snapshots no longer fit."""

    __aggregate_type__ = "victor.contract.Ticket"

    points: int

    def _apply_Opened(self, event: Opened) -> None:
        super()._apply_Opened(event)
        self.points = 0

    def _apply_Deposited(self, event: Deposited) -> None:
        self.points += event.amount


class Undeclared(Aggregate):
    """Sets state its class does not declare, so no snapshot could tell when that changes."""

    __aggregate_type__ = "victor.contract.Undeclared"

    def _apply_Opened(self, event: Opened) -> None:
        self.id = event.aggregate_id
        self.owner = event.owner
