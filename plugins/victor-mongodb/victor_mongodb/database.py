"""One MongoDB database and the client that reaches it, shared by every victor component on it.

Nothing here touches the network when it is made: the client is created with
``connect=False`` (or is the application's own), and collections and indexes are set up
the first time a component needs them, or all at once by :meth:`MongoDatabase.ensure_schema`
(which a transaction runs before it starts: a collection created while a transaction is
open makes the server abort it). So ``open_event_store("mongodb://host/app")`` works before
the server is up, and fails, with a message saying what to check, on the first read or
write instead.

What victor writes is acknowledged by a majority of the replica set and journaled
(``w="majority", j=True``) unless the client or the URL asks for another acknowledged write
concern; an unacknowledged one (``w=0``) is refused, since no version check can work
without hearing of the duplicate key that decides it. Strings compare byte by byte (the
simple collation) whatever default collation a collection was created with.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import pymongo
from pymongo import IndexModel, ReadPreference, WriteConcern
from pymongo.collation import Collation
from pymongo.errors import CollectionInvalid, OperationFailure
from pymongo.errors import ConfigurationError as DriverConfigurationError
from pymongo.read_concern import ReadConcern

from victor_core.backend import BackendURL, ConfigurationError, LoopBinding, StoreClosed
from victor_mongodb.client import ClientAdapter, resolved
from victor_mongodb.errors import translated
from victor_mongodb.settings import OWN_OPTIONS, MongoSettings
from victor_mongodb.testing import is_stand_in
from victor_mongodb.transactions import MongoTransactionManager, joined, register

#: How victor writes unless the client says otherwise: confirmed by a majority, journaled.
MAJORITY_JOURNALED = WriteConcern("majority", j=True)
#: How the log is read by ``read_all``: only what a failover cannot roll back.
MAJORITY = ReadConcern("majority")
#: The server's answer to creating a collection that exists.
NAMESPACE_EXISTS = 48
#: Byte-by-byte string comparison, as SQLite and Python compare.
SIMPLE = Collation(locale="simple")


class MongoDatabase:
    """A database on a MongoDB server, and the client victor uses for it.

    ``MongoDatabase("mongodb://localhost:27017/app")`` opens (lazily) and owns a
    :class:`pymongo.AsyncMongoClient`; keyword options go to that client
    (``serverSelectionTimeoutMS=2000``). ``MongoDatabase(client=client, database="app")``
    uses a client the application holds (PyMongo async or Motor) and never closes it.
    Pass one ``MongoDatabase`` to several stores and repositories to share its client.
    """

    def __init__(
        self,
        url: str | BackendURL | MongoSettings | None = None,
        *,
        client: Any = None,
        database: str | None = None,
        **driver_options: Any,
    ) -> None:
        if isinstance(url, MongoSettings):
            if client is not None or database is not None or driver_options:
                raise ConfigurationError("pass MongoSettings or options, not both")
            settings = url
        else:
            options: dict[str, Any] = dict(driver_options)
            if client is not None:
                options["client"] = client
            if database is not None:
                options["database"] = database
            settings = MongoSettings.from_url(url if url is not None else "mongodb://", options)
        self.settings = settings
        self.name = settings.database
        if settings.client is not None:
            self.adapter = ClientAdapter(settings.client, owned=False)
        else:
            self.adapter = ClientAdapter(_new_client(settings), owned=True)
        self.write_concern = _write_concern(self.adapter.client, settings)
        self._database = self.adapter.database(self.name)
        self._stand_in = is_stand_in(self.adapter.client)
        #: collection name -> the indexes victor keeps on it.
        self._schema: dict[str, list[IndexModel]] = {}
        self._prepared: set[str] = set()
        self._transactions: bool | None = None
        self._closed = False
        register(self)
        # PyMongo's and Motor's async clients belong to the event loop they first ran on;
        # the backend does not declare Capability.THREADS.
        self._loop = LoopBinding(settings.describe(), "mongodb")

    @property
    def client(self) -> Any:
        """The driver's client (``pymongo.AsyncMongoClient`` or Motor's)."""
        return self.adapter.client

    def collection(self, name: str, *, primary: bool = False, majority: bool = False) -> Any:
        """The driver's collection *name*, written with victor's write concern.

        *primary* reads it on the primary whatever the URL's read preference (what decides
        a write must be read where writes happen); *majority* reads only what a majority
        has (what a failover cannot roll back). Call it on the event loop that uses it.
        """
        self._check_open()
        self._loop.check()
        options: dict[str, Any] = {"write_concern": self.write_concern}
        if primary:
            options["read_preference"] = ReadPreference.PRIMARY
        if majority:
            options["read_concern"] = MAJORITY
        return self._database.get_collection(name, **options)

    def collated(self) -> dict[str, Any]:
        """``collation=`` for a query or write, so strings compare byte by byte.

        The in-process stand-ins know no collations (they always compare byte by byte) and
        refuse the option on some calls, so they are not given it.
        """
        return {} if self._stand_in else {"collation": SIMPLE}

    def declare(self, name: str, indexes: Sequence[IndexModel] = ()) -> None:
        """Note that a component keeps collection *name* with *indexes* (no network traffic)."""
        declared = self._schema.setdefault(name, [])
        known = {index.document["name"] for index in declared}
        for index in indexes:
            if index.document["name"] not in known:
                declared.append(_simple(index))
                known.add(index.document["name"])
                self._prepared.discard(name)

    async def prepare(self, name: str) -> None:
        """Create the declared collection *name* and its indexes, the first time it is used."""
        self._check_open()
        if name in self._prepared:
            return
        indexes = self._schema.get(name, [])
        with translated(f"creating the collection {name!r} in {self.settings.describe()}"):
            try:
                await resolved(self._database.create_collection(name))
            except CollectionInvalid:  # it exists already
                pass
            except OperationFailure as exc:
                if exc.code != NAMESPACE_EXISTS:  # created by another process meanwhile
                    raise
            if indexes:
                collection = self.collection(name)
                # Only the missing ones: opening an existing database then asks the server to
                # build nothing (a role without createIndex can use it).
                existing = await resolved(collection.index_information())
                missing = [i for i in indexes if i.document["name"] not in existing]
                if missing:
                    await collection.create_indexes(missing)
        self._prepared.add(name)

    async def ensure_schema(self) -> None:
        """Create every collection and index the components on this database use, now.

        Safe to run any number of times, concurrently too; run it when deploying (the
        server needs it done before a transaction starts, and a transaction does it first).
        """
        for name in list(self._schema):
            await self.prepare(name)

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """Commit everything victor writes through this client inside the block, or nothing.

        Needs a replica set or a sharded cluster; see :mod:`victor_mongodb.transactions`.
        """
        return MongoTransactionManager(self).transaction()

    def joined(self) -> dict[str, Any]:
        """``{"session": ...}`` inside a transaction on this client, else ``{}``."""
        return joined(self.client)

    async def supports_transactions(self) -> bool:
        """True when the server is a replica set member or a mongos (asked once)."""
        if self._transactions is None:
            self._transactions = await self._ask_for_transactions()
        return self._transactions

    async def _ask_for_transactions(self) -> bool:
        try:
            with translated(f"asking {self.settings.describe()} what it is"):
                reply = await self.client.admin.command("hello")
        except NotImplementedError:  # an in-process stand-in for a server
            return False
        return bool(reply.get("setName")) or reply.get("msg") == "isdbgrid"

    async def drop(self) -> None:
        """Delete the whole database, with every collection victor or anyone made in it."""
        self._check_open()
        with translated(f"dropping {self.settings.describe()}"):
            await resolved(self.client.drop_database(self.name))
        self._prepared.clear()

    async def close(self) -> None:
        """Close the client if victor opened it. Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            await self.adapter.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(
                f"the connection to {self.settings.describe()} was closed; open a new store "
                "or repository to keep working"
            )

    def __repr__(self) -> str:
        return f"MongoDatabase({self.settings.shown!r}, database={self.name!r})"


