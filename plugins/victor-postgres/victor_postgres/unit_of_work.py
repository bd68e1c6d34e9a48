"""``PostgresUnitOfWork``: a unit of work bound to one PostgreSQL database.

It opens the repositories and the event store it needs on its database, so that entities
and the events of aggregates always commit in one transaction; events are dispatched once
that transaction has committed.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar

from cattrs.preconf.json import JsonConverter

from victor_core import Aggregate, AggregateRepository, Entity, UnitOfWork
from victor_core.backend import ConfigurationError, Dispatcher, EventSerializer
from victor_postgres.database import PostgresDatabase
from victor_postgres.repository import PostgresRepository
from victor_postgres.settings import PostgresSettings
from victor_postgres.store import PostgresEventStore
from victor_postgres.transactions import database_of, resource_of

E = TypeVar("E", bound=Entity)
A = TypeVar("A", bound=Aggregate)


class PostgresUnitOfWork(UnitOfWork):
    """A :class:`~victor_core.UnitOfWork` whose every change commits in one PostgreSQL transaction.

    ``PostgresUnitOfWork("postgresql://app@db/app")`` opens (lazily) and, when the unit of
    work is closed or its ``async with`` block ends, closes its own pool;
    ``PostgresUnitOfWork(database)`` shares an open :class:`PostgresDatabase` and leaves
    closing it to its owner, which suits a unit of work per request. Options are those of
    the pool (see :class:`PostgresSettings`).

    :meth:`repository` and :meth:`aggregates` open and register repositories on the
    database; repositories opened elsewhere may be registered too when they are on the same
    database and schema. Events of committed aggregates go to *dispatcher* after the commit,
    never before. ``plugins=`` is deprecated and ignored, as it is for ``UnitOfWork``.
    """

    def __init__(
        self,
        database: PostgresDatabase | str | PostgresSettings,
        *,
        dispatcher: Dispatcher | None = None,
        serializer: EventSerializer | None = None,
        plugins: object = None,
        **options: Any,
    ) -> None:
        super().__init__(dispatcher=dispatcher, plugins=plugins)
        if isinstance(database, PostgresDatabase):
            if options:
                raise ConfigurationError(
                    "connection options belong to the PostgresDatabase that is being shared; "
                    f"got {', '.join(sorted(options))} as well"
                )
            self.database, self._owns_database = database, False
        else:
            self.database, self._owns_database = PostgresDatabase(database, **options), True
        self._resource = resource_of(self.database)
        self._serializer = serializer
        self._event_store: PostgresEventStore | None = None
        self._repositories: dict[type, Any] = {}

    @property
    def event_store(self) -> PostgresEventStore:
        """The event store on this unit of work's database (opened on first use)."""
        if self._event_store is None:
            self._event_store = PostgresEventStore(self.database, serializer=self._serializer)
        return self._event_store

    def repository(
        self,
        entity_type: type[E],
        *,
        indexes: tuple[str, ...] | list[str] = (),
        table: str | None = None,
        converter: JsonConverter | None = None,
    ) -> PostgresRepository[E]:
        """The registered repository of *entity_type* on this database, opened on first use."""
        existing = self._repositories.get(entity_type)
        if existing is None:
            existing = PostgresRepository(
                entity_type, self.database, indexes=indexes, table=table, converter=converter
            )
            self.register_repository(existing, entity_type)
        if not isinstance(existing, PostgresRepository):
            raise ConfigurationError(
                f"{entity_type.__qualname__} is registered with {type(existing).__qualname__}, "
                "not an PostgresRepository"
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
        if database is None or resource_of(database) != self._resource:
            where = (
                "outside PostgreSQL" if database is None else f"in {database.settings.describe()}"
            )
            raise ConfigurationError(
                f"this PostgresUnitOfWork commits to {self.database.settings.describe()}, but "
                f"the repository of {getattr(entity_type, '__qualname__', entity_type)} stores "
                f"its data {where}; "
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
        return f"PostgresUnitOfWork({self.database.settings.shown!r})"
