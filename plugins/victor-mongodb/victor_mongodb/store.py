"""``MongoEventStore``: the event store on a MongoDB database."""

from __future__ import annotations

from typing import Any

from victor_core import EventStore
from victor_core.backend import BackendURL, ConfigurationError, EventSerializer
from victor_mongodb.checkpoints import MongoCheckpointStore
from victor_mongodb.database import MongoDatabase
from victor_mongodb.event_log import MongoEventRecorder
from victor_mongodb.settings import MongoSettings
from victor_mongodb.snapshots import MongoSnapshotRecorder


class MongoEventStore(EventStore):
    """An event store in a MongoDB database, with its snapshots and projection checkpoints.

    ``MongoEventStore("mongodb://localhost:27017/app")`` opens (lazily) and owns its own
    :class:`pymongo.AsyncMongoClient`; other keyword options go to that client.
    ``MongoEventStore(client=client, database="app")`` uses a client the application
    holds, PyMongo async or Motor, and leaves closing it to the application;
    ``MongoEventStore(database)`` shares a :class:`MongoDatabase` with other components.

    Nothing touches the network until the first read or write. Appends are atomic without
    transactions and ``read_all`` never skips an event that commits late; see
    :mod:`victor_mongodb.event_log` for how, and docs/mongodb.md for what it costs.
    """

    def __init__(
        self,
        url: str | BackendURL | MongoSettings | MongoDatabase | None = None,
        *,
        client: Any = None,
        database: str | None = None,
        serializer: EventSerializer | None = None,
        **options: Any,
    ) -> None:
        if isinstance(url, MongoDatabase):
            if client is not None or database is not None or options:
                raise ConfigurationError(
                    "connection options belong to the MongoDatabase that is being shared; "
                    "pass the MongoDatabase alone"
                )
            shared, owned = url, False
        else:
            shared = MongoDatabase(url, client=client, database=database, **options)
            owned = True
        self.database = shared
        super().__init__(
            MongoEventRecorder(shared, owns_database=owned),
            serializer=serializer,
            snapshots=MongoSnapshotRecorder(shared),
            checkpoints=MongoCheckpointStore(shared),
        )

    def __repr__(self) -> str:
        return f"MongoEventStore({self.database.settings.shown!r}, database={self.database.name!r})"
