"""The registry of stored event type names.

Stored events carry a type name, not a Python import path, so that moving a class to
another module does not orphan its history, and renaming it has a supported path: register
the new class with the old name as an alias.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from victor_core.errors import EventTypeConflict, UnknownEventType

if TYPE_CHECKING:
    from victor_core.eventsourcing.events import Event

_E = TypeVar("_E", bound="type[Event]")


def _identity(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


class EventTypeRegistry:
    """Maps stored type names to event classes and back.

    Subclasses of :class:`Event` register themselves under their default name when they are
    defined. Defining a class again under the same module and qualified name (a reloaded
    module, a re-run notebook cell) replaces the old one. Two *different* classes may share
    a default name until one of them has to be read back: then the ambiguity is an error
    rather than a guess. An explicit :meth:`register` settles such a question for its names.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._automatic: dict[str, list[type[Event]]] = {}
        self._explicit: dict[str, type[Event]] = {}
        self._name_of: dict[type[Event], str] = {}

    def register(self, cls: _E, *, name: str | None = None, aliases: Iterable[str] = ()) -> _E:
        """Register *cls* under *name* (default: its ``__event_type__`` or class name).

        *aliases* are older names still found in storage, for instance after a rename;
        reading them yields *cls*, writing always uses *name*. Usable as a decorator.
        """
        primary = name or _default_name(cls)
        with self._lock:
            for each in (primary, *aliases):
                claimed = self._explicit.get(each)
                if claimed is not None and _identity(claimed) != _identity(cls):
                    raise EventTypeConflict(
                        f"the stored event type {each!r} is already registered for "
                        f"{claimed.__module__}.{claimed.__qualname__}; choose another name "
                        f"for {cls.__module__}.{cls.__qualname__}"
                    )
            for each in (primary, *aliases):
                self._explicit[each] = cls
            self._name_of[cls] = primary
        return cls

    def register_subclass(self, cls: type[Event]) -> None:
        """Called by ``Event.__init_subclass__``: register *cls*, replacing earlier versions."""
        with self._lock:
            identity = _identity(cls)
            earlier = [old for old in self._name_of if _identity(old) == identity]
            name = self._name_of[earlier[-1]] if earlier else _default_name(cls)
            for old in earlier:
                del self._name_of[old]
            for each, claimed in list(self._explicit.items()):
                if _identity(claimed) == identity:
                    self._explicit[each] = cls
            self._name_of[cls] = name
            candidates = self._automatic.get(name, [])
            self._automatic[name] = [c for c in candidates if _identity(c) != identity] + [cls]

    def name_of(self, cls: type[Event]) -> str:
        """The name *cls* is stored under."""
        try:
            return self._name_of[cls]
        except KeyError:
            self.register_subclass(cls)
            return self._name_of[cls]

    def resolve(self, name: str) -> type[Event]:
        """The class stored events named *name* are read into."""
        explicit = self._explicit.get(name)
        if explicit is not None:
            return explicit
        candidates = self._automatic.get(name)
        if not candidates:
            raise UnknownEventType(name, self.names())
        if len(candidates) > 1:
            shown = " and ".join(f"{c.__module__}.{c.__qualname__}" for c in candidates)
            raise EventTypeConflict(
                f"the stored event type {name!r} is claimed by {shown}; give each class a "
                "distinct stored name, e.g. `__event_type__ = 'billing.InvoicePaid'`, or "
                "register one explicitly with `event_types.register(cls, name=...)`"
            )
        return candidates[0]

    def names(self) -> list[str]:
        """Every registered name, aliases included."""
        return sorted({*self._automatic, *self._explicit})

    def __contains__(self, name: object) -> bool:
        return name in self._automatic or name in self._explicit


def _default_name(cls: type) -> str:
    explicit = cls.__dict__.get("__event_type__")
    return explicit if isinstance(explicit, str) and explicit else cls.__name__


#: The registry every :class:`Event` subclass joins when it is defined.
event_types = EventTypeRegistry()
