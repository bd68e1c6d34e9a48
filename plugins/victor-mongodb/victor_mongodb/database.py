"""One MongoDB database and the client that reaches it, shared by every victor component on it.

Nothing here touches the network when it is made: the client is created with
``connect=False`` (or is the application's own), and collections and indexes are set up
the first time a component needs them. So ``open_event_store("mongodb://host/app")``
works before the server is up, and fails, with a message saying what to check, on the
first read or write instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pymongo
from pymongo.errors import ConfigurationError as DriverConfigurationError

from victor_core.backend import BackendURL, ConfigurationError, StoreClosed
from victor_mongodb.client import ClientAdapter
from victor_mongodb.errors import translated
from victor_mongodb.settings import OWN_OPTIONS, MongoSettings
from victor_mongodb.transactions import MongoTransactionManager, joined


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
        self._database = self.adapter.database(self.name)
        self._prepared: set[str] = set()
        self._transactions: bool | None = None
        self._closed = False

    @property
    def client(self) -> Any:
        """The driver's client (``pymongo.AsyncMongoClient`` or Motor's)."""
        return self.adapter.client

    def collection(self, name: str) -> Any:
        """The driver's collection *name* in this database."""
        self._check_open()
        return self._database.get_collection(name)

    async def prepare(self, key: str, setup: Callable[[], Awaitable[None]]) -> None:
        """Run *setup* (creating indexes, say) the first time *key* is asked for."""
        self._check_open()
        if key in self._prepared:
            return
        await setup()
        self._prepared.add(key)

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
            await self.client.drop_database(self.name)
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
