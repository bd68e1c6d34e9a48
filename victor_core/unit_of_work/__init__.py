"""The unit of work: change tracking, an identity map, and commits that are all or nothing.

``UnitOfWork`` and ``transactional`` are what applications use. Backends take part through
the hook ``victor_transaction_manager``, returning a :class:`TransactionManager` that
applies the :mod:`~victor_core.backend.writes` of a commit in one transaction (or an
:class:`AmbientTransactionManager` whose transaction the backend's components join).
"""

from victor_core.backend.transactions import (
    AmbientTransactionManager,
    Dispatcher,
    EventSink,
    TransactionManager,
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
from victor_core.unit_of_work.managers import find_transaction_manager
from victor_core.unit_of_work.states import EntityState
from victor_core.unit_of_work.transactional import transactional
from victor_core.unit_of_work.unit_of_work import UnitOfWork

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
