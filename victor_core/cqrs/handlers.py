"""Handlers: what they may be, and where the decorated ones are kept.

A handler is an async function taking the message, or an object whose ``handle`` method is
one. ``@command_handler(T)`` and ``@query_handler(T)`` record a function in a
:class:`HandlerRegistry` (by default :data:`message_handlers`), which every bus and mediator
consults, so declaring a handler next to its domain code is all the wiring it needs.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal, Protocol, TypeAlias, TypeVar

from victor_core.cqrs.errors import DuplicateHandler, InvalidHandler, MessageTypeError
from victor_core.cqrs.messages import Command, CommandResult, Query, QueryResult

Kind: TypeAlias = Literal["command", "query"]

C = TypeVar("C", bound=Command)
Q = TypeVar("Q", bound=Query[Any])
C_contra = TypeVar("C_contra", bound=Command, contravariant=True)
Q_contra = TypeVar("Q_contra", bound=Query[Any], contravariant=True)
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


class CommandHandlerObject(Protocol[C_contra]):
    """A command handler written as an object, for handlers that hold dependencies."""

    async def handle(self, command: C_contra, /) -> CommandResult: ...


class QueryHandlerObject(Protocol[Q_contra]):
    """A query handler written as an object, for handlers that hold dependencies."""

    async def handle(self, query: Q_contra, /) -> QueryResult[Any]: ...


CommandHandler: TypeAlias = (
    Callable[[C_contra], Awaitable[CommandResult]] | CommandHandlerObject[C_contra]
)
QueryHandler: TypeAlias = (
    Callable[[Q_contra], Awaitable[QueryResult[Any]]] | QueryHandlerObject[Q_contra]
)

#: What the bus calls in the end: the handler function, or an object's bound ``handle``.
HandlerCall: TypeAlias = Callable[[Any], Awaitable[Any]]

_BASES: dict[Kind, type] = {"command": Command, "query": Query}


def describe(obj: object) -> str:
    """``module.qualname`` of a function or class, or the type of anything else."""
    target: object = obj if inspect.isfunction(obj) or isinstance(obj, type) else type(obj)
    if inspect.ismethod(obj):
        target = obj.__func__
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", repr(target))
    return f"{module}.{qualname}" if module else qualname


def is_async_callable(obj: object) -> bool:
    """True for async functions and objects whose ``__call__`` is one."""
    if inspect.iscoroutinefunction(obj):
        return True
    call = getattr(type(obj), "__call__", None)  # noqa: B004 - the class's, not the instance's
    return not inspect.isfunction(obj) and inspect.iscoroutinefunction(call)


def handler_call(handler: object, message_type: type) -> HandlerCall:
    """The awaitable callable behind *handler*, or an error saying what a handler must be."""
    if is_async_callable(handler):
        return handler  # type: ignore[return-value]
    handle = getattr(handler, "handle", None)
    if handle is not None and inspect.iscoroutinefunction(handle):
        if isinstance(handler, type):
            raise InvalidHandler(
                f"the handler for {message_type.__qualname__} is the class "
                f"{describe(handler)}; register an instance of it, e.g. "
                f"{handler.__qualname__}(...), so its handle() method is bound"
            )
        return handle  # type: ignore[no-any-return]
    raise InvalidHandler(
        f"cannot use {describe(handler)} as the handler for {message_type.__qualname__}: a "
        "handler must be an async function (async def) taking the message, or an object "
        "with an async handle(message) method"
    )


def check_message_type(message_type: object, kind: Kind, where: str) -> None:
    """Refuse, early, a type that this kind of bus could never be sent."""
    base = _BASES[kind]
    if isinstance(message_type, type) and issubclass(message_type, base):
        return
    shown = message_type.__qualname__ if isinstance(message_type, type) else repr(message_type)
    other: Kind = "query" if kind == "command" else "command"
    if isinstance(message_type, type) and issubclass(message_type, _BASES[other]):
        hint = f"{shown} is a {other}; register it with register_{other} or on a {other} bus"
    else:
        hint = f"derive {shown} from victor_core.{base.__name__}"
    raise MessageTypeError(f"{where} takes a {base.__name__} subclass, got {shown}: {hint}")


class HandlerRegistry:
    """Handlers declared with the decorators, one per message type.

    Declaring a second handler for a type is an error, except when the new function has the
    same module and qualified name as the old one: that is the same code imported again (a
    reloaded module, a re-run notebook cell) and it replaces the old one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[Kind, dict[type, object]] = {"command": {}, "query": {}}
        #: Changes whenever a handler is added, so buses know when to look again.
        self.version = 0

    def handlers(self, kind: Kind) -> Mapping[type, object]:
        """The declared handlers of one kind, by message type (a read-only view)."""
        return MappingProxyType(self._tables[kind])

    def add(self, kind: Kind, message_type: type, handler: object) -> None:
        """Declare *handler* for *message_type*; what the decorators do."""
        check_message_type(message_type, kind, f"@{kind}_handler")
        handler_call(handler, message_type)
        with self._lock:
            table = self._tables[kind]
            old = table.get(message_type)
            if old is not None and describe(old) != describe(handler):
                raise DuplicateHandler(
                    f"{message_type.__qualname__} already has a handler, {describe(old)}, so "
                    f"{describe(handler)} cannot be declared for it too; a {kind} type has "
                    "exactly one handler: remove one of the two declarations"
                )
            table[message_type] = handler
            self.version += 1

    def command_handler(self, command_type: type[C]) -> Callable[[F], F]:
        """Declare the decorated async function as the handler of *command_type*."""
        check_message_type(command_type, "command", "@command_handler")

        def declare(handler: F) -> F:
            self.add("command", command_type, handler)
            return handler

        return declare

    def query_handler(self, query_type: type[Q]) -> Callable[[F], F]:
        """Declare the decorated async function as the handler of *query_type*."""
        check_message_type(query_type, "query", "@query_handler")

        def declare(handler: F) -> F:
            self.add("query", query_type, handler)
            return handler

        return declare


#: The registry the decorators and a plain ``Mediator()`` use.
message_handlers = HandlerRegistry()


def command_handler(
    command_type: type[C], *, registry: HandlerRegistry | None = None
) -> Callable[[F], F]:
    """Declare the decorated async function as the handler of *command_type*.

    Every bus and mediator built without a ``registry`` argument finds it; the function is
    returned unchanged, so it can still be called directly in tests.
    """
    return (registry if registry is not None else message_handlers).command_handler(command_type)


def query_handler(
    query_type: type[Q], *, registry: HandlerRegistry | None = None
) -> Callable[[F], F]:
    """Declare the decorated async function as the handler of *query_type*; see
    :func:`command_handler`."""
    return (registry if registry is not None else message_handlers).query_handler(query_type)
