"""Aggregates: apply, pending events, versions, replay from history."""

from __future__ import annotations

import dataclasses

import pytest

from victor_core import Aggregate, Event, VictorError


@dataclasses.dataclass
class Deposited(Event):
    amount: int = 0


@dataclasses.dataclass
class BonusDeposited(Deposited):
    reason: str = ""


@dataclasses.dataclass
class Frozen(Event):
    pass


class Account(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.balance = 0

    def open(self, account_id: str) -> None:
        self.id = account_id

    def deposit(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError("deposits are positive")
        self.apply(Deposited(amount=amount))

    def _apply_Deposited(self, event: Deposited) -> None:
        self.balance += event.amount


def test_apply_changes_state_and_remembers_the_event() -> None:
    account = Account()
    account.deposit(10)
    account.deposit(5)

    assert account.balance == 15
    assert [e.amount for e in account.pending_events] == [10, 5]  # type: ignore[attr-defined]
    assert account.version == 2
    assert account.committed_version == 0


def test_pending_events_is_a_copy() -> None:
    account = Account()
    account.deposit(1)

    account.pending_events.clear()

    assert len(account.pending_events) == 1


def test_mark_events_committed_moves_the_committed_version() -> None:
    account = Account()
    account.deposit(10)
    account.mark_events_committed()
    account.deposit(3)

    assert [e.amount for e in account.pending_events] == [3]  # type: ignore[attr-defined]
    assert account.committed_version == 1
    assert account.version == 2


def test_history_rebuilds_state_without_pending_events() -> None:
    account = Account().load_from_history([Deposited(amount=4), Deposited(amount=6)])

    assert account.balance == 10
    assert account.version == 2
    assert account.pending_events == []
    assert account.committed_version == 2


def test_an_event_subclass_uses_the_nearest_handler() -> None:
    account = Account()
    account.apply(BonusDeposited(amount=7, reason="welcome"))

    assert account.balance == 7


def test_an_event_without_a_handler_says_which_method_to_write() -> None:
    account = Account()

    with pytest.raises(VictorError, match=r"def _apply_Frozen\(self, event\)"):
        account.apply(Frozen())

    assert account.pending_events == []
    assert account.version == 0


def test_a_failing_handler_leaves_nothing_pending() -> None:
    class Fragile(Aggregate):
        def _apply_Deposited(self, event: Deposited) -> None:
            raise RuntimeError("boom")

    fragile = Fragile()
    with pytest.raises(RuntimeError):
        fragile.apply(Deposited(amount=1))

    assert fragile.pending_events == []
    assert fragile.version == 0
