"""``PostgresEventStore``: events, snapshots and checkpoints in one PostgreSQL database."""

from __future__ import annotations

from typing import Any

from victor_core import EventStore
from victor_core.backend import ConfigurationError, EventSerializer
from victor_postgres.checkpoints import PostgresCheckpointStore
from victor_postgres.database import PostgresDatabase
from victor_postgres.event_log import PostgresEventRecorder
from victor_postgres.settings import PostgresSettings
from victor_postgres.snapshots import PostgresSnapshotRecorder


class PostgresEventStore(EventStore):
    """An event store in a PostgreSQL database, with its snapshots and projection checkpoints.

    ``PostgresEventStore("postgresql://app@db/app")`` opens (lazily) and owns a connection
    pool; ``PostgresEventStore(database)`` shares an open :class:`PostgresDatabase` with
    other components and leaves closing it to its owner. Options: ``min_size``,
    ``max_size``, ``pool_timeout``, ``connect_timeout``, ``idle_in_transaction_timeout``,
    ``notify`` (announce appends with ``NOTIFY``, default True), ``catch_up_wait`` (how long
    ``read_all`` waits for an older open transaction that holds committed events back, 1
    second by default) and ``serializer``.
    """

    def __init__(
        self,
        url: str | PostgresSettings | PostgresDatabase,
        *,
        serializer: EventSerializer | None = None,
        notify: bool = True,
        catch_up_wait: float = 1.0,
        **options: Any,
    ) -> None:
        if isinstance(url, PostgresDatabase):
            if options:
                raise ConfigurationError(
                    "connection options belong to the PostgresDatabase that is being shared; "
                    f"got {', '.join(sorted(options))} as well"
                )
            database, owned = url, False
        else:
            database, owned = PostgresDatabase(url, **options), True
        if not isinstance(notify, bool):
            raise ConfigurationError(f"notify must be True or False, got {notify!r}")
        if (
            isinstance(catch_up_wait, bool)
            or not isinstance(catch_up_wait, int | float)
            or not 0 <= catch_up_wait < float("inf")
        ):
            raise ConfigurationError(
                f"catch_up_wait must be a number of seconds >= 0, got {catch_up_wait!r}"
            )
        self.database = database
        super().__init__(
            PostgresEventRecorder(
                database, owns_database=owned, notify=notify, catch_up_wait=float(catch_up_wait)
            ),
            serializer=serializer,
            snapshots=PostgresSnapshotRecorder(database),
            checkpoints=PostgresCheckpointStore(database),
        )

    def __repr__(self) -> str:
        return f"PostgresEventStore({self.database.settings.shown!r})"
