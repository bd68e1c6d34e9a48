"""``SQLiteEventStore``: the seed's production event store."""

from __future__ import annotations

import os
from typing import Any

from victor_core import EventStore
from victor_core.backend import ConfigurationError, EventSerializer
from victor_sqlite.checkpoints import SQLiteCheckpointStore
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.event_log import SQLiteEventRecorder
from victor_sqlite.settings import SQLiteSettings
from victor_sqlite.snapshots import SQLiteSnapshotRecorder


class SQLiteEventStore(EventStore):
    """An event store in an SQLite file, with its snapshots and projection checkpoints.

    ``SQLiteEventStore("events.db")`` opens (lazily) and owns its own connection;
    ``SQLiteEventStore("sqlite:///events.db?synchronous=NORMAL")`` takes a URL;
    ``SQLiteEventStore(database)`` shares an open :class:`SQLiteDatabase` with other
    components and leaves closing it to its owner. Without a path the database lives in
    memory and ends with the store.

    Options: ``synchronous`` (``"FULL"``), ``journal_mode`` (``"WAL"``), ``busy_timeout``
    (10 seconds), and ``serializer``. Any number of stores, in any number of processes, may
    append to one file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | SQLiteSettings | SQLiteDatabase = ":memory:",
        *,
        serializer: EventSerializer | None = None,
        **options: Any,
    ) -> None:
        if isinstance(path, SQLiteDatabase):
            if options:
                raise ConfigurationError(
                    "connection options belong to the SQLiteDatabase that is being shared; "
                    f"got {', '.join(sorted(options))} as well"
                )
            database, owned = path, False
        else:
            database, owned = SQLiteDatabase(path, **options), True
        self.database = database
        super().__init__(
            SQLiteEventRecorder(database, owns_database=owned),
            serializer=serializer,
            snapshots=SQLiteSnapshotRecorder(database),
            checkpoints=SQLiteCheckpointStore(database),
        )

    def __repr__(self) -> str:
        return f"SQLiteEventStore({self.database.settings.path!r})"
