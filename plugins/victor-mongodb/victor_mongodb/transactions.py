"""Multi-document transactions: entities, events, snapshots and checkpoints committed together.

On a replica set or a sharded cluster, everything victor writes through one client inside
``async with database.transaction():`` (or a unit of work's commit, handed to the
:class:`MongoTransactionManager` that every store on the client returns from
``transaction_manager()``) commits as one transaction, or not at all. Every
component on that client joins it by itself: the session is carried by a context variable,
keyed by the client, so no method needs a ``session`` argument.

Operations inside one transaction must run one after another (a MongoDB session runs one
operation at a time), and a transaction should be short: an append inside it holds the
next global position until it commits, so other appends wait for it (see
:mod:`victor_mongodb.event_log`). A standalone server has no transactions; entering one
there raises :class:`~victor_core.CapabilityNotSupported` before anything is written.

Before a transaction starts, every collection and index of the components on its client
(of every database of it victor has open) is created
(:meth:`~victor_mongodb.MongoDatabase.ensure_schema`): a server aborts a transaction that
meets a collection created after its snapshot was taken. A transaction reads from one
majority-committed snapshot on the primary and commits with the database's write concern
(majority and journaled by default).

A unit of work's commit hands the manager its writes (:meth:`MongoTransactionManager.commit`),
so the manager can do what PyMongo's ``with_transaction`` does, within a bound: run the
whole transaction again when the server aborted it as transient (a write conflict, a
failover), and send the commit again when its result is unknown. What still fails is
raised as :class:`~victor_mongodb.errors.TransactionConflict` (a
:class:`~victor_core.TransientBackendError`) or :class:`~victor_mongodb.errors.OutcomeUnknown`.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pymongo import ReadPreference
from pymongo.read_concern import ReadConcern

from victor_core.backend import CapabilityNotSupported, Write, WriteResult, apply_in_order
from victor_mongodb.errors import TransactionConflict, translated

if TYPE_CHECKING:
    from victor_mongodb.database import MongoDatabase

#: id(client) -> the session of the transaction in progress on that client.
_sessions: ContextVar[Mapping[int, Any]] = ContextVar(
    "victor_mongodb_sessions", default=MappingProxyType({})
)
#: id(client) -> the databases open on that client, whose schemas a transaction ensures.
_databases: dict[int, weakref.WeakSet[MongoDatabase]] = {}
#: How many times a unit of work's transaction is run when the server aborts it as transient.
TRANSACTION_ATTEMPTS = 5
#: Every read of a transaction sees one snapshot of majority-committed data.
SNAPSHOT = ReadConcern("snapshot")


def register(database: MongoDatabase) -> None:
    """Note *database* as one a transaction on its client may write to."""
    _databases.setdefault(id(database.client), weakref.WeakSet()).add(database)


async def ensure_schemas(client: Any) -> None:
    """Create the collections and indexes of every open database on *client*."""
    for database in list(_databases.get(id(client), ())):
        if not database.closed:
            await database.ensure_schema()


def current_session(client: Any) -> Any | None:
    """The session of the transaction in progress on *client* in this task, if any."""
    return _sessions.get().get(id(client))


def joined(client: Any) -> dict[str, Any]:
    """Keyword arguments that make a driver call join the transaction in progress."""
    session = current_session(client)
    return {} if session is None else {"session": session}


class MongoTransactionManager:
    """Runs work on one MongoDB client in one multi-document transaction.

    Transactions span every database of a client, so :attr:`key`, which tells a unit of
    work which participants can commit together, is the client.
    """

    def __init__(self, database: MongoDatabase) -> None:
        self.database = database

    @property
    def key(self) -> object:
        """What identifies the transactional resource: the client."""
        return self.database.client

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """Commit everything written inside on exit, or nothing if the block raises.

        Inside a transaction already in progress on the same client, the block joins it.
        """
        client = self.database.client
        session = current_session(client)
        if session is not None:
            yield session
            return
        if not await self.database.supports_transactions():
            raise CapabilityNotSupported(
                f"{self.database.settings.describe()} is a standalone server, which has no "
                "multi-document transactions; run MongoDB as a replica set (mongod --replSet "
                "rs0, then rs.initiate()) or commit without a transaction"
            )
        await self.database.ensure_schema()
        await ensure_schemas(client)
        options = {
            "read_concern": SNAPSHOT,
            "write_concern": self.database.write_concern,
            "read_preference": ReadPreference.PRIMARY,
        }
        where = f"committing a transaction on {self.database.settings.describe()}"
        with translated(where, writing=True):
            async with self.database.adapter.transaction(**options) as session:
                token = _sessions.set(MappingProxyType({**_sessions.get(), id(client): session}))
                try:
                    yield session
                finally:
                    _sessions.reset(token)

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Apply a unit of work's *writes* in one transaction, run again if it was transient.

        Each attempt starts from nothing (the server aborted the one before), so the writes
        are applied afresh: an append reads its stream version and position again. After
        :data:`TRANSACTION_ATTEMPTS` the last :class:`TransactionConflict` is raised.
        """
        if current_session(self.database.client) is not None:  # the caller's transaction
            return await apply_in_order(writes)
        attempt = 1
        while True:
            try:
                async with self.transaction():
                    return await apply_in_order(writes)
            except TransactionConflict:
                if attempt == TRANSACTION_ATTEMPTS:
                    raise
                attempt += 1
