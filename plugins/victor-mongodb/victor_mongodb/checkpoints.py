"""The MongoDB checkpoint store: one document per projection, keyed by its name."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from victor_core import utc_now
from victor_core.backend import BackendURL, CheckpointStore, ConfigurationError
from victor_mongodb.database import MongoDatabase
from victor_mongodb.errors import translated
from victor_mongodb.event_log import timestamp_text

#: The collection holding checkpoint documents.
CHECKPOINTS = "victor_checkpoints"


class MongoCheckpointStore(CheckpointStore):
    """Projection checkpoints in a MongoDB database.

    ``MongoCheckpointStore("mongodb://localhost:27017/read_models")`` opens (and on
    :meth:`close` closes) its own client; ``MongoCheckpointStore(database)`` shares a
    :class:`MongoDatabase`, as the event store's ``checkpoints`` do. Keep the checkpoints in
    the read model's database to update both in one transaction on a replica set.
    """

    def __init__(
        self, database: MongoDatabase | str | BackendURL | None = None, **options: Any
    ) -> None:
        if isinstance(database, MongoDatabase):
            if options:
                raise ConfigurationError(
                    "connection options belong to the MongoDatabase that is being shared; "
                    f"got {', '.join(sorted(options))} as well"
                )
            self.database = database
            self.owns_database = False
        else:
            self.database = MongoDatabase(database, **options)
            self.owns_database = True
        self.database.declare(CHECKPOINTS)

    async def _checkpoints(self) -> Any:
        await self.database.prepare(CHECKPOINTS)
        return self.database.collection(CHECKPOINTS)

    async def read_checkpoint(self, name: str) -> int | None:
        checkpoints = await self._checkpoints()
        with translated(f"reading the checkpoint of projection {name!r}"):
            found = await checkpoints.find_one(
                {"_id": {"$eq": name}}, **self.database.joined(), **self.database.collated()
            )
        return None if found is None else int(found["position"])

    async def write_checkpoint(self, name: str, position: int) -> None:
        checkpoints = await self._checkpoints()
        change = {"$set": {"position": position, "updated_at": timestamp_text(utc_now())}}
        where = f"saving the checkpoint of projection {name!r}"
        joined = self.database.joined()
        collated = self.database.collated()
        try:
            with translated(where, writing=True):
                await checkpoints.update_one(
                    {"_id": name}, change, upsert=True, **joined, **collated
                )
        except DuplicateKeyError:
            if joined:  # the transaction is over; its owner retries it
                raise
            # Two writers raced to create the document: the second one updates it.
            with translated(where, writing=True):
                await checkpoints.update_one({"_id": name}, change, upsert=True, **collated)

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()
