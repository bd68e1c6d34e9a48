"""One PostgreSQL transaction for a whole unit of work: entities and events, all or nothing.

The transactional resource is the database (and the schema its tables are in): repositories
and event stores on it commit together even when each opened its own pool, because the
commit runs every write on one connection of one of them, inside one transaction. A
refused write (an id taken, a stale version, an unexpected stream version) or any other
error rolls all of it back, and so does the server when the client dies before ``COMMIT``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

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
from victor_postgres.checkpoints import CHECKPOINTS, PostgresCheckpointStore, swap_checkpoint_in
from victor_postgres.database import Connection, PostgresDatabase
from victor_postgres.event_log import (
    EVENTS,
    SLOTS,
    PostgresEventRecorder,
    announce_in,
    append_in,
)
from victor_postgres.repository import (
    PostgresDocumentStore,
    _Taken,
    insert_in,
    remove_in,
    replace_in,
)


def resource_of(database: PostgresDatabase) -> tuple[str, str | None]:
    """The key of the transactions *database* can join: its server and database, and schema."""
    return (database.settings.dsn.partition("?")[0], database.settings.schema)


def database_of(resource: object) -> PostgresDatabase | None:
    """The PostgreSQL database *resource* (a repository, event store or database) writes to."""
    if isinstance(resource, PostgresDatabase):
        return resource
    if isinstance(resource, DocumentRepository) and isinstance(
        resource.store, PostgresDocumentStore
    ):
        return resource.store.database
    if isinstance(resource, EventStore) and isinstance(resource.recorder, PostgresEventRecorder):
        return resource.recorder.database
    if isinstance(resource, PostgresCheckpointStore):
        return resource.database
    return None


class PostgresTransactionManager:
    """Commits writes to repositories and event stores on one database, in one transaction."""

    def __init__(self, database: PostgresDatabase) -> None:
        #: The pool the transaction's connection comes from.
        self.database = database
        self._resource = resource_of(database)

    @property
    def key(self) -> Hashable:
        """The database (server, database name and schema)."""
        return self._resource

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        for write in writes:
            self._own(write)
        events = sum(len(w.records) for w in writes if isinstance(w, AppendEvents))
        if events > SLOTS:
            raise ConfigurationError(
                f"a commit of {events} events is more than the {SLOTS} one PostgreSQL "
                "transaction can hold; commit them in several units of work"
            )
        # Tables are created (each in a transaction of its own) before the commit starts.
        for write in writes:
            if isinstance(write, AdvanceCheckpoint):
                await self.database.ensure(CHECKPOINTS)
            elif isinstance(write, AppendEvents):
                await self.database.ensure(EVENTS)
            else:
                assert isinstance(write.store, PostgresDocumentStore)
                await write.store.prepare()
        results: list[WriteResult] = await self.database.run(_commit_and_announce, list(writes))
        return results

    def _own(self, write: Write) -> None:
        """Check that *write* targets a component on this transaction's database."""
        if isinstance(write, AdvanceCheckpoint):
            target: object = write.checkpoints
            database = getattr(write.checkpoints, "database", None)
            fits = isinstance(write.checkpoints, PostgresCheckpointStore)
        elif isinstance(write, AppendEvents):
            target = write.recorder
            database = getattr(write.recorder, "database", None)
            fits = isinstance(write.recorder, PostgresEventRecorder)
        else:
            target = write.store
            database = getattr(write.store, "database", None)
            fits = isinstance(write.store, PostgresDocumentStore)
        if not fits or not isinstance(database, PostgresDatabase):
            raise ConfigurationError(
                f"a PostgreSQL transaction cannot write to {type(target).__qualname__}, which "
                "belongs to another backend; commit it separately (best_effort=True)"
            )
        if resource_of(database) != self._resource:
            raise ConfigurationError(
                f"a PostgreSQL transaction on {self.database.settings.describe()} cannot write "
                f"to {database.settings.describe()}; each database commits in its own "
                "transaction"
            )


async def _commit_and_announce(connection: Connection, writes: list[Write]) -> list[WriteResult]:
    """Every write, in order, in one transaction; then its appends announced, once committed.

    Announced after the commit rather than by it, so that this commit does not wait behind
    every other notifying commit on the server (see :func:`announce_in`).
    """
    async with connection.transaction():
        results = [await _apply(connection, write) for write in writes]
    announced = [
        result.positions[-1]
        for write, result in zip(writes, results, strict=True)
        if isinstance(write, AppendEvents)
        and getattr(write.recorder, "notify", True)
        and isinstance(result, AppendResult)
        and result.positions
    ]
    if announced:
        await announce_in(connection, max(announced))
    return results


async def _apply(connection: Connection, write: Write) -> WriteResult:
    if isinstance(write, AdvanceCheckpoint):
        found = await swap_checkpoint_in(connection, write.name, write.expected, write.position)
        if found is not None:
            raise CheckpointConflict(write.name, write.expected, found)
        return None
    if isinstance(write, AppendEvents):
        return await append_in(
            connection, write.stream_id, write.records, write.expected_version, notify=False
        )
    assert isinstance(write.store, PostgresDocumentStore)
    table = write.store.table
    if isinstance(write, InsertDocuments):
        try:
            await insert_in(connection, table, write.documents)
        except _Taken as taken:
            raise WriteRefused(write, entity_id=taken.entity_id) from None
    elif isinstance(write, ReplaceDocument):
        if not await replace_in(connection, table, write.entity_id, write.document, write.check):
            raise WriteRefused(write, entity_id=write.entity_id)
    elif isinstance(write, RemoveDocument) and not await remove_in(
        connection, table, write.entity_id
    ):
        raise WriteRefused(write, entity_id=write.entity_id)
    return None
