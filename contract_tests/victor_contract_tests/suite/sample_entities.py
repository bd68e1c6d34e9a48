"""Entity classes the repository contract stores, and a small population of them.

Their stored names are namespaced so they cannot collide with an application's own tables.
"""

from __future__ import annotations

import dataclasses
import enum
from decimal import Decimal
from typing import Any

import attrs

from victor_core import Entity
from victor_core.backend import BaseSpecification


class Tier(enum.Enum):
    FREE = "free"
    PRO = "pro"


@attrs.frozen
class Address:
    city: str
    street: str = ""
    postcode: str | None = None


@dataclasses.dataclass
class Member(Entity):
    """A dataclass entity with fields of the kinds queries look into."""

    __entity_name__ = "victor_contract_member"
    name: str = ""
    email: str = ""
    age: int = 0
    score: float | None = None
    active: bool = True
    tags: list[str] = dataclasses.field(default_factory=list)
    address: Address | None = None
    tier: Tier = Tier.FREE
    balance: Decimal = Decimal("0")
    meta: dict[str, str] = dataclasses.field(default_factory=dict)
    payload: Any = None


@attrs.define
class Ledger(Entity):
    """An attrs entity with a version field: updates from stale copies are refused."""

    __entity_name__ = "victor_contract_ledger"
    owner: str
    total: int = 0
    version: int = 0


def members() -> list[Member]:
    """Eight members covering equal, missing and boundary values of every field."""
    return [
        Member(
            id="m1",
            name="Alice",
            email="alice@example.com",
            age=30,
            score=9.5,
            tags=["admin", "vip"],
            address=Address("Paris", "1 Rue", "75001"),
            tier=Tier.PRO,
            balance=Decimal("10.50"),
            meta={"team": "red"},
        ),
        Member(
            id="m2",
            name="Bob",
            email="bob@example.com",
            age=25,
            score=None,
            active=False,
            tags=["vip"],
            address=Address("Lyon"),
            balance=Decimal("-3"),
        ),
        Member(
            id="m3",
            name="Carol",
            email="carol@example.org",
            age=35,
            score=7.25,
            address=Address("Paris", postcode=None),
            meta={"team": "blue"},
        ),
        Member(id="m4", name="Dave", email="dave@example.org", age=30, score=0.0, tags=["new"]),
        Member(
            id="m5",
            name="Eve",
            email="",
            age=17,
            score=-1.5,
            active=False,
            address=Address("Nice", "2 Quai", "06000"),
            tier=Tier.PRO,
            meta={"team": "red"},
        ),
        Member(
            id="m6",
            name="alice",
            email="alice2@example.com",
            age=41,
            score=9.5,
            tags=["admin"],
            address=Address("Lyon", "3 Place"),
        ),
        Member(id="m7", name="Frank O'Neil", email="frank@example.com", age=0, tags=[]),
        Member(
            id="m8",
            name="Zoë",
            email="zoe@example.com",
            age=30,
            score=100.0,
            address=Address("Paris", "4 Allée", "75004"),
            tier=Tier.PRO,
        ),
    ]


class ActiveSpec(BaseSpecification[Member]):
    """A custom specification: only Python knows what it means."""

    def is_satisfied_by(self, candidate: Member) -> bool:
        return candidate.active


class NameSpec(BaseSpecification[Member]):
    def __init__(self, name: str) -> None:
        self.name = name

    def is_satisfied_by(self, candidate: Member) -> bool:
        return candidate.name == self.name


class EvenAge(BaseSpecification[Member]):
    """Counts the entities it is asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def is_satisfied_by(self, candidate: Member) -> bool:
        self.asked.append(candidate.id)
        return candidate.age % 2 == 0
