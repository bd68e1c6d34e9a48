"""One SQLite transaction for a whole unit of work: entities and events, all or nothing.

The transactional resource is the database file: repositories and event stores on the same
file commit together even when each opened its own connection, because the commit runs
every write on one of those connections, in one thread hop, inside ``BEGIN IMMEDIATE`` ...
``COMMIT`` (see :meth:`~victor_sqlite.database.SQLiteDatabase.write`). A refused write
(an id taken, a stale version, an unexpected stream version) or any other error rolls all
of it back, and so does SQLite itself when the process dies before ``COMMIT``. An
in-memory database is its own resource: only components sharing its
:class:`~victor_sqlite.SQLiteDatabase` can commit with it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Hashable, Sequence
from typing import Any

import attrs

from victor_core import EventStore
from victor_core.backend import (
    AdvanceCheckpoint,
    AppendEvents,
    AppendResult,
    CheckpointConflict,
    ConfigurationError,
    DocumentRepository,
    InsertDocuments,
    RemoveDocument,
    ReplaceDocument,
    Write,
    WriteRefused,
    WriteResult,
)
from victor_sqlite.checkpoints import CHECKPOINTS, SQLiteCheckpointStore, swap_checkpoint_in
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.event_log import EVENTS, SQLiteEventRecorder, append_in
from victor_sqlite.repository import (
    SQLiteDocumentStore,
    _Taken,
    insert_in,
    remove_in,
    replace_in,
)


@attrs.frozen
class SQLiteResource:
    """The key of an SQLite transaction: a database file, or one in-memory database."""

    #: The file's real path; None for an in-memory database.
    path: str | None
    #: The in-memory database itself (compared by identity); None for a file.
    database: SQLiteDatabase | None = attrs.field(default=None, eq=False, hash=False)
    _identity: int = attrs.field(default=0, alias="identity")

    @classmethod
    def of(cls, database: SQLiteDatabase) -> SQLiteResource:
        """The resource *database* is on."""
        settings = database.settings
        if settings.in_memory:
            return cls(None, database, identity=id(database))
        return cls(os.path.realpath(settings.path))

    def __str__(self) -> str:
        if self.path is None:
            return f"the in-memory SQLite database {self.database!r}"
        return f"SQLite file {self.path!r}"


def database_of(resource: object) -> SQLiteDatabase | None:
    """The SQLite database *resource* (a repository, event store or database) writes to."""
    if isinstance(resource, SQLiteDatabase):
        return resource
    if isinstance(resource, DocumentRepository) and isinstance(resource.store, SQLiteDocumentStore):
        return resource.store.database
    if isinstance(resource, EventStore) and isinstance(resource.recorder, SQLiteEventRecorder):
        return resource.recorder.database
    if isinstance(resource, SQLiteCheckpointStore):
        return resource.database
    return None


class SQLiteTransactionManager:
    """Commits writes to repositories and event stores on one SQLite file, in one transaction."""

    def __init__(self, database: SQLiteDatabase) -> None:
        #: The connection the transaction runs on.
        self.database = database
        self._resource = SQLiteResource.of(database)

    @property
    def key(self) -> Hashable:
        """The database file (or the in-memory database)."""
        return self._resource

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        steps = [self._step(write) for write in writes]
        # Tables are created (outside the transaction, as schema changes always are) first.
        for write in writes:
            if isinstance(write, AdvanceCheckpoint):
                await self._own(write).ensure(CHECKPOINTS)
            elif isinstance(write, AppendEvents):
                await self._own(write).ensure(EVENTS)
            else:
                assert isinstance(write.store, SQLiteDocumentStore)
                await write.store._prepare()
        results: list[WriteResult] = await self.database.write(_apply_all, steps)
        appended = [r.positions[-1] for r in results if isinstance(r, AppendResult)]
        if appended:
            self.database.appended.notify(max(appended))
        return results

    def _own(self, write: Write) -> SQLiteDatabase:
        """The database of the component *write* targets, checked to be on this resource."""
        if isinstance(write, AdvanceCheckpoint):
            target: object = write.checkpoints
            database = getattr(write.checkpoints, "database", None)
            fits = isinstance(write.checkpoints, SQLiteCheckpointStore)
        elif isinstance(write, AppendEvents):
            target = write.recorder
            database = getattr(write.recorder, "database", None)
            fits = isinstance(write.recorder, SQLiteEventRecorder)
        else:
            target = write.store
            database = getattr(write.store, "database", None)
            fits = isinstance(write.store, SQLiteDocumentStore)
        if not fits or not isinstance(database, SQLiteDatabase):
            raise ConfigurationError(
                f"an SQLite transaction cannot write to {type(target).__qualname__}, which "
                "belongs to another backend; commit it separately (best_effort=True)"
            )
        if SQLiteResource.of(database) != self._resource:
            raise ConfigurationError(
                f"an SQLite transaction on {self._resource} cannot write to "
                f"{SQLiteResource.of(database)}; each database commits in its own transaction"
            )
        return database

    def _step(self, write: Write) -> tuple[Write, str | None]:
        self._own(write)
        if isinstance(write, AppendEvents | AdvanceCheckpoint):
            return write, None
        assert isinstance(write.store, SQLiteDocumentStore)
        return write, write.store.table


def _apply_all(raw: sqlite3.Connection, steps: list[tuple[Write, str | None]]) -> list[Any]:
    """Every write, in order, inside the caller's write transaction."""
    return [_apply(raw, write, table) for write, table in steps]


def _apply(raw: sqlite3.Connection, write: Write, table: str | None) -> WriteResult:
    if isinstance(write, AdvanceCheckpoint):
        found = swap_checkpoint_in(raw, write.name, write.expected, write.position)
        if found is not None:
            raise CheckpointConflict(write.name, write.expected, found)
        return None
    if isinstance(write, AppendEvents):
        return append_in(raw, write.stream_id, write.records, write.expected_version)
    assert table is not None
    if isinstance(write, InsertDocuments):
        try:
            insert_in(raw, table, write.documents)
        except _Taken as taken:
            raise WriteRefused(write, entity_id=taken.entity_id) from None
    elif isinstance(write, ReplaceDocument):
        if not replace_in(raw, table, write.entity_id, write.document, write.check):
            raise WriteRefused(write, entity_id=write.entity_id)
    elif isinstance(write, RemoveDocument) and not remove_in(raw, table, write.entity_id):
        raise WriteRefused(write, entity_id=write.entity_id)
    return None
