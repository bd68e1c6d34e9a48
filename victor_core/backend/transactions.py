"""Transaction managers: how a backend commits a unit of work's writes, all or nothing.

A backend's :class:`~victor_core.repository.DocumentStore`,
:class:`~victor_core.eventsourcing.recorder.EventRecorder` and
:class:`~victor_core.eventsourcing.checkpoints.CheckpointStore` each answer
``transaction_manager()`` with the :class:`TransactionManager` of the resource they write to
(the hook ``victor_transaction_manager`` offers the same manager to tools such as the
contract suite). A commit asks the stores its writes name, through
:func:`find_transaction_manager`, and hands each manager its list of writes: the memory
backend applies them under one lock, SQLite in one ``BEGIN IMMEDIATE``, MongoDB in one
session.

The manager's :attr:`~TransactionManager.key` names the transactional resource. Writes
whose managers have equal keys commit in one transaction, so two repositories on one SQLite
file, or an event store and a repository on one MongoDB client, commit together; different
keys mean different transactions.

A backend's own unit of work (``SQLiteUnitOfWork``) takes a :data:`Dispatcher` for the
events it commits, as :class:`~victor_core.UnitOfWork` does.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from victor_core.backend.writes import Write, WriteResult, apply_in_order
from victor_core.errors import BackendContractError
from victor_core.eventsourcing.events import Event
from victor_core.eventsourcing.repository import AggregateRepository
from victor_core.eventsourcing.store import EventStore
from victor_core.repository.cached import CachedRepository
from victor_core.repository.document_repository import DocumentRepository


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
    """Deprecated: opens a transaction that the backend's components join while it is open.

    Give your manager ``async commit(writes)`` instead (applying the writes inside that
    transaction with :func:`~victor_core.backend.apply_in_order`); until the next minor
    release a manager of this kind still commits, with a ``DeprecationWarning``.
    """

    @property
    def key(self) -> Hashable:
        """The transactional resource; equal keys share one transaction."""

    def transaction(self) -> AbstractAsyncContextManager[object]:
        """Commit everything the resource's components write inside, or nothing if it raises."""


def find_transaction_manager(component: object) -> TransactionManager | None:
    """The manager that commits writes to *component*, or None when its backend has none.

    *component* is a document store, an event recorder or a checkpoint store, which say
    themselves through ``transaction_manager()``; a repository or an event store is read
    through the store it writes to. A store that does not say is asked through what its
    backend's ``victor_transaction_manager`` hook offered when the plugin registry opened
    it (:func:`offer_transaction_manager`). Nothing else is consulted: no module names.
    """
    target = _storage_of(component)
    offer = getattr(target, "transaction_manager", None)
    manager = offer() if callable(offer) else None
    source = f"{type(target).__qualname__}.transaction_manager()"
    if manager is None:
        manager = _offered_for(target)
        source = f"the victor_transaction_manager hook, for {type(target).__qualname__},"
    if manager is None:
        return None
    if isinstance(manager, TransactionManager):
        return manager
    if isinstance(manager, AmbientTransactionManager):
        return _Ambient(manager)
    raise BackendContractError(
        f"{source} returned {type(manager).__qualname__}; it must return an object with a "
        "`key` and `async commit(writes)` (victor_core.backend.TransactionManager), or None"
    )


#: What backends' hooks offered for the stores the registry opened, for as long as each lives.
_offered: weakref.WeakKeyDictionary[object, object] = weakref.WeakKeyDictionary()


def offer_transaction_manager(component: object, manager: object) -> None:
    """Commit writes to *component* (and the stores it writes to) with *manager*.

    The plugin registry calls this with what a backend's ``victor_transaction_manager``
    hook returns for each event store and repository it opens, so that a backend whose
    stores do not answer ``transaction_manager()`` themselves is still committed in one
    transaction, as the hook says. A store's own answer comes first.
    """
    stores = [component, _storage_of(component)]
    if isinstance(component, EventStore) and component.checkpoints is not None:
        stores.append(component.checkpoints)
    for store in stores:
        # A store that takes no weak reference has to answer transaction_manager() itself.
        with contextlib.suppress(TypeError):
            _offered[store] = manager


def _offered_for(target: object) -> object:
    try:
        return _offered.get(target)
    except TypeError:
        return None


def _storage_of(component: object) -> object:
    """The store a repository or event store writes to; anything else as it is."""
    while isinstance(component, CachedRepository):
        component = component.base
    if isinstance(component, AggregateRepository):
        component = component.store
    if isinstance(component, EventStore):
        return component.recorder
    if isinstance(component, DocumentRepository):
        return component.store
    return component


class _Ambient:
    """A manager that only opens a transaction its components join (deprecated kind)."""

    def __init__(self, manager: AmbientTransactionManager) -> None:
        warnings.warn(
            f"{type(manager).__qualname__} has only `transaction()`; a transaction manager "
            "now takes the writes with `async commit(writes)` (apply them inside your "
            "transaction with victor_core.backend.apply_in_order). Managers with only "
            "`transaction()` stop working in the next minor release",
            DeprecationWarning,
            stacklevel=4,
        )
        self.manager = manager
        self.key: Hashable = manager.key

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        async with self.manager.transaction():
            return await apply_in_order(writes)


class EventSink(Protocol):
    """Where committed events go: an :class:`~victor_core.EventDispatcher`, or alike."""

    def dispatch(self, event: Event, /) -> Awaitable[object]:
        """Handle one committed event."""


#: What ``dispatcher=`` accepts: an object with ``async dispatch(event)``, or an async callable.
Dispatcher = EventSink | Callable[[Event], Awaitable[object] | None]
