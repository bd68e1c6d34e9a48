"""Writes into a MongoDB database past the kernel, for the contract suite's damage tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pymongo

from victor_core.backend import RawStorage
from victor_mongodb.client import resolved
from victor_mongodb.documents import POSITION
from victor_mongodb.event_log import EVENTS
from victor_mongodb.snapshots import SNAPSHOTS


class MongoRawStorage(RawStorage):
    """Overwrites documents of the database *name* with the client's own writes.

    *client* is the in-process stand-in's client, or ``None`` to connect to the server at
    *url* for each write.
    """

    def __init__(self, name: str, *, client: Any = None, url: str | None = None) -> None:
        self.name = name
        self.client = client
        self.url = url

    async def write_event_payload(self, stream_id: str, version: int, text: str) -> None:
        query = {
            "stream_id": stream_id,
            "first_version": {"$lte": version},
            "last_version": {"$gte": version},
        }

        def damage(commit: dict[str, Any]) -> None:
            commit["events"][version - commit["first_version"]]["data"] = text

        await self._rewrite(EVENTS, query, damage)

    async def write_snapshot_state(self, stream_id: str, version: int, text: str) -> None:
        def damage(snapshot: dict[str, Any]) -> None:
            snapshot["state"] = text

        await self._rewrite(SNAPSHOTS, {"stream_id": stream_id, "version": version}, damage)

    async def write_document(self, entity_name: str, entity_id: str, text: str) -> None:
        fields = json.loads(text)
        if not isinstance(fields, dict):
            raise ValueError(f"MongoDB keeps entities as objects; it cannot store {text!r} as one")
        if "id" not in fields:
            raise ValueError(
                "MongoDB keeps an entity's id as the document's _id, which no document lacks"
            )

        def damage(document: dict[str, Any]) -> None:
            kept = {"_id": document["_id"], POSITION: document[POSITION]}
            document.clear()
            document.update(kept, **fields)

        await self._rewrite(entity_name, {"_id": entity_id}, damage)

    async def _rewrite(
        self, collection: str, query: dict[str, Any], damage: Callable[[dict[str, Any]], None]
    ) -> None:
        async with self._database() as database:
            found = await resolved(database[collection].find_one(query))
            if found is None:
                raise LookupError(f"{collection} holds no document {query!r} to damage")
            damage(found)
            await resolved(database[collection].replace_one({"_id": found["_id"]}, found))

    @asynccontextmanager
    async def _database(self) -> AsyncIterator[Any]:
        if self.client is not None:
            yield self.client[self.name]
            return
        assert self.url is not None
        client: pymongo.AsyncMongoClient[dict[str, Any]] = pymongo.AsyncMongoClient(self.url)
        try:
            yield client[self.name]
        finally:
            await client.close()
