"""The backend author's API: everything a storage engine imports besides ``victor_core``.

A backend plugin is its hook implementations plus its engine. It talks to the kernel through
the names below and no others, so the kernel can reorganise its internals without breaking a
third-party backend; a check in CI holds every first-party plugin to that (see
``docs/architecture.md``).

What lives here, by the job it does for a backend:

- **Plugging in**: :data:`hookimpl`, :class:`BackendInfo`, :class:`Capability`,
  :data:`CONTRACT_VERSION`, :class:`BackendURL`, :func:`parse_url`, and
  :class:`ContractInstance` for the contract suite.
- **Event storage**: the recorder interfaces (:class:`EventRecorder`,
  :class:`SnapshotRecorder`, :class:`CheckpointStore`) and the records they pass
  (:class:`NewEventRecord`, :class:`StoredEventRecord`, :class:`StreamState`,
  :class:`SnapshotRecord`), with :func:`check_append` (and :func:`check_expected_version`).
- **Documents**: :class:`DocumentStore` and what it reads and writes, which
  :class:`DocumentRepository` turns into a complete repository.
- **Specification push-down**: :class:`PushdownCompiler`, the base of a compiler to SQL or
  to a MongoDB filter, with the expressions, declared attributes and path helpers it uses,
  so every engine answers exactly as Python does (:data:`PATH_RULE` says what a path reads).
- **Transactions**: the write protocol (:class:`Write` and its kinds) that a
  :class:`TransactionManager` applies in one transaction; each store offers its manager
  through ``transaction_manager()``, which :func:`find_transaction_manager` reads.
- **Event loops**: :class:`LoopBinding`, for a backend whose connections stay on one loop.
- **Values**: the JSON encoding and the cattrs converter the kernel itself uses.
"""

from __future__ import annotations

import warnings
from typing import Any

from victor_core._records import record_fields
from victor_core.backend.compiler import PushdownCompiler, SQLPushdownCompiler
from victor_core.backend.contract import ContractInstance, RawStorage
from victor_core.backend.event_loops import LoopBinding
from victor_core.backend.info import CONTRACT_VERSION, BackendInfo, Capability
from victor_core.backend.known import install_command
from victor_core.backend.markers import hookimpl
from victor_core.backend.storage_schema import StorageSchema
from victor_core.backend.transactions import (
    Dispatcher,
    EventSink,
    TransactionManager,
    find_transaction_manager,
)
from victor_core.backend.url import BackendURL, parse_url
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
from victor_core.errors import (
    BackendContractError,
    BackendError,
    BackendUnavailable,
    CapabilityNotSupported,
    CheckpointConflict,
    ConcurrencyError,
    ConfigurationError,
    DuplicateEventId,
    EntityAlreadyExists,
    EntityNotFound,
    SerializationError,
    StaleEntity,
    StoreClosed,
    TransientBackendError,
    TransientError,
    VictorError,
    WrongEventLoop,
)
from victor_core.eventsourcing.checkpoints import CheckpointStore
from victor_core.eventsourcing.recorder import EventRecorder
from victor_core.eventsourcing.records import (
    AppendResult,
    ExpectedVersion,
    NewEventRecord,
    StoredEventRecord,
    StreamState,
    check_append,
    check_expected_version,
)
from victor_core.eventsourcing.serializer import EventSerializer, dumps
from victor_core.eventsourcing.snapshots import SnapshotRecord, SnapshotRecorder
from victor_core.eventsourcing.subscriptions import AppendBroadcast, AppendSignal
from victor_core.repository import (
    DocumentQuery,
    DocumentRepository,
    DocumentStore,
    NewDocument,
    OrderBy,
    OrderKey,
    StoredDocument,
    VersionCheck,
    entity_name,
)
from victor_core.repository.codec import EntityCodec
from victor_core.repository.declared_attributes import (
    DeclaredAttribute,
    DeclaredAttributes,
    Kind,
    holds_declared_value,
    is_exact_number,
    stored_value,
)
from victor_core.repository.expressions import (
    AllOf,
    AnyOf,
    Comparison,
    Expression,
    Negation,
    Pushdown,
    evaluate,
    expression_of,
    pushdown,
)
from victor_core.repository.specification import (
    PATH_RULE,
    BaseSpecification,
    Operator,
    check_path,
    order_from,
    read_path,
    sort_in_python,
    sort_key,
)
from victor_core.serialization import make_converter

__all__ = [
    "CONTRACT_VERSION",
    "PATH_RULE",
    "AdvanceCheckpoint",
    "AllOf",
    "AnyOf",
    "AppendBroadcast",
    "AppendEvents",
    "AppendResult",
    "AppendSignal",
    "BackendContractError",
    "BackendError",
    "BackendInfo",
    "BackendURL",
    "BackendUnavailable",
    "BaseSpecification",
    "Capability",
    "CapabilityNotSupported",
    "CheckpointConflict",
    "CheckpointStore",
    "Comparison",
    "ConcurrencyError",
    "ConfigurationError",
    "ContractInstance",
    "DeclaredAttribute",
    "DeclaredAttributes",
    "Dispatcher",
    "DocumentQuery",
    "DocumentRepository",
    "DocumentStore",
    "DuplicateEventId",
    "EntityAlreadyExists",
    "EntityCodec",
    "EntityNotFound",
    "EventRecorder",
    "EventSerializer",
    "EventSink",
    "ExpectedVersion",
    "Expression",
    "InsertDocuments",
    "Kind",
    "LoopBinding",
    "Negation",
    "NewDocument",
    "NewEventRecord",
    "Operator",
    "OrderBy",
    "OrderKey",
    "Pushdown",
    "PushdownCompiler",
    "RawStorage",
    "RemoveDocument",
    "ReplaceDocument",
    "SQLPushdownCompiler",
    "SerializationError",
    "SnapshotRecord",
    "SnapshotRecorder",
    "StaleEntity",
    "StorageSchema",
    "StoreClosed",
    "StoredDocument",
    "StoredEventRecord",
    "StreamState",
    "TransactionManager",
    "TransientBackendError",
    "TransientError",
    "VersionCheck",
    "VictorError",
    "Write",
    "WriteRefused",
    "WriteResult",
    "WrongEventLoop",
    "apply_in_order",
    "apply_one",
    "check_append",
    "check_expected_version",
    "check_path",
    "dumps",
    "entity_name",
    "evaluate",
    "expression_of",
    "find_transaction_manager",
    "holds_declared_value",
    "hookimpl",
    "install_command",
    "is_exact_number",
    "make_converter",
    "order_from",
    "parse_url",
    "pushdown",
    "read_path",
    "record_fields",
    "sort_in_python",
    "sort_key",
    "stored_value",
]


def __getattr__(name: str) -> Any:
    if name == "AmbientTransactionManager":
        warnings.warn(
            "AmbientTransactionManager is deprecated and will be removed in the next minor "
            "release: a transaction manager is a TransactionManager, whose "
            "`async commit(writes)` applies the writes (apply_in_order inside your own "
            "transaction does it)",
            DeprecationWarning,
            stacklevel=2,
        )
        from victor_core.backend.transactions import AmbientTransactionManager

        return AmbientTransactionManager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
