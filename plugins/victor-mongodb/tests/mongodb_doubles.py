"""Test doubles shared by the MongoDB backend's own tests.

``FLAVOURS`` parametrizes tests over both client APIs; :class:`Interleaving` wraps a
collection so that a test can make "another writer" act at the exact moment between two
steps of an operation, which the in-process stand-ins, running each call without yielding,
would otherwise never show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from victor_core import Entity, Event

FLAVOURS = ["pymongo", "motor"]


@dataclasses.dataclass
class Noted(Event):
    __event_type__ = "victor.test.mongodb.Noted"
    text: str = ""


@dataclasses.dataclass
class Note(Entity):
    __entity_name__ = "victor_test_notes"
    text: str = ""
    rank: int = 0
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    extra: Any = None


class Interleaving:
    """A collection whose next call named *method* first runs *meanwhile* (once)."""

    def __init__(self, inner: Any, method: str, meanwhile: Callable[[], Awaitable[None]]) -> None:
        self._inner = inner
        self._method = method
        self._meanwhile: Callable[[], Awaitable[None]] | None = meanwhile
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name != self._method:
            return attribute

        async def intercepted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if self._meanwhile is not None:
                meanwhile, self._meanwhile = self._meanwhile, None
                await meanwhile()
            return await attribute(*args, **kwargs)

        return intercepted


class SessionRecording:
    """A collection that notes the session each call carried, then runs it without one.

    The in-process stand-ins have no sessions; this shows which calls would have run inside
    the transaction on a server.
    """

    def __init__(self, inner: Any, name: str, log: list[tuple[str, str, object]]) -> None:
        self._inner = inner
        self._name = name
        self._log = log

    def __getattr__(self, method: str) -> Any:
        attribute = getattr(self._inner, method)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._log.append((self._name, method, kwargs.pop("session", None)))
            return attribute(*args, **kwargs)

        return call
