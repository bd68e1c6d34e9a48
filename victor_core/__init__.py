"""victor-core: event sourcing, repositories, unit of work and CQRS for async Python.

The kernel holds the domain building blocks, the storage contracts and the plugin system;
storage engines are plugins. Backend classes such as ``InMemoryEventStore`` or
``SQLiteEventStore`` are importable from here and resolved from the installed plugin on
first use.
"""

from __future__ import annotations

from typing import Any

from victor_core._exports import MissingBackend, resolve_export
from victor_core.backend.contract import ContractInstance
from victor_core.backend.info import CONTRACT_VERSION, BackendInfo, Capability
from victor_core.backend.markers import hookimpl
from victor_core.backend.url import BackendURL, parse_url
from victor_core.cqrs import (
    CachingQueryMiddleware,
    Command,
    CommandBus,
    CommandResult,
    DuplicateHandler,
    HandlerNotFound,
    HandlerRegistry,
    InvalidHandler,
    LoggingCommandMiddleware,
    Mediator,
    MessageTypeError,
    Query,
    QueryBus,
    QueryResult,
    RetryCommandMiddleware,
    TransientError,
    ValidationCommandMiddleware,
    command_handler,
    message_handlers,
    query_handler,
)
from victor_core.errors import (
    AggregateNotFound,
    BackendError,
    BackendNotFound,
    BackendUnavailable,
    CapabilityNotSupported,
    CheckpointConflict,
    ConcurrencyError,
    ConfigurationError,
    DuplicateBackend,
    DuplicateEventId,
    EntityAlreadyExists,
    EntityNotFound,
    EventTypeConflict,
    PluginLoadError,
    ProjectionFailed,
    ProjectionTimeout,
    SerializationError,
    StaleEntity,
    StoreClosed,
    UnknownEventType,
    VictorError,
)
from victor_core.eventsourcing.aggregate import Aggregate
from victor_core.eventsourcing.checkpoints import CheckpointStore
from victor_core.eventsourcing.event_types import EventTypeRegistry, event_types
from victor_core.eventsourcing.events import Event, new_id, utc_now
from victor_core.eventsourcing.projection_runner import ProjectionProgress, ProjectionRunner
from victor_core.eventsourcing.projections import EventDispatcher, Projection
from victor_core.eventsourcing.recorder import EventRecorder
from victor_core.eventsourcing.records import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    ExpectedVersion,
    NewEventRecord,
    RecordedEvent,
    StoredEventRecord,
    StreamState,
    check_expected_version,
)
from victor_core.eventsourcing.repository import AggregateRepository
from victor_core.eventsourcing.serializer import EventSerializer
from victor_core.eventsourcing.snapshots import SnapshotRecord, SnapshotRecorder
from victor_core.eventsourcing.store import EventStore
from victor_core.eventsourcing.subscriptions import Subscription
from victor_core.eventsourcing.upcasting import UpcasterRegistry, upcaster, upcasters
from victor_core.plugins.registry import (
    Backend,
    PluginEntry,
    PluginLoadWarning,
    PluginRegistry,
    default_registry,
    open_event_store,
    open_repository,
)
from victor_core.repository import (
    AndSpecification,
    AttributeSpecification,
    BaseSpecification,
    CachedRepository,
    DocumentRepository,
    DocumentStore,
    Entity,
    NotSpecification,
    Operator,
    OrSpecification,
    Repository,
    Specification,
)
from victor_core.serialization import converter, make_converter
from victor_core.unit_of_work import (
    EntityState,
    NotAtomic,
    PartialCommit,
    TransactionManager,
    UnitOfWork,
    transactional,
)

__version__ = "0.1.0"

__all__ = [
    "ANY",
    "CONTRACT_VERSION",
    "NO_STREAM",
    "STREAM_EXISTS",
    "Aggregate",
    "AggregateNotFound",
    "AggregateRepository",
    "AndSpecification",
    "AppendResult",
    "AttributeSpecification",
    "Backend",
    "BackendError",
    "BackendInfo",
    "BackendNotFound",
    "BackendURL",
    "BackendUnavailable",
    "BaseSpecification",
    "CachedRepository",
    "CachingQueryMiddleware",
    "Capability",
    "CapabilityNotSupported",
    "CheckpointConflict",
    "CheckpointStore",
    "Command",
    "CommandBus",
    "CommandResult",
    "ConcurrencyError",
    "ConfigurationError",
    "ContractInstance",
    "DocumentRepository",
    "DocumentStore",
    "DuplicateBackend",
    "DuplicateEventId",
    "DuplicateHandler",
    "Entity",
    "EntityAlreadyExists",
    "EntityNotFound",
    "EntityState",
    "Event",
    "EventDispatcher",
    "EventRecorder",
    "EventSerializer",
    "EventStore",
    "EventTypeConflict",
    "EventTypeRegistry",
    "ExpectedVersion",
    "HandlerNotFound",
    "HandlerRegistry",
    "InvalidHandler",
    "LoggingCommandMiddleware",
    "Mediator",
    "MessageTypeError",
    "MissingBackend",
    "NewEventRecord",
    "NotAtomic",
    "NotSpecification",
    "Operator",
    "OrSpecification",
    "PartialCommit",
    "PluginEntry",
    "PluginLoadError",
    "PluginLoadWarning",
    "PluginRegistry",
    "Projection",
    "ProjectionFailed",
    "ProjectionProgress",
    "ProjectionRunner",
    "ProjectionTimeout",
    "Query",
    "QueryBus",
    "QueryResult",
    "RecordedEvent",
    "Repository",
    "RetryCommandMiddleware",
    "SerializationError",
    "SnapshotRecord",
    "SnapshotRecorder",
    "Specification",
    "StaleEntity",
    "StoreClosed",
    "StoredEventRecord",
    "StreamState",
    "Subscription",
    "TransactionManager",
    "TransientError",
    "UnitOfWork",
    "UnknownEventType",
    "UpcasterRegistry",
    "ValidationCommandMiddleware",
    "VictorError",
    "__version__",
    "check_expected_version",
    "command_handler",
    "converter",
    "default_registry",
    "event_types",
    "hookimpl",
    "make_converter",
    "message_handlers",
    "new_id",
    "open_event_store",
    "open_repository",
    "parse_url",
    "query_handler",
    "transactional",
    "upcaster",
    "upcasters",
    "utc_now",
]


def __getattr__(name: str) -> Any:
    # Backend classes (InMemoryEventStore, SQLiteEventStore, ...) come from plugins.
    if name.startswith("__"):
        raise AttributeError(name)
    value = resolve_export(__name__, name)
    globals()[name] = value
    return value
