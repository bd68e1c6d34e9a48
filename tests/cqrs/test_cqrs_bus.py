from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from victor_core import (
    Command,
    CommandBus,
    CommandResult,
    DuplicateHandler,
    HandlerNotFound,
    HandlerRegistry,
    InvalidHandler,
    MessageTypeError,
    PluginRegistry,
    Query,
    QueryBus,
    QueryResult,
    VictorError,
)
from victor_core.cqrs import NextCommand


@dataclass
class CreateUser(Command):
    name: str = ""


@dataclass
class CreateAdmin(CreateUser):
    level: int = 1


@dataclass
class DeleteUser(Command):
    user_id: str = ""


@dataclass
class GetUser(Query[str]):
    user_id: str = ""


async def create_user(command: CreateUser) -> CommandResult:
    return CommandResult(success=True, data=f"created {command.name}")


@pytest.fixture
def bus(registry: HandlerRegistry, plugins: PluginRegistry) -> CommandBus:
    return CommandBus(registry=registry, plugins=plugins)


@pytest.mark.asyncio
async def test_execute_runs_the_registered_handler(bus: CommandBus) -> None:
    bus.register(CreateUser, create_user)
    result = await bus.execute(CreateUser(name="Ann"))
    assert result == CommandResult(success=True, data="created Ann")


@pytest.mark.asyncio
async def test_a_handler_may_be_an_object_with_an_async_handle(bus: CommandBus) -> None:
    class Handler:
        def __init__(self, prefix: str) -> None:
            self.prefix = prefix

        async def handle(self, command: CreateUser) -> CommandResult:
            return CommandResult(success=True, data=self.prefix + command.name)

    bus.register(CreateUser, Handler("hi "))
    assert (await bus.execute(CreateUser(name="Ann"))).data == "hi Ann"


@pytest.mark.asyncio
async def test_a_query_bus_returns_the_query_handlers_result(
    registry: HandlerRegistry, plugins: PluginRegistry
) -> None:
    async def get_user(query: GetUser) -> QueryResult[str]:
        return QueryResult(success=True, data=f"user {query.user_id}")

    bus = QueryBus(registry=registry, plugins=plugins)
    bus.register(GetUser, get_user)
    assert await bus.execute(GetUser(user_id="7")) == QueryResult(success=True, data="user 7")


def test_a_second_handler_for_one_type_is_an_error(bus: CommandBus) -> None:
    bus.register(CreateUser, create_user)

    async def other(command: CreateUser) -> CommandResult:
        return CommandResult(success=False)

    with pytest.raises(DuplicateHandler, match=r"CreateUser already has a handler.*create_user"):
        bus.register(CreateUser, other)


@pytest.mark.asyncio
async def test_a_message_without_handler_names_its_type_and_the_registered_ones(
    bus: CommandBus,
) -> None:
    bus.register(CreateUser, create_user)
    with pytest.raises(HandlerNotFound) as caught:
        await bus.execute(DeleteUser(user_id="1"))
    message = str(caught.value)
    assert "no handler for DeleteUser" in message
    assert "registered for: CreateUser" in message
    assert "@command_handler(DeleteUser)" in message
    assert isinstance(caught.value, VictorError)
    assert isinstance(caught.value, LookupError)


@pytest.mark.asyncio
async def test_a_subclass_goes_to_the_handler_of_its_nearest_registered_base(
    bus: CommandBus,
) -> None:
    bus.register(CreateUser, create_user)
    assert (await bus.execute(CreateAdmin(name="Root"))).data == "created Root"

    async def create_admin(command: CreateAdmin) -> CommandResult:
        return CommandResult(success=True, data="admin")

    # Registered after the first send: the cached route must not hide it.
    bus.register(CreateAdmin, create_admin)
    assert (await bus.execute(CreateAdmin(name="Root"))).data == "admin"
    assert (await bus.execute(CreateUser(name="Ann"))).data == "created Ann"


@pytest.mark.asyncio
async def test_a_handlers_exception_propagates_unchanged(bus: CommandBus) -> None:
    class Boom(Exception):
        pass

    async def failing(command: CreateUser) -> CommandResult:
        raise Boom("disk full")

    bus.register(CreateUser, failing)
    with pytest.raises(Boom, match="disk full"):
        await bus.execute(CreateUser())


