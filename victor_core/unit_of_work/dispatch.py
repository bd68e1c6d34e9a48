"""Handing committed events on: to an ``EventDispatcher``, anything like it, or a callable."""

from __future__ import annotations

import inspect

from victor_core.backend.transactions import Dispatcher
from victor_core.eventsourcing.events import Event


async def dispatch(dispatcher: Dispatcher, event: Event) -> None:
    """Give *event* to *dispatcher*, awaiting what it returns."""
    sink = getattr(dispatcher, "dispatch", None)
    outcome = sink(event) if callable(sink) else dispatcher(event)  # type: ignore[operator]
    if inspect.isawaitable(outcome):
        await outcome
