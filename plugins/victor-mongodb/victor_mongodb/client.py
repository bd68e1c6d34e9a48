"""One MongoDB client, PyMongo's async API or Motor, seen through the calls victor makes.

victor builds :class:`pymongo.AsyncMongoClient` itself, but accepts a client the application
already holds, including Motor's ``AsyncIOMotorClient`` (Motor is deprecated in favour of
PyMongo's async API, and many applications still hold one). The two agree on collections,
cursors and most methods, and differ in where ``await`` goes:

=====================  =========================  ==========================
call                   PyMongo async              Motor
=====================  =========================  ==========================
``start_session()``    plain call                 ``await``
``start_transaction``  ``await``                  plain call
``aggregate(...)``     ``await``, then iterate    iterate directly
``close()``            ``await``                  plain call
=====================  =========================  ==========================

Those calls go through this module, which awaits a result only when it is awaitable; every
other module uses the client's collections directly, identically for both.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pymongo
from pymongo.errors import PyMongoError

from victor_core.backend import ConfigurationError
from victor_mongodb.errors import commit_may_be_retried

#: How many times a commit with an unknown result is sent before giving up.
COMMIT_ATTEMPTS = 3


class Flavour(enum.StrEnum):
    """Which driver API a client speaks."""

    PYMONGO = "pymongo"
    MOTOR = "motor"


async def resolved(value: Any) -> Any:
    """*value*, awaited first when the driver returned an awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


def flavour_of(client: object) -> Flavour:
    """The API *client* speaks, or a :class:`ConfigurationError` saying what to pass."""
    if isinstance(client, pymongo.MongoClient):
        raise ConfigurationError(
            "client= is a synchronous pymongo.MongoClient, which would block the event loop; "
            "pass a pymongo.AsyncMongoClient (or a Motor AsyncIOMotorClient)"
        )
    if isinstance(client, pymongo.AsyncMongoClient):
        return Flavour.PYMONGO
    if not callable(getattr(client, "get_database", None)):
        raise ConfigurationError(
            f"client= must be a pymongo.AsyncMongoClient or a Motor AsyncIOMotorClient, got "
            f"{type(client).__qualname__}"
        )
    # ``__class__`` rather than ``type()``: test doubles of Motor present themselves as it.
    module = getattr(client.__class__, "__module__", "") or ""
    return Flavour.MOTOR if module.split(".")[0] == "motor" else Flavour.PYMONGO


class ClientAdapter:
    """A client and whether victor opened it (and so closes it)."""

    def __init__(self, client: Any, *, owned: bool) -> None:
        self.client = client
        self.flavour = flavour_of(client)
        #: True when victor created the client; a client passed in belongs to its creator.
        self.owned = owned

    def database(self, name: str) -> Any:
        """The driver's database object called *name* (no network traffic)."""
        return self.client.get_database(name)

    async def aggregate(
        self, collection: Any, pipeline: list[dict[str, Any]], **options: Any
    ) -> list[dict[str, Any]]:
        """The documents *pipeline* produces on *collection*."""
        cursor = await resolved(collection.aggregate(pipeline, **options))
        return [document async for document in cursor]

    @asynccontextmanager
    async def transaction(self, **options: Any) -> AsyncIterator[Any]:
        """A session with a transaction started: committed on exit, aborted on an error.

        *options* go to ``start_transaction`` (read and write concerns). A commit whose
        result is unknown (``UnknownTransactionCommitResult``: the connection was lost, or
        the write concern timed out) is sent again, as ``with_transaction`` does: a commit
        is idempotent, so a second one cannot apply the transaction twice.
        """
        session = await resolved(self.client.start_session())
        try:
            await resolved(session.start_transaction(**options))
            try:
                yield session
            except BaseException:
                await resolved(session.abort_transaction())
                raise
            for attempt in range(1, COMMIT_ATTEMPTS + 1):
                try:
                    await resolved(session.commit_transaction())
                except PyMongoError as exc:
                    if attempt < COMMIT_ATTEMPTS and commit_may_be_retried(exc):
                        continue
                    raise
                break
        finally:
            await resolved(session.end_session())

    async def close(self) -> None:
        """Close the client if victor opened it; a client passed in stays open."""
        if self.owned:
            await resolved(self.client.close())
