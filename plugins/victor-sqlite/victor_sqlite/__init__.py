"""The SQLite storage backend of victor-core, on aiosqlite.

``SQLiteEventStore("events.db")`` (or ``open_event_store("sqlite:///events.db")``) stores
events, aggregate snapshots and projection checkpoints in one SQLite file, durably by
default, and may be shared by several stores and processes. Components that should share
one connection (and its transactions) share one :class:`SQLiteDatabase`.
"""

from victor_sqlite.checkpoints import SQLiteCheckpointStore, write_checkpoint_in
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.event_log import SQLiteEventRecorder, append_in
from victor_sqlite.repository import SQLiteRepository
from victor_sqlite.schema import SchemaPart
from victor_sqlite.settings import SQLiteSettings
from victor_sqlite.snapshots import SQLiteSnapshotRecorder
from victor_sqlite.store import SQLiteEventStore
from victor_sqlite.transactions import SQLiteTransactionManager
from victor_sqlite.unit_of_work import SQLiteUnitOfWork

__all__ = [
    "SQLiteCheckpointStore",
    "SQLiteDatabase",
    "SQLiteEventRecorder",
    "SQLiteEventStore",
    "SQLiteRepository",
    "SQLiteSettings",
    "SQLiteSnapshotRecorder",
    "SQLiteTransactionManager",
    "SQLiteUnitOfWork",
    "SchemaPart",
    "append_in",
    "write_checkpoint_in",
]