def test_a_sync_function_is_refused_as_a_handler(bus: CommandBus) -> None:
    def sync_handler(command: CreateUser) -> CommandResult:
        return CommandResult(success=True)

    with pytest.raises(InvalidHandler, match=r"sync_handler.*async function"):
        bus.register(CreateUser, sync_handler)  # type: ignore[arg-type]


def test_a_handler_class_instead_of_an_instance_is_refused(bus: CommandBus) -> None:
    class Handler:
        async def handle(self, command: CreateUser) -> CommandResult:
            return CommandResult(success=True)

    with pytest.raises(InvalidHandler, match=r"register an instance of it"):
        bus.register(CreateUser, Handler)  # type: ignore[arg-type]


def test_a_query_cannot_be_registered_on_a_command_bus(bus: CommandBus) -> None:
    async def get_user(query: Any) -> Any:
        return None

    with pytest.raises(MessageTypeError, match=r"GetUser is a query; register it with"):
        bus.register(GetUser, get_user)  # type: ignore[type-var]


def test_a_plain_class_cannot_be_registered(bus: CommandBus) -> None:
    class NotACommand:
        pass

    async def handler(message: Any) -> Any:
        return None

    with pytest.raises(MessageTypeError, match=r"derive .*NotACommand from victor_core.Command"):
        bus.register(NotACommand, handler)  # type: ignore[type-var]


@pytest.mark.asyncio
async def test_executing_a_query_on_a_command_bus_says_where_it_belongs(bus: CommandBus) -> None:
    with pytest.raises(MessageTypeError, match="GetUser is a query"):
        await bus.execute(GetUser())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_middleware_runs_in_use_order_around_the_handler(bus: CommandBus) -> None:
    seen: list[str] = []

    def tracing(name: str) -> Any:
        async def middleware(message: Command, next: NextCommand) -> CommandResult:
            seen.append(f"{name} before")
            result = await next(message)
            seen.append(f"{name} after")
            return result

        return middleware

    async def handler(command: CreateUser) -> CommandResult:
        seen.append("handler")
        return CommandResult(success=True)

    bus.register(CreateUser, handler)
    bus.use(tracing("outer"))
    bus.use(tracing("inner"))
    await bus.execute(CreateUser())
    assert seen == ["outer before", "inner before", "handler", "inner after", "outer after"]


@pytest.mark.asyncio
async def test_middleware_added_after_a_send_applies_to_the_next_send(bus: CommandBus) -> None:
    bus.register(CreateUser, create_user)
    await bus.execute(CreateUser())

    async def refuse(message: Command, next: NextCommand) -> CommandResult:
        return CommandResult(success=False, error="refused")

    bus.use(refuse)
    assert await bus.execute(CreateUser()) == CommandResult(success=False, error="refused")


@pytest.mark.asyncio
async def test_middleware_may_handle_a_handlers_exception(bus: CommandBus) -> None:
    async def failing(command: CreateUser) -> CommandResult:
        raise ValueError("no")

    async def to_result(message: Command, next: NextCommand) -> CommandResult:
        try:
            return await next(message)
        except ValueError as exc:
            return CommandResult(success=False, error=str(exc))

    bus.register(CreateUser, failing)
    bus.use(to_result)
    assert await bus.execute(CreateUser()) == CommandResult(success=False, error="no")


@pytest.mark.asyncio
async def test_middleware_sees_the_message_and_may_replace_it(bus: CommandBus) -> None:
    async def shout(message: Command, next: NextCommand) -> CommandResult:
        assert isinstance(message, CreateUser)
        return await next(CreateUser(name=message.name.upper()))

    bus.register(CreateUser, create_user)
    bus.use(shout)
    assert (await bus.execute(CreateUser(name="ann"))).data == "created ANN"


def test_sync_middleware_is_refused_when_added(bus: CommandBus) -> None:
    def not_async(message: Command, next: NextCommand) -> CommandResult:
        return CommandResult(success=True)

    with pytest.raises(InvalidHandler, match=r"not_async .*CommandBus.use.*async callable"):
        bus.use(not_async)  # type: ignore[arg-type]
