"""Projections build read models from events; the dispatcher hands events to them.

A projection declares one handler per event class it cares about, named after the class,
and ignores every other event, so adding an event type never breaks existing projections::

    class TaskList(Projection):
        def __init__(self) -> None:
            self.tasks: dict[str, str] = {}

        async def handle_TaskCreated(self, event: TaskCreated) -> None:
            self.tasks[event.task_id] = event.title

    dispatcher = EventDispatcher()
    dispatcher.register(TaskList())
    await dispatcher.dispatch(TaskCreated(task_id="t1", title="Write docs"))

A handler named after a base class also receives the subclasses' events. Handlers may be
coroutines or plain functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from victor_core.errors import ConfigurationError
from victor_core.eventsourcing.events import Event
from victor_core.eventsourcing.records import RecordedEvent

if TYPE_CHECKING:
    from victor_core.unit_of_work import UnitOfWork

P = TypeVar("P", bound="Projection")

Handler = Callable[[Any, Event], Awaitable[None] | None]


class Projection:
    """Base class of read models fed by events through ``handle_<EventClassName>`` methods.

    ``__projection_name__`` names the projection's checkpoint when a
    :class:`~victor_core.eventsourcing.projection_runner.ProjectionRunner` feeds it from the
    store; it defaults to the class name. To support rebuilding from zero, define
    ``async def reset(self)`` to clear the read model.
    """

    #: The name of the projection's checkpoint; the class name when not set.
    __projection_name__: ClassVar[str | None] = None

    #: While a runner given ``unit_of_work=`` hands over a batch: the unit of work that
    #: commits the batch's read-model changes together with the checkpoint.
    unit_of_work: UnitOfWork | None = None

    @classmethod
    def projection_name(cls) -> str:
        """The name the projection's checkpoint is stored under."""
        explicit = cls.__dict__.get("__projection_name__")
        return explicit if isinstance(explicit, str) and explicit else cls.__name__

    def handles(self, event_type: type[Event]) -> bool:
        """True when the projection has a handler for *event_type* (or one of its bases)."""
        return _handler_for(type(self), event_type) is not None

    async def handle(self, event: Event) -> None:
        """Pass *event* to its ``handle_<EventClassName>`` method; ignore it when there is none."""
        handler = _handler_for(type(self), type(event))
        if handler is not None:
            outcome = handler(self, event)
            if inspect.isawaitable(outcome):
                await outcome


_handlers: dict[tuple[type[Projection], type[Event]], Handler | None] = {}


def _handler_for(projection_type: type[Projection], event_type: type[Event]) -> Handler | None:
    key = (projection_type, event_type)
    try:
        return _handlers[key]
    except KeyError:
        pass
    found: Handler | None = None
    for klass in event_type.__mro__:
        if klass is Event or klass is object:
            break
        candidate = getattr(projection_type, f"handle_{klass.__name__}", None)
        if callable(candidate):
            found = candidate
            break
    _handlers[key] = found
    return found


class EventDispatcher:
    """Hands each event to every registered projection, in registration order.

    Dispatching is in-process and immediate: a handler that raises stops the dispatch and
    the error reaches the caller. To feed projections from the store, with checkpoints and
    catch-up after a restart, use a
    :class:`~victor_core.eventsourcing.projection_runner.ProjectionRunner`.
    """

    def __init__(self) -> None:
        self._projections: list[Projection] = []

    def register(self, projection: P) -> P:
        """Send future events to *projection*; registering it twice has no further effect."""
        if not isinstance(projection, Projection):
            raise ConfigurationError(
                f"EventDispatcher.register expects a Projection, got "
                f"{type(projection).__qualname__}; derive the read model from "
                "victor_core.Projection and name its handlers handle_<EventClassName>"
            )
        if not any(registered is projection for registered in self._projections):
            self._projections.append(projection)
        return projection

    def unregister(self, projection: Projection) -> None:
        """Stop sending events to *projection*."""
        self._projections = [p for p in self._projections if p is not projection]

    @property
    def projections(self) -> tuple[Projection, ...]:
        """The registered projections, in the order they receive events."""
        return tuple(self._projections)

    async def dispatch(self, event: Event | RecordedEvent) -> None:
        """Hand *event* (or the event of a recorded one) to every registered projection."""
        plain = event.event if isinstance(event, RecordedEvent) else event
        if not isinstance(plain, Event):
            raise ConfigurationError(
                f"dispatch expects an Event or a RecordedEvent, got {type(event).__qualname__}"
            )
        for projection in list(self._projections):
            await projection.handle(plain)

    async def dispatch_all(self, events: Iterable[Event | RecordedEvent]) -> None:
        """Dispatch each of *events* in order."""
        for event in events:
            await self.dispatch(event)
