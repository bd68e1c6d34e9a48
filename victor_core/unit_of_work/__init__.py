"""The unit of work: change tracking, an identity map, and commits that are all or nothing.

``UnitOfWork`` and ``transactional`` are what applications use. Where to read on:

- :mod:`~victor_core.unit_of_work.unit_of_work`: the class users call, and ``transactional``.
- :mod:`~victor_core.unit_of_work.commit`: a commit's plan, its grouping by transactional
  resource, and handing each group's writes to its transaction manager.
- :mod:`~victor_core.unit_of_work.participants`: how each kind of registered repository
  loads objects and turns changes into writes.
- :mod:`~victor_core.unit_of_work.tracking`: what is remembered about each object.
- :mod:`~victor_core.unit_of_work.errors`: what a commit can refuse or leave half done.

Backends take part through the ``transaction_manager()`` of their stores, returning a
:class:`~victor_core.backend.TransactionManager` that applies the
:mod:`~victor_core.backend.writes` of a commit in one transaction.
"""

from __future__ import annotations

import warnings
from typing import Any

from victor_core.backend.transactions import (
    Dispatcher,
    EventSink,
    TransactionManager,
    find_transaction_manager,
)
from victor_core.backend.writes import (
    AdvanceCheckpoint,
    AppendEvents,
    InsertDocuments,
    RemoveDocument,
    ReplaceDocument,
    Write,
    WriteRefused,
    WriteResult,
    apply_in_order,
    apply_one,
)
from victor_core.unit_of_work.errors import NotAtomic, PartialCommit
from victor_core.unit_of_work.tracking import EntityState
from victor_core.unit_of_work.unit_of_work import UnitOfWork, transactional

__all__ = [
    "AdvanceCheckpoint",
    "AppendEvents",
    "Dispatcher",
    "EntityState",
    "EventSink",
    "InsertDocuments",
    "NotAtomic",
    "PartialCommit",
    "RemoveDocument",
    "ReplaceDocument",
    "TransactionManager",
    "UnitOfWork",
    "Write",
    "WriteRefused",
    "WriteResult",
    "apply_in_order",
    "apply_one",
    "find_transaction_manager",
    "transactional",
]


def __getattr__(name: str) -> Any:
    if name == "AmbientTransactionManager":
        warnings.warn(
            "AmbientTransactionManager is deprecated and will be removed in the next minor "
            "release: a transaction manager is a victor_core.backend.TransactionManager, "
            "whose `async commit(writes)` applies the writes",
            DeprecationWarning,
            stacklevel=2,
        )
        from victor_core.backend.transactions import AmbientTransactionManager

        return AmbientTransactionManager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