def _write_concern(client: Any, settings: MongoSettings) -> WriteConcern:
    """The client's write concern where it names one, else majority and journaled."""
    given = getattr(client, "write_concern", None)
    if not isinstance(given, WriteConcern) or not given.document:
        return MAJORITY_JOURNALED  # the server's default, or a stand-in that has none
    if not given.acknowledged:
        raise ConfigurationError(
            f"{settings.shown!r} asks for unacknowledged writes ({given.document}); victor "
            "must hear of a refused write to keep its version checks, so remove w=0 from the "
            "URL or the client (the default, w='majority' with journaling, is the safe one)"
        )
    return given


def _simple(index: IndexModel) -> IndexModel:
    """*index* comparing strings byte by byte, whatever the collection's default collation."""
    document = dict(index.document)
    keys = list(document.pop("key").items())
    document.setdefault("collation", SIMPLE.document)
    return IndexModel(keys, **document)


def _new_client(settings: MongoSettings) -> Any:
    options = {"connect": False, **settings.driver_options}
    try:
        return pymongo.AsyncMongoClient(settings.uri, **options)
    except (DriverConfigurationError, TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{settings.shown!r}: {exc}. victor reads the options {', '.join(OWN_OPTIONS)} "
            "(and a store's serializer or a repository's collection, indexes and converter); "
            "every other option goes to pymongo.AsyncMongoClient"
        ) from exc
