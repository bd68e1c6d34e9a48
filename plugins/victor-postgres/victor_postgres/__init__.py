"""The PostgreSQL storage backend of victor-core, on asyncpg.

``PostgresEventStore("postgresql://app@db/app")`` (or
``open_event_store("postgresql://app@db/app")``) stores events, aggregate snapshots and
projection checkpoints in one PostgreSQL database through a connection pool. Components
that should share the pool (and commit together) share one :class:`PostgresDatabase`.
"""

from victor_postgres.checkpoints import PostgresCheckpointStore, write_checkpoint_in
from victor_postgres.database import (
    PostgresAppendConflict,
    PostgresBusy,
    PostgresConflict,
    PostgresDatabase,
    PostgresUnavailable,
)
from victor_postgres.event_log import PostgresEventRecorder, append_in
from victor_postgres.repository import PostgresRepository
from victor_postgres.schema import SchemaPart
from victor_postgres.settings import PostgresSettings
from victor_postgres.snapshots import PostgresSnapshotRecorder
from victor_postgres.store import PostgresEventStore
from victor_postgres.transactions import PostgresTransactionManager
from victor_postgres.unit_of_work import PostgresUnitOfWork
from victor_postgres.wakeups import AppendListener

__all__ = [
    "AppendListener",
    "PostgresAppendConflict",
    "PostgresBusy",
    "PostgresCheckpointStore",
    "PostgresConflict",
    "PostgresDatabase",
    "PostgresEventRecorder",
    "PostgresEventStore",
    "PostgresRepository",
    "PostgresSettings",
    "PostgresSnapshotRecorder",
    "PostgresTransactionManager",
    "PostgresUnavailable",
    "PostgresUnitOfWork",
    "SchemaPart",
    "append_in",
    "write_checkpoint_in",
]
