"""``SQLiteUnitOfWork``: a unit of work bound to one SQLite database.

It opens the repositories and the event store it needs on its database, so that entities
and the events of aggregates always commit in one transaction; events are dispatched once
that transaction has committed.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any, TypeVar

from cattrs.preconf.json import JsonConverter

from victor_core import Aggregate, AggregateRepository, Entity, UnitOfWork
from victor_core.backend import ConfigurationError, Dispatcher, EventSerializer
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.repository import SQLiteRepository
from victor_sqlite.settings import SQLiteSettings
from victor_sqlite.store import SQLiteEventStore
from victor_sqlite.transactions import SQLiteResource, database_of

E = TypeVar("E", bound=Entity)
A = TypeVar("A", bound=Aggregate)


class SQLiteUnitOfWork(UnitOfWork):
    """A :class:`~victor_core.UnitOfWork` whose every change commits in one SQLite transaction.

    ``SQLiteUnitOfWork("app.db")`` opens (lazily) and, when the unit of work is closed or
    its ``async with`` block ends, closes its own connection; ``SQLiteUnitOfWork(database)``
    shares an open :class:`SQLiteDatabase` and leaves closing it to its owner, which suits a
    unit of work per request. Options are those of the database (``synchronous``,
    ``journal_mode``, ``busy_timeout``).

    :meth:`repository` and :meth:`aggregates` open and register repositories on the
    database; repositories opened elsewhere may be registered too when they are on the same
    file. Events of committed aggregates go to *dispatcher* after the commit, never before.
    ``plugins=`` is deprecated and ignored, as it is for ``UnitOfWork``.
    """

    def __init__(
        self,
        database: SQLiteDatabase | str | os.PathLike[str] | SQLiteSettings = ":memory:",
        *,
        dispatcher: Dispatcher | None = None,
        serializer: EventSerializer | None = None,
        plugins: object = None,
        **options: Any,
    ) -> None:
        super().__init__(dispatcher=dispatcher, plugins=plugins)
        if isinstance(database, SQLiteDatabase):
            if options:
                raise ConfigurationError(
                    "connection options belong to the SQLiteDatabase that is being shared; "
                    f"got {', '.join(sorted(options))} as well"
                )
            self.database, self._owns_database = database, False
        else:
            self.database, self._owns_database = SQLiteDatabase(database, **options), True
        self._resource = SQLiteResource.of(self.database)
        self._serializer = serializer
        self._event_store: SQLiteEventStore | None = None
        self._repositories: dict[type, Any] = {}

    @property
    def event_store(self) -> SQLiteEventStore:
        """The event store on this unit of work's database (opened on first use)."""
        if self._event_store is None:
            self._event_store = SQLiteEventStore(self.database, serializer=self._serializer)
        return self._event_store

    def repository(
        self,
        entity_type: type[E],
        *,
        indexes: tuple[str, ...] | list[str] = (),
        table: str | None = None,
        converter: JsonConverter | None = None,
    ) -> SQLiteRepository[E]:
        """The registered repository of *entity_type* on this database, opened on first use."""
        existing = self._repositories.get(entity_type)
        if existing is None:
            existing = SQLiteRepository(
                entity_type, self.database, indexes=indexes, table=table, converter=converter
            )
            self.register_repository(existing, entity_type)
        if not isinstance(existing, SQLiteRepository):
            raise ConfigurationError(
                f"{entity_type.__qualname__} is registered with {type(existing).__qualname__}, "
                "not an SQLiteRepository"
            )
        return existing

    def aggregates(
        self,
        aggregate_type: type[A],
        *,
        snapshot_every: int | None = None,
        snapshots: bool | None = None,
    ) -> AggregateRepository[A]:
        """The registered repository of *aggregate_type*, storing its events in this database."""
        existing = self._repositories.get(aggregate_type)
        if existing is None:
            existing = AggregateRepository(
                self.event_store,
                aggregate_type,
                snapshot_every=snapshot_every,
                snapshots=snapshots,
            )
            self.register_repository(existing, aggregate_type)
        if not isinstance(existing, AggregateRepository):
            raise ConfigurationError(
                f"{aggregate_type.__qualname__} is registered with "
                f"{type(existing).__qualname__}, not an AggregateRepository"
            )
        return existing

    def register_repository(self, repository: object, entity_type: type) -> None:
        """Register *repository*; it must store its data in this unit of work's database."""
        inner = getattr(repository, "base", repository)  # through a CachedRepository
        if isinstance(inner, AggregateRepository):
            inner = inner.store
        database = database_of(inner)
        if database is None or SQLiteResource.of(database) != self._resource:
            where = "outside SQLite" if database is None else f"in {SQLiteResource.of(database)}"
            raise ConfigurationError(
                f"this SQLiteUnitOfWork commits to {self._resource}, but the repository of "
                f"{getattr(entity_type, '__qualname__', entity_type)} stores its data {where}; "
                "open it on the same database (uow.repository(Type) does), or use a UnitOfWork"
            )
        super().register_repository(repository, entity_type)
        self._repositories.setdefault(entity_type, repository)

    async def close(self) -> None:
        """Close the database if this unit of work opened it. Closing twice is harmless."""
        if self._owns_database:
            await self.database.close()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            await self.close()

    def __repr__(self) -> str:
        return f"SQLiteUnitOfWork({self.database.settings.path!r})"
