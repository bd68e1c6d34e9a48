"""Buses: route each message to its one handler, through a chain of middleware.

The chain is plugin middleware first (from the ``victor_bus_middleware`` hook, read when
the bus is created), then middleware added with :meth:`use`, in that order, then the
handler. A handler registered on the bus itself takes precedence over one declared with a
decorator for the same type, so a test can replace a declared handler with a fake.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, Generic, TypeVar

from victor_core.cqrs.errors import DuplicateHandler, HandlerNotFound
from victor_core.cqrs.handlers import (
    C,
    CommandHandler,
    HandlerCall,
    HandlerRegistry,
    Kind,
    Q,
    QueryHandler,
    check_message_type,
    describe,
    handler_call,
    message_handlers,
)
from victor_core.cqrs.messages import Command, CommandResult, Query, QueryResult
from victor_core.cqrs.middleware.chain import (
    CommandMiddleware,
    QueryMiddleware,
    check_middleware,
    compose,
)
from victor_core.plugins.registry import PluginRegistry, default_registry

T = TypeVar("T")
_MW = TypeVar("_MW")


class _Bus(Generic[_MW]):
    """What both buses share; they differ in the kind of message and its typing."""

    _kind: ClassVar[Kind]

    def __init__(
        self, *, registry: HandlerRegistry | None = None, plugins: PluginRegistry | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._registry = registry if registry is not None else message_handlers
        self._handlers: dict[type, object] = {}
        self._calls: dict[type, HandlerCall] = {}
        self._plugin_middleware = self._middleware_from(
            plugins if plugins is not None else default_registry()
        )
        self._middleware: list[Any] = []
        self._pipelines: dict[type, HandlerCall] = {}
        self._seen_version = self._registry.version

    def _middleware_from(self, plugins: PluginRegistry) -> list[Any]:
        contributed = plugins.manager.hook.victor_bus_middleware(bus=self._kind)
        # pluggy returns the most recently registered plugin's result first.
        ordered = [mw for batch in reversed(contributed) for mw in (batch or ())]
        for each in ordered:
            check_middleware(each, f"a victor_bus_middleware({self._kind!r}) plugin hook")
        return ordered

    def _register(self, message_type: type, handler: object) -> None:
        name = type(self).__name__
        check_message_type(message_type, self._kind, f"{name}.register")
        call = handler_call(handler, message_type)
        with self._lock:
            old = self._handlers.get(message_type)
            if old is not None:
                raise DuplicateHandler(
                    f"{message_type.__qualname__} already has a handler on this {name}, "
                    f"{describe(old)}; a {self._kind} type has exactly one handler. Register "
                    f"{describe(handler)} on a separate {name} or Mediator if both are needed"
                )
            self._handlers[message_type] = handler
            self._calls[message_type] = call
            self._pipelines.clear()

    def use(self, middleware: _MW) -> None:
        """Add *middleware* to the chain, inside everything added before it."""
        check_middleware(middleware, f"{type(self).__name__}.use")
        with self._lock:
            self._middleware.append(middleware)
            self._pipelines.clear()

    def _pipeline(self, message_type: type) -> HandlerCall:
        # The hot path: one version check and one dict lookup per message.
        if self._seen_version != self._registry.version:
            self._pipelines.clear()
            self._seen_version = self._registry.version
        pipeline = self._pipelines.get(message_type)
        if pipeline is None:
            pipeline = self._build(message_type)
        return pipeline

    def _build(self, message_type: type) -> HandlerCall:
        with self._lock:
            pipeline = compose(
                [*self._plugin_middleware, *self._middleware], self._resolve(message_type)
            )
            self._pipelines[message_type] = pipeline
            return pipeline

    def _resolve(self, message_type: type) -> HandlerCall:
        declared = self._registry.handlers(self._kind)
        # The nearest class wins; on one class, a handler registered here beats a decorator.
        for klass in message_type.__mro__:
            call = self._calls.get(klass)
            if call is not None:
                return call
            handler = declared.get(klass)
            if handler is not None:
                return handler_call(handler, klass)
        raise HandlerNotFound(self._not_found(message_type, declared))

    def _not_found(self, message_type: type, declared: Any) -> str:
        name = type(self).__name__
        kind = self._kind
        check_message_type(message_type, kind, f"{name}.execute")
        wanted = message_type.__qualname__
        known = sorted({t.__qualname__ for t in (*self._handlers, *declared)})
        return (
            f"no handler for {wanted} on this {name} (handlers are registered for: "
            f"{', '.join(known) or 'nothing yet'}). Register one with "
            f"mediator.register_{kind}({wanted}, handler) or bus.register({wanted}, handler), "
            f"or declare an async function with @{kind}_handler({wanted}) in a module that "
            "is imported before the first send"
        )


class CommandBus(_Bus[CommandMiddleware]):
    """Routes each command to its one handler.

    Handlers come from :meth:`register` and, unless another *registry* is given, from
    ``@command_handler`` declarations. *plugins* is where plugin middleware is read from
    (the process-wide registry by default).
    """

    _kind = "command"

    def register(self, command_type: type[C], handler: CommandHandler[C]) -> None:
        """Make *handler* the one handler of *command_type* and its subclasses."""
        self._register(command_type, handler)

    async def execute(self, command: Command) -> CommandResult:
        """Run *command* through the middleware to its handler; handler errors propagate."""
        result: CommandResult = await self._pipeline(type(command))(command)
        return result


class QueryBus(_Bus[QueryMiddleware]):
    """Routes each query to its one handler; see :class:`CommandBus`."""

    _kind = "query"

    def register(self, query_type: type[Q], handler: QueryHandler[Q]) -> None:
        """Make *handler* the one handler of *query_type* and its subclasses."""
        self._register(query_type, handler)

    async def execute(self, query: Query[T]) -> QueryResult[T]:
        """Run *query* through the middleware to its handler; handler errors propagate."""
        result: QueryResult[T] = await self._pipeline(type(query))(query)
        return result
