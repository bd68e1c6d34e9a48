"""The mediator: one entry point that sends commands and queries to their buses."""

from __future__ import annotations

from typing import Any, TypeVar, overload

from victor_core.cqrs.bus import CommandBus, QueryBus
from victor_core.cqrs.errors import MessageTypeError
from victor_core.cqrs.handlers import (
    C,
    CommandHandler,
    HandlerRegistry,
    Q,
    QueryHandler,
    message_handlers,
)
from victor_core.cqrs.messages import Command, CommandResult, Query, QueryResult
from victor_core.plugins.registry import PluginRegistry

T = TypeVar("T")


class Mediator:
    """Sends any command or query to its handler, so callers depend on one object.

    Without arguments it finds every handler declared with ``@command_handler`` /
    ``@query_handler``. Give it a fresh ``registry=HandlerRegistry()`` to see only what is
    registered on it (useful in tests), and ``plugins=PluginRegistry()`` to choose where
    plugin middleware comes from. Middleware is added on its buses:
    ``mediator.command_bus.use(...)``, ``mediator.query_bus.use(...)``.

    A handler registered on the mediator wins over a decorated one for the same type; two
    registrations on one mediator are an error.
    """

    def __init__(
        self, *, registry: HandlerRegistry | None = None, plugins: PluginRegistry | None = None
    ) -> None:
        self.registry = registry if registry is not None else message_handlers
        self.command_bus = CommandBus(registry=self.registry, plugins=plugins)
        self.query_bus = QueryBus(registry=self.registry, plugins=plugins)
        self._routes: dict[type, CommandBus | QueryBus] = {}

    def register_command(self, command_type: type[C], handler: CommandHandler[C]) -> None:
        """Make *handler* the one handler of *command_type* (and its subclasses) here."""
        self.command_bus.register(command_type, handler)

    def register_query(self, query_type: type[Q], handler: QueryHandler[Q]) -> None:
        """Make *handler* the one handler of *query_type* (and its subclasses) here."""
        self.query_bus.register(query_type, handler)

    @overload
    async def send(self, message: Query[T]) -> QueryResult[T]: ...

    @overload
    async def send(self, message: Command) -> CommandResult: ...

    async def send(self, message: Command | Query[Any]) -> CommandResult | QueryResult[Any]:
        """Run *message* through its bus; a query's result is typed by its ``Query[T]``."""
        message_type = type(message)
        bus = self._routes.get(message_type)
        if bus is None:
            bus = self._route(message_type)
        # Straight to the bus's composed chain: one coroutine frame less than bus.execute.
        result: CommandResult | QueryResult[Any] = await bus._pipeline(message_type)(message)
        return result

    def _route(self, message_type: type) -> CommandBus | QueryBus:
        bus: CommandBus | QueryBus
        if issubclass(message_type, Command):
            bus = self.command_bus
        elif issubclass(message_type, Query):
            bus = self.query_bus
        else:
            raise MessageTypeError(
                f"Mediator.send takes a Command or a Query, got a {message_type.__qualname__}; "
                f"derive {message_type.__qualname__} from victor_core.Command (a change) or "
                "victor_core.Query[ResultType] (a read)"
            )
        self._routes[message_type] = bus
        return bus
