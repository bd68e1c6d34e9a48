"""The unit of work: change tracking, an identity map, and commits that are all or nothing.

``UnitOfWork`` and ``transactional`` are what applications use. Backends take part through
the hook ``victor_transaction_manager``, returning a :class:`TransactionManager` that
applies the :mod:`~victor_core.unit_of_work.writes` of a commit in one transaction (or an
:class:`AmbientTransactionManager` whose transaction the backend's components join).
"""

from victor_core.unit_of_work.dispatch import Dispatcher, EventSink
from victor_core.unit_of_work.errors import NotAtomic, PartialCommit, WriteRefused
from victor_core.unit_of_work.managers import (
    AmbientTransactionManager,
    TransactionManager,
    find_transaction_manager,
)
from victor_core.unit_of_work.states import EntityState
from victor_core.unit_of_work.transactional import transactional
from victor_core.unit_of_work.unit_of_work import UnitOfWork
from victor_core.unit_of_work.writes import (
    AdvanceCheckpoint,
    AppendEvents,
    InsertDocuments,
    RemoveDocument,
    ReplaceDocument,
    Write,
    WriteResult,
    apply_in_order,
    apply_one,
)

__all__ = [
    "AdvanceCheckpoint",
    "AmbientTransactionManager",
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
