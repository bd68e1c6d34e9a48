"""The task tracker, wired together: storage from one URL, the mediator, the read side.

Everything a caller does goes through :attr:`TaskTracker.mediator`. Its command bus runs
validation first, then invalidates cached answers after a successful write, then retries
transient failures and lost races with other writers; its query bus answers from a cache
when it can::

    command:  Validation -> InvalidateAfterWrite -> Retry -> SimulatedOutage -> handler
    query:    Caching -> handler (catches the board up, then reads it)
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from victor_core import (
    AggregateRepository,
    Backend,
    CachingQueryMiddleware,
    CapabilityNotSupported,
    ConcurrencyError,
    EventStore,
    HandlerRegistry,
    Mediator,
    ProjectionRunner,
    Repository,
    RetryCommandMiddleware,
    StaleEntity,
    ValidationCommandMiddleware,
    default_registry,
    open_event_store,
    open_repository,
)
from victor_core.backend import parse_url
from victor_core.cqrs.middleware.retry import DEFAULT_TRANSIENT
from victor_demo.board import CheckpointsInProcess, TaskBoard
from victor_demo.domain import Member, Task
from victor_demo.handlers import BoardQueries, TaskCommands
from victor_demo.messages import ShowBoard
from victor_demo.middleware import InvalidateAfterWrite, SimulatedOutage
from victor_demo.units import UnitsOfWork


class TaskTracker:
    """A small task tracker on any backend that keeps both events and entities.

    Open one with ``await TaskTracker.open(url)``; extra keyword options go to the event
    store and the repository alike (``client=`` and ``database=`` for MongoDB, say).
    :meth:`close` closes both.
    """

    def __init__(self, backend: Backend, store: EventStore, members: Repository[Member]) -> None:
        self.backend = backend
        self.store = store
        self.members = members
        self.tasks = AggregateRepository(store, Task)
        self.units = UnitsOfWork(backend, self.tasks, members)

        self.board = TaskBoard()
        # Checkpoints live next to the events when the backend keeps them there.
        self.checkpoints = store.checkpoints or CheckpointsInProcess()
        self.runner = ProjectionRunner(store, self.board, checkpoints=self.checkpoints)

        # Its own registry: the tracker sees only the handlers it registers itself.
        self.mediator = Mediator(registry=HandlerRegistry())
        self.cache = CachingQueryMiddleware(ttl=None)
        self.invalidation = InvalidateAfterWrite(self.cache, ShowBoard)
        self.outage = SimulatedOutage()
        # Handlers load what they change on every attempt, so a command that lost a race
        # with another writer (a stale version) is safe to run again, like a busy database.
        self.retry = RetryCommandMiddleware(
            max=3, retry_on=(*DEFAULT_TRANSIENT, ConcurrencyError, StaleEntity), base_delay=0.01
        )
        for middleware in (
            ValidationCommandMiddleware(),
            self.invalidation,
            self.retry,
            self.outage,
        ):
            self.mediator.command_bus.use(middleware)
        self.mediator.query_bus.use(self.cache)

        self.commands = TaskCommands(self.units)
        self.commands.register(self.mediator)
        self.queries = BoardQueries(self.runner, self.board, members)
        self.queries.register(self.mediator)

    @classmethod
    async def open(cls, url: str, **options: Any) -> TaskTracker:
        """The tracker on the backend *url* names; what it opened is closed if it fails."""
        backend = default_registry().backend_for(parse_url(url))
        async with AsyncExitStack() as on_failure:
            try:
                store = open_event_store(url, **options)
                on_failure.push_async_callback(store.close)
                members = open_repository(url, Member, **options)
                on_failure.push_async_callback(members.close)
            except CapabilityNotSupported as missing:
                raise CapabilityNotSupported(
                    f"the task tracker keeps tasks as events and members in a repository, "
                    f"so it needs a backend with both: {missing}. Run it on sqlite:// or "
                    "memory:// instead"
                ) from missing
            tracker = cls(backend, store, members)
            on_failure.pop_all()
        return tracker

    async def close(self) -> None:
        """Close the member repository and the event store (with its checkpoints)."""
        try:
            await self.members.close()
        finally:
            await self.store.close()

    async def __aenter__(self) -> TaskTracker:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.close()
