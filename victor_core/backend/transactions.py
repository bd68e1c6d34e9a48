"""Transaction managers: how a backend commits a unit of work's writes, all or nothing.

A backend answers the hook ``victor_transaction_manager(resource)`` for the repositories
and event stores it made, with one of two kinds of manager:

- a :class:`TransactionManager` takes the whole list of writes and applies it in one
  transaction (the memory and SQLite backends: one lock, or one ``BEGIN IMMEDIATE``);
- an :class:`AmbientTransactionManager` opens a transaction that the backend's own
  components join by themselves while it is open (MongoDB sessions); the unit of work then
  makes its writes through those components inside it.

Either way the manager has a :attr:`~TransactionManager.key` naming the transactional
resource. Participants whose managers have equal keys commit in one transaction, so two
repositories on one SQLite file, or an event store and a repository on one MongoDB client,
commit together; different keys mean different transactions.

A backend's own unit of work (``SQLiteUnitOfWork``) takes a :data:`Dispatcher` for the
events it commits, as :class:`~victor_core.UnitOfWork` does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from victor_core.backend.writes import Write, WriteResult
from victor_core.eventsourcing.events import Event


@runtime_checkable
class TransactionManager(Protocol):
    """Commits a list of writes to one resource in one transaction."""

    @property
    def key(self) -> Hashable:
        """The transactional resource; equal keys share one transaction.

        Its ``str`` names the resource in messages (``SQLite file '/srv/app.db'``).
        """

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Apply *writes* in order, in one transaction: all of them, or none.

        Returns one result per write (the :class:`~victor_core.AppendResult` of each
        append, None for document writes). When a write is refused, raise
        :class:`~victor_core.backend.WriteRefused` (an append raises
        :class:`~victor_core.ConcurrencyError` itself) having written nothing, and leave
        storage as it was whatever else goes wrong. A resource that cannot open a
        transaction at all raises :class:`~victor_core.CapabilityNotSupported` before
        writing anything (a best-effort commit then writes step by step).
        """


@runtime_checkable
class AmbientTransactionManager(Protocol):
    """Opens a transaction that the backend's components join while it is open."""

    @property
    def key(self) -> Hashable:
        """The transactional resource; equal keys share one transaction."""

    def transaction(self) -> AbstractAsyncContextManager[object]:
        """Commit everything the resource's components write inside, or nothing if it raises."""


class EventSink(Protocol):
    """Where committed events go: an :class:`~victor_core.EventDispatcher`, or alike."""

    def dispatch(self, event: Event, /) -> Awaitable[object]:
        """Handle one committed event."""


#: What ``dispatcher=`` accepts: an object with ``async dispatch(event)``, or an async callable.
Dispatcher = EventSink | Callable[[Event], Awaitable[object] | None]
