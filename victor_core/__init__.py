"""victor-core: event sourcing, repositories, unit of work and CQRS for async Python.

This namespace is the application's face: the classes of the design (events, aggregates,
repositories, the unit of work, commands and queries), the ``open_*`` functions, and the
errors an application catches. Backend classes such as ``InMemoryEventStore`` or
``SQLiteEventStore`` are importable from here and resolved from the installed plugin on
first use. What a storage backend builds on is :mod:`victor_core.backend`; the plugin
registry is :mod:`victor_core.plugins`.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from victor_core._exports import MissingBackend, resolve_export
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
    CorruptEntity,
    CorruptEvent,
    CorruptRecord,
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
from victor_core.eventsourcing.event_types import EventTypeRegistry, event_types
from victor_core.eventsourcing.events import Event, new_id, utc_now
from victor_core.eventsourcing.projection_runner import ProjectionProgress, ProjectionRunner
from victor_core.eventsourcing.projections import EventDispatcher, Projection
from victor_core.eventsourcing.records import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    RecordedEvent,
)
from victor_core.eventsourcing.repository import AggregateRepository
from victor_core.eventsourcing.store import EventStore
from victor_core.eventsourcing.subscriptions import Subscription
from victor_core.eventsourcing.upcasting import UpcasterRegistry, upcaster, upcasters
from victor_core.plugins.registry import (
    Backend,
    PluginLoadWarning,
    PluginRegistry,
    default_registry,
    open_event_store,
    open_repository,
)
from victor_core.repository import (
    AttributeSpecification,
    BaseSpecification,
    CachedRepository,
    Entity,
    Repository,
    Specification,
)
from victor_core.serialization import converter
from victor_core.unit_of_work import (
    EntityState,
    NotAtomic,
    PartialCommit,
    UnitOfWork,
    transactional,
)

__version__ = "0.1.0"

__all__ = [
    "ANY",
    "NO_STREAM",
    "STREAM_EXISTS",
    "Aggregate",
    "AggregateNotFound",
    "AggregateRepository",
    "AppendResult",
    "AttributeSpecification",
    "Backend",
    "BackendError",
    "BackendNotFound",
    "BackendUnavailable",
    "BaseSpecification",
    "CachedRepository",
    "CachingQueryMiddleware",
    "CapabilityNotSupported",
    "CheckpointConflict",
    "Command",
    "CommandBus",
    "CommandResult",
    "ConcurrencyError",
    "ConfigurationError",
    "CorruptEntity",
    "CorruptEvent",
    "CorruptRecord",
    "DuplicateBackend",
    "DuplicateEventId",
    "DuplicateHandler",
    "Entity",
    "EntityAlreadyExists",
    "EntityNotFound",
    "EntityState",
    "Event",
    "EventDispatcher",
    "EventStore",
    "EventTypeConflict",
    "EventTypeRegistry",
    "HandlerNotFound",
    "HandlerRegistry",
    "InvalidHandler",
    "LoggingCommandMiddleware",
    "Mediator",
    "MessageTypeError",
    "MissingBackend",
    "NotAtomic",
    "PartialCommit",
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
    "Specification",
    "StaleEntity",
    "StoreClosed",
    "Subscription",
    "TransientError",
    "UnitOfWork",
    "UnknownEventType",
    "UpcasterRegistry",
    "ValidationCommandMiddleware",
    "VictorError",
    "__version__",
    "command_handler",
    "converter",
    "default_registry",
    "event_types",
    "message_handlers",
    "new_id",
    "open_event_store",
    "open_repository",
    "query_handler",
    "transactional",
    "upcaster",
    "upcasters",
    "utc_now",
]


#: Names that were importable from here and now live under their package: old name -> module.
#: Importing one from the root still works, with a DeprecationWarning naming the new place.
_MOVED = {
    "BackendInfo": "victor_core.backend",
    "BackendURL": "victor_core.backend",
    "CONTRACT_VERSION": "victor_core.backend",
    "Capability": "victor_core.backend",
    "CheckpointStore": "victor_core.backend",
    "ContractInstance": "victor_core.backend",
    "DocumentRepository": "victor_core.backend",
    "DocumentStore": "victor_core.backend",
    "EventRecorder": "victor_core.backend",
    "EventSerializer": "victor_core.backend",
    "ExpectedVersion": "victor_core.backend",
    "NewEventRecord": "victor_core.backend",
    "Operator": "victor_core.backend",
    "SnapshotRecord": "victor_core.backend",
    "SnapshotRecorder": "victor_core.backend",
    "StoredEventRecord": "victor_core.backend",
    "StreamState": "victor_core.backend",
    "TransactionManager": "victor_core.backend",
    "check_expected_version": "victor_core.backend",
    "hookimpl": "victor_core.backend",
    "make_converter": "victor_core.backend",
    "parse_url": "victor_core.backend",
    "AndSpecification": "victor_core.repository",
    "NotSpecification": "victor_core.repository",
    "OrSpecification": "victor_core.repository",
    "PluginEntry": "victor_core.plugins",
}


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    home = _MOVED.get(name)
    if home is not None:
        warnings.warn(
            f"importing {name} from victor_core is deprecated and will stop working in a later "
            f"release: import it from {home} (from {home} import {name})",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(home), name)
    # Backend classes (InMemoryEventStore, SQLiteEventStore, ...) come from plugins.
    value = resolve_export(__name__, name)
    globals()[name] = value
    return value
