"""Reading events that were stored by an older version of their class.

An event class states the version of its stored shape with ``__schema_version__`` (1 unless
said otherwise) and every stored event keeps the version it was written with. When a class
changes shape incompatibly, raise its version and register an *upcaster*: a function that
turns a stored payload of one version into a payload of the next. Reading applies the chain
from the stored version up to the current one, so history is never rewritten and the rest of
the code only ever sees the current class::

    @dataclass
    class TaskCreated(Event):
        __schema_version__ = 2
        task_id: str = ""
        name: str = ""          # was ``title`` in version 1

    @upcaster(TaskCreated, from_version=1)
    def title_became_name(data: dict) -> dict:
        data["name"] = data.pop("title", "")
        return data
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from victor_core.errors import ConfigurationError, SerializationError

if TYPE_CHECKING:
    from victor_core.eventsourcing.events import Event

#: A stored payload: the event's fields as JSON-compatible data.
Payload = dict[str, Any]
#: Turns a payload of version N into a payload of version N + 1.
Upcast = Callable[[Payload], Payload]


def schema_version_of(event_type: type[Event]) -> int:
    """The current stored-shape version of *event_type* (its ``__schema_version__``)."""
    version = getattr(event_type, "__schema_version__", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigurationError(
            f"{event_type.__qualname__}.__schema_version__ is {version!r}; it must be an int "
            ">= 1 (start at 1 and add one for each incompatible change of the fields)"
        )
    return version


def _identity(cls: type) -> tuple[str, str]:
    # By module and name, so a class defined again (a reloaded module) keeps its upcasters.
    return cls.__module__, cls.__qualname__


class UpcasterRegistry:
    """The upcasters of every event class, one per class and version step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[tuple[tuple[str, str], int], Upcast] = {}

    def register(self, event_type: type[Event], *, from_version: int, upcast: Upcast) -> Upcast:
        """Use *upcast* to turn stored *event_type* payloads of *from_version* into the next."""
        current = schema_version_of(event_type)
        name = event_type.__qualname__
        if isinstance(from_version, bool) or not isinstance(from_version, int) or from_version < 1:
            raise ConfigurationError(
                f"from_version must be an int >= 1 (the stored version the upcaster reads), "
                f"got {from_version!r} for {name}"
            )
        if from_version >= current:
            raise ConfigurationError(
                f"an upcaster of {name} from version {from_version} needs the class to be at "
                f"version {from_version + 1} or later, but {name}.__schema_version__ is "
                f"{current}; raise __schema_version__ on the class first"
            )
        if not callable(upcast):
            raise ConfigurationError(f"the upcaster of {name} must be callable, got {upcast!r}")
        key = (_identity(event_type), from_version)
        with self._lock:
            existing = self._steps.get(key)
            # The same function registered again (a reloaded module) replaces itself.
            if existing is not None and _function_identity(existing) != _function_identity(upcast):
                raise ConfigurationError(
                    f"{name} already has an upcaster from version {from_version} "
                    f"({_describe(existing)}); each version step has exactly one"
                )
            self._steps[key] = upcast
        return upcast

    def upcaster(self, event_type: type[Event], *, from_version: int) -> Callable[[Upcast], Upcast]:
        """Decorator form of :meth:`register`."""

        def decorate(upcast: Upcast) -> Upcast:
            return self.register(event_type, from_version=from_version, upcast=upcast)

        return decorate

    def upcast(self, event_type: type[Event], payload: Payload, stored_version: int) -> Payload:
        """*payload*, stored at *stored_version*, brought to the class's current version."""
        current = schema_version_of(event_type)
        name = event_type.__qualname__
        if stored_version > current:
            raise SerializationError(
                f"it was stored with schema version {stored_version} of {name}, but this "
                f"process knows version {current} only: it was written by newer code. Deploy "
                "that code here too (never lower __schema_version__ of a class in use)"
            )
        version = stored_version
        while version < current:
            step = self._steps.get((_identity(event_type), version))
            if step is None:
                raise SerializationError(
                    f"it was stored with schema version {version} of {name}, which is now at "
                    f"version {current}, and no upcaster reads version {version}: register "
                    f"one with `@upcaster({name}, from_version={version})`"
                )
            try:
                upcasted = step(payload)
            except Exception as exc:
                raise SerializationError(
                    f"the upcaster of {name} from version {version} ({_describe(step)}) "
                    f"failed: {type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(upcasted, dict):
                raise SerializationError(
                    f"the upcaster of {name} from version {version} ({_describe(step)}) "
                    f"returned {type(upcasted).__name__}; it must return the payload dict"
                )
            payload = upcasted
            version += 1
        return payload

    def versions(self, event_type: type[Event]) -> list[int]:
        """The stored versions of *event_type* that have an upcaster, in order."""
        wanted = _identity(event_type)
        return sorted(version for (identity, version) in self._steps if identity == wanted)


def _function_identity(function: Callable[..., Any]) -> tuple[str, str]:
    return (
        getattr(function, "__module__", "") or "",
        getattr(function, "__qualname__", repr(function)),
    )


def _describe(function: Callable[..., Any]) -> str:
    module, qualname = _function_identity(function)
    return f"{module}.{qualname}" if module else qualname


#: The registry the default :class:`~victor_core.backend.EventSerializer` reads upcasters from.
upcasters = UpcasterRegistry()


def upcaster(
    event_type: type[Event], *, from_version: int, registry: UpcasterRegistry | None = None
) -> Callable[[Upcast], Upcast]:
    """Register the decorated function as *event_type*'s upcaster from *from_version*.

    The function receives the stored payload (a dict of JSON-compatible values, as written
    by version *from_version* of the class) and returns the payload of the next version.
    It goes to :data:`upcasters` unless another *registry* is given.
    """
    target = registry if registry is not None else upcasters
    return target.upcaster(event_type, from_version=from_version)
