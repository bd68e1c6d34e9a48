"""Handing committed events on: to an ``EventDispatcher``, anything like it, or a callable."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Protocol

from victor_core.eventsourcing.events import Event


class EventSink(Protocol):
    """Where committed events go: an :class:`~victor_core.EventDispatcher`, or alike."""

    def dispatch(self, event: Event, /) -> Awaitable[object]:
        """Handle one committed event."""


#: What ``dispatcher=`` accepts: an object with ``async dispatch(event)``, or an async callable.
Dispatcher = EventSink | Callable[[Event], Awaitable[object] | None]


async def dispatch(dispatcher: Dispatcher, event: Event) -> None:
    """Give *event* to *dispatcher*, awaiting what it returns."""
    sink = getattr(dispatcher, "dispatch", None)
    outcome = sink(event) if callable(sink) else dispatcher(event)  # type: ignore[operator]
    if inspect.isawaitable(outcome):
        await outcome
