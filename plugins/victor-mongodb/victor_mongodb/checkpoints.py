"""The MongoDB checkpoint store: one document per projection, keyed by its name."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from victor_core import utc_now
from victor_core.backend import BackendURL, CheckpointStore, ConfigurationError
from victor_mongodb.database import MongoDatabase
from victor_mongodb.errors import translated
from victor_mongodb.event_log import timestamp_text
from victor_mongodb.transactions import MongoTransactionManager

#: The collection holding checkpoint documents.
CHECKPOINTS = "victor_checkpoints"
#: The collection holding one lease document per projection: its owner and ``until``.
LEASES = "victor_leases"


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
        self.database.declare(LEASES)

    async def _checkpoints(self) -> Any:
        await self.database.prepare(CHECKPOINTS)
        return self.database.collection(CHECKPOINTS)

    async def _leases(self) -> Any:
        await self.database.prepare(LEASES)
        return self.database.collection(LEASES)

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

    async def read_checkpoints(self) -> dict[str, int]:
        checkpoints = self.database.collection(CHECKPOINTS)
        with translated("reading every checkpoint"):
            found = [doc async for doc in checkpoints.find({}, **self.database.joined())]
        return {str(doc["_id"]): int(doc["position"]) for doc in found}

    async def swap_checkpoint(self, name: str, expected: int, position: int) -> int | None:
        checkpoints = await self._checkpoints()
        change = {"$set": {"position": position, "updated_at": timestamp_text(utc_now())}}
        joined = self.database.joined()
        collated = self.database.collated()
        with translated(f"advancing the checkpoint of projection {name!r}", writing=True):
            moved = await checkpoints.update_one(
                {"_id": {"$eq": name}, "position": {"$eq": expected}},
                change,
                **joined,
                **collated,
            )
            if moved.matched_count == 1:
                return None
            if expected == 0:
                # Never saved counts as 0: the first save creates the document, and of two
                # runners creating it, the unique _id lets one through.
                try:
                    await checkpoints.insert_one(
                        {"_id": name, "position": position, **change["$set"]}, **joined
                    )
                    return None
                except DuplicateKeyError:
                    if joined:
                        raise
            found = await checkpoints.find_one({"_id": {"$eq": name}}, **joined, **collated)
        return 0 if found is None else int(found["position"])

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        leases = await self._leases()
        collated = self.database.collated()
        claimable = {
            "_id": {"$eq": name},
            "$or": [{"owner": {"$eq": owner}}, {"until": {"$lte": now}}],
        }
        change = {"$set": {"owner": owner, "until": until}}
        with translated(f"taking the lease of projection {name!r}", writing=True):
            taken = await leases.update_one(claimable, change, **collated)
            if taken.matched_count == 1:
                return True
            try:
                await leases.insert_one({"_id": name, "owner": owner, "until": until})
            except DuplicateKeyError:
                return False  # held by another runner, and not run out
        return True

    async def drop_lease(self, name: str, owner: str) -> None:
        leases = await self._leases()
        with translated(f"releasing the lease of projection {name!r}", writing=True):
            await leases.delete_one(
                {"_id": {"$eq": name}, "owner": {"$eq": owner}}, **self.database.collated()
            )

    def transaction_manager(self) -> MongoTransactionManager:
        """The manager of this store's client: writes through one client commit together."""
        return MongoTransactionManager(self.database)

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()
