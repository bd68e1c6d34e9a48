"""Aggregates: domain objects whose state is the sum of their events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Self

from victor_core.errors import VictorError
from victor_core.eventsourcing.events import Event


class Aggregate:
    """Base class for event-sourced domain objects.

    A command method decides what happened and calls :meth:`apply` with an event; the
    matching ``_apply_<EventClassName>`` method changes the state. The same methods rebuild
    the state from history, so there is one place where each event's meaning is written::

        class TaskAggregate(Aggregate):
            def create(self, task_id: str, title: str) -> None:
                self.apply(TaskCreated(task_id=task_id, title=title))

            def _apply_TaskCreated(self, event: TaskCreated) -> None:
                self.id = event.task_id
                self.title = event.title
    """

    def __init__(self) -> None:
        #: The aggregate's identity, which is also the id of its event stream.
        self.id: str = ""
        #: Version after every applied event, pending ones included.
        self.version: int = 0
        self._pending: list[Event] = []

    @property
    def pending_events(self) -> list[Event]:
        """Events applied since the last :meth:`mark_events_committed`, oldest first."""
        return list(self._pending)

    @property
    def committed_version(self) -> int:
        """The stream version the aggregate was loaded or last saved at."""
        return self.version - len(self._pending)

    def apply(self, event: Event) -> None:
        """Apply a new event: change the state and remember the event for saving."""
        self._mutate(event)
        self._pending.append(event)

    def mark_events_committed(self) -> None:
        """Forget the pending events, once they are safely stored."""
        self._pending.clear()

    def load_from_history(self, events: Iterable[Event]) -> Self:
        """Rebuild the state from stored events; nothing becomes pending."""
        for event in events:
            self._mutate(event)
        return self

    def _mutate(self, event: Event) -> None:
        _handler_for(type(self), type(event))(self, event)
        self.version += 1


_handlers: dict[tuple[type[Aggregate], type[Event]], Callable[[Any, Event], None]] = {}


def _handler_for(
    aggregate_type: type[Aggregate], event_type: type[Event]
) -> Callable[[Any, Event], None]:
    """``_apply_<Name>`` for the event's class or, failing that, its nearest base class."""
    key = (aggregate_type, event_type)
    handler = _handlers.get(key)
    if handler is None:
        for klass in event_type.__mro__:
            if klass is Event:
                break
            found = getattr(aggregate_type, f"_apply_{klass.__name__}", None)
            if callable(found):
                handler = found
                break
        if handler is None:
            raise VictorError(
                f"{aggregate_type.__qualname__} cannot apply {event_type.__qualname__}: "
                f"define `def _apply_{event_type.__name__}(self, event)` on it"
            )
        _handlers[key] = handler
    return handler
