from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from victor_core import (
    Command,
    CommandResult,
    DuplicateHandler,
    HandlerRegistry,
    InvalidHandler,
    Mediator,
    MessageTypeError,
    PluginRegistry,
    Query,
    QueryResult,
    command_handler,
    message_handlers,
    query_handler,
)


@dataclass
class PlaceOrder(Command):
    item: str = ""


@dataclass
class PlaceRushOrder(PlaceOrder):
    pass


@dataclass
class GetOrders(Query[list[str]]):
    customer: str = ""


@dataclass
class DeclaredCommand(Command):
    """Declared with the process-wide decorator, once, at import time."""


@command_handler(DeclaredCommand)
async def handle_declared(command: DeclaredCommand) -> CommandResult:
    return CommandResult(success=True, data="declared")


async def place_order(command: PlaceOrder) -> CommandResult:
    return CommandResult(success=True, data=command.item)


async def get_orders(query: GetOrders) -> QueryResult[list[str]]:
    return QueryResult(success=True, data=[query.customer])


@pytest.mark.asyncio
async def test_send_routes_commands_and_queries_to_their_handlers(mediator: Mediator) -> None:
    mediator.register_command(PlaceOrder, place_order)
    mediator.register_query(GetOrders, get_orders)
    assert await mediator.send(PlaceOrder(item="tea")) == CommandResult(success=True, data="tea")
    assert await mediator.send(GetOrders(customer="ann")) == QueryResult(success=True, data=["ann"])


@pytest.mark.asyncio
async def test_send_follows_the_class_hierarchy(mediator: Mediator) -> None:
    mediator.register_command(PlaceOrder, place_order)
    assert (await mediator.send(PlaceRushOrder(item="now"))).data == "now"


@pytest.mark.asyncio
async def test_send_refuses_what_is_neither_command_nor_query(mediator: Mediator) -> None:
    @dataclass
    class Loose:
        x: int = 0

    with pytest.raises(MessageTypeError, match=r"takes a Command or a Query, got a .*Loose"):
        await mediator.send(Loose())  # type: ignore[call-overload]


@pytest.mark.asyncio
async def test_a_plain_mediator_finds_decorated_handlers(plugins: PluginRegistry) -> None:
    assert (await Mediator(plugins=plugins).send(DeclaredCommand())).data == "declared"


@pytest.mark.asyncio
async def test_a_mediator_with_its_own_registry_sees_only_that_registry(
    registry: HandlerRegistry, plugins: PluginRegistry
) -> None:
    @command_handler(PlaceOrder, registry=registry)
    async def declared_here(command: PlaceOrder) -> CommandResult:
        return CommandResult(success=True, data="mine")

    isolated = Mediator(registry=registry, plugins=plugins)
    assert (await isolated.send(PlaceOrder())).data == "mine"
    with pytest.raises(LookupError, match="DeclaredCommand"):
        await isolated.send(DeclaredCommand())
    assert PlaceOrder not in message_handlers.handlers("command")


@pytest.mark.asyncio
async def test_a_handler_declared_after_the_first_send_is_found(
    registry: HandlerRegistry, mediator: Mediator
) -> None:
    with pytest.raises(LookupError):
        await mediator.send(PlaceOrder())

    @registry.command_handler(PlaceOrder)
    async def late(command: PlaceOrder) -> CommandResult:
        return CommandResult(success=True, data="late")

    assert (await mediator.send(PlaceOrder())).data == "late"


@pytest.mark.asyncio
async def test_explicit_registration_wins_over_a_decorated_handler(
    registry: HandlerRegistry, mediator: Mediator
) -> None:
    @query_handler(GetOrders, registry=registry)
    async def declared(query: GetOrders) -> QueryResult[list[str]]:
        return QueryResult(success=True, data=["declared"])

    async def fake(query: GetOrders) -> QueryResult[list[str]]:
        return QueryResult(success=True, data=["fake"])

    other = Mediator(registry=registry, plugins=PluginRegistry())
    mediator.register_query(GetOrders, fake)
    assert (await mediator.send(GetOrders())).data == ["fake"]
    # Only the mediator it was registered on is affected.
    assert (await other.send(GetOrders())).data == ["declared"]


@pytest.mark.asyncio
async def test_a_decorated_handler_for_a_base_does_not_beat_one_registered_for_a_subclass(
    registry: HandlerRegistry, mediator: Mediator
) -> None:
    registry.command_handler(PlaceRushOrder)(place_order)

    async def any_order(command: PlaceOrder) -> CommandResult:
        return CommandResult(success=True, data="any")

    mediator.register_command(PlaceOrder, any_order)
    assert (await mediator.send(PlaceRushOrder(item="rush"))).data == "rush"
    assert (await mediator.send(PlaceOrder(item="slow"))).data == "any"


def test_registering_twice_on_one_mediator_is_an_error(mediator: Mediator) -> None:
    mediator.register_command(PlaceOrder, place_order)
    with pytest.raises(DuplicateHandler, match="PlaceOrder already has a handler"):
        mediator.register_command(PlaceOrder, place_order)


def test_declaring_two_handlers_for_one_type_is_an_error(registry: HandlerRegistry) -> None:
    registry.command_handler(PlaceOrder)(place_order)

    async def another(command: PlaceOrder) -> CommandResult:
        return CommandResult(success=True)

    with pytest.raises(DuplicateHandler, match=r"place_order, so .*another cannot be declared"):
        registry.command_handler(PlaceOrder)(another)


def test_declaring_the_same_function_again_replaces_it(registry: HandlerRegistry) -> None:
    # What a reloaded module or a re-run notebook cell does.
    def make() -> Any:
        async def handler(command: PlaceOrder) -> CommandResult:
            return CommandResult(success=True)

        return handler

    first, second = make(), make()
    registry.command_handler(PlaceOrder)(first)
    registry.command_handler(PlaceOrder)(second)
    assert registry.handlers("command")[PlaceOrder] is second


def test_the_decorator_returns_the_function_unchanged(registry: HandlerRegistry) -> None:
    assert command_handler(PlaceOrder, registry=registry)(place_order) is place_order


def test_decorating_a_sync_function_is_an_error(registry: HandlerRegistry) -> None:
    def sync(command: PlaceOrder) -> CommandResult:
        return CommandResult(success=True)

    with pytest.raises(InvalidHandler, match="async function"):
        command_handler(PlaceOrder, registry=registry)(sync)  # type: ignore[type-var]


def test_declaring_a_query_handler_for_a_command_is_an_error(registry: HandlerRegistry) -> None:
    with pytest.raises(MessageTypeError, match="PlaceOrder is a command"):
        query_handler(PlaceOrder, registry=registry)  # type: ignore[type-var]
