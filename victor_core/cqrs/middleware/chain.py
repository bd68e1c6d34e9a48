"""Middleware: async callables that wrap a handler, and how a chain of them is built.

A middleware is ``async (message, next) -> result``: it may act before and after calling
``await next(message)``, call it several times (retry), or not at all (cache hit,
validation failure). The chain is composed once, when it changes, not on every send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias, TypeVar

from victor_core.cqrs.errors import InvalidHandler
from victor_core.cqrs.handlers import describe, is_async_callable
from victor_core.cqrs.messages import Command, CommandResult, Query, QueryResult

M = TypeVar("M")
R = TypeVar("R")

#: The rest of the chain, as a middleware sees it.
Next: TypeAlias = Callable[[M], Awaitable[R]]
Middleware: TypeAlias = Callable[[M, Callable[[M], Awaitable[R]]], Awaitable[R]]

NextCommand: TypeAlias = Callable[[Command], Awaitable[CommandResult]]
NextQuery: TypeAlias = Callable[[Query[Any]], Awaitable[QueryResult[Any]]]
CommandMiddleware: TypeAlias = Callable[[Command, NextCommand], Awaitable[CommandResult]]
QueryMiddleware: TypeAlias = Callable[[Query[Any], NextQuery], Awaitable[QueryResult[Any]]]

_Call: TypeAlias = Callable[[Any], Awaitable[Any]]


def check_middleware(middleware: object, origin: str) -> None:
    """Refuse, when it is added, a middleware the chain could not await."""
    if not is_async_callable(middleware):
        raise InvalidHandler(
            f"{describe(middleware)} from {origin} is not usable as middleware: it must be "
            "an async callable taking (message, next), e.g. `async def mw(message, next): "
            "return await next(message)`, or an object with such an async __call__"
        )


def compose(middleware: Iterable[Callable[[Any, _Call], Awaitable[Any]]], handler: _Call) -> _Call:
    """One callable running *middleware* in order, outermost first, around *handler*.

    Each link is a plain function returning the middleware's coroutine, so the chain adds
    no coroutine frames of its own.
    """
    call = handler
    for each in reversed(list(middleware)):
        call = _link(each, call)
    return call


def _link(middleware: Callable[[Any, _Call], Awaitable[Any]], call_next: _Call) -> _Call:
    def step(message: Any) -> Awaitable[Any]:
        return middleware(message, call_next)

    return step
