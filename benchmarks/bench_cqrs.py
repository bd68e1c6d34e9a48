"""Cost of sending through the mediator, against awaiting the handler directly.

Run with ``python benchmarks/bench_cqrs.py``. Every row is measured in the same run as its
baseline, so the ratios hold on any machine; the absolute numbers do not.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from victor_core import (
    CachingQueryMiddleware,
    Command,
    CommandResult,
    HandlerRegistry,
    LoggingCommandMiddleware,
    Mediator,
    PluginRegistry,
    Query,
    QueryResult,
    RetryCommandMiddleware,
    ValidationCommandMiddleware,
)


@dataclass
class CreateUser(Command):
    name: str = ""
    email: str = ""
    password: str = ""


@dataclass
class GetUser(Query[dict[str, str]]):
    user_id: str = ""


_CREATED = CommandResult(success=True, data={"user_id": "u-1"})
_FOUND: QueryResult[dict[str, str]] = QueryResult(success=True, data={"name": "Alice"})


async def create_user(command: CreateUser) -> CommandResult:
    return _CREATED


async def get_user(query: GetUser) -> QueryResult[dict[str, str]]:
    return _FOUND


def mediator(
    *, command_middleware: Sequence[Any] = (), query_middleware: Sequence[Any] = ()
) -> Mediator:
    built = Mediator(registry=HandlerRegistry(), plugins=PluginRegistry())
    built.register_command(CreateUser, create_user)
    built.register_query(GetUser, get_user)
    for each in command_middleware:
        built.command_bus.use(each)
    for each in query_middleware:
        built.query_bus.use(each)
    return built


def sending(through: Mediator, command: CreateUser) -> Callable[[], Awaitable[object]]:
    return lambda: through.send(command)


async def ns_per_op(send: Callable[[], Awaitable[object]], number: int, repeat: int) -> float:
    """The median over *repeat* runs of the time per call, in nanoseconds."""
    for _ in range(number // 10):  # warm up caches and the specialising interpreter
        await send()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        for _ in range(number):
            await send()
        runs.append((time.perf_counter_ns() - started) / number)
    return statistics.median(runs)


def quiet_logger() -> logging.Logger:
    # Records are built and handled, but go nowhere, so the middleware's own cost shows.
    logger = logging.getLogger("bench_cqrs")
    logger.handlers[:] = [logging.NullHandler()]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


async def main(number: int, repeat: int) -> None:
    command = CreateUser(name="Eve", email="eve@example.com", password="hunter2")
    query = GetUser(user_id="u-1")
    retry = RetryCommandMiddleware(max=3)
    validation = ValidationCommandMiddleware()
    logging_mw = LoggingCommandMiddleware(quiet_logger())
    all_command = [logging_mw, validation, retry]
    caching = CachingQueryMiddleware(ttl=60)

    bare = mediator()
    rows: list[tuple[str, Callable[[], Awaitable[object]], str]] = [
        ("await handler(command)  [baseline]", lambda: create_user(command), "command"),
        ("mediator.send(command), no middleware", lambda: bare.send(command), "command"),
        (
            "command_bus.execute(command), no middleware",
            lambda: bare.command_bus.execute(command),
            "command",
        ),
    ]
    for label, chain in (
        ("LoggingCommandMiddleware", [logging_mw]),
        ("ValidationCommandMiddleware", [validation]),
        ("RetryCommandMiddleware(max=3)", [retry]),
        ("Logging + Validation + Retry", all_command),
    ):
        rows.append(
            (
                f"mediator.send(command), {label}",
                sending(mediator(command_middleware=chain), command),
                "command",
            )
        )
    # What the stdlib alone charges for one such record, to read the logging row against.
    reference_logger = quiet_logger()

    async def log_only() -> None:
        reference_logger.info("%s %s", "CreateUser", "id", extra={"outcome": "success"})

    rows.append(("logger.info(...) alone  [reference]", log_only, "command"))
    cached = mediator(query_middleware=[caching])
    rows += [
        ("await handler(query)  [baseline]", lambda: get_user(query), "query"),
        ("mediator.send(query), no middleware", lambda: bare.send(query), "query"),
        ("mediator.send(query), CachingQueryMiddleware (hit)", lambda: cached.send(query), "query"),
    ]

    baselines: dict[str, float] = {}
    results = []
    for label, send, kind in rows:
        ns = await ns_per_op(send, number, repeat)
        baselines.setdefault(kind, ns)
        results.append((label, ns, ns - baselines[kind], ns / baselines[kind]))

    width = max(len(label) for label, *_ in results)
    print(f"{'case':<{width}}  {'ns/op':>8}  {'overhead ns':>11}  {'ratio':>6}")
    print("-" * (width + 31))
    for label, ns, overhead, ratio in results:
        print(f"{label:<{width}}  {ns:>8.0f}  {overhead:>11.0f}  {ratio:>5.2f}x")
    bare_overhead = results[1][2]
    verdict = "met" if bare_overhead < 1000 else "NOT met"
    print(
        f"\nbare dispatch overhead: {bare_overhead:.0f} ns per send (target < 1000 ns: {verdict})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000, help="sends per timed run")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per case")
    options = parser.parse_args()
    asyncio.run(main(options.number, options.repeat))
