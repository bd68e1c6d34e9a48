"""Bus middleware contributed by installed plugins (entry point group ``victor.plugins``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.distributions import install_distribution
from victor_core import (
    Command,
    CommandBus,
    CommandResult,
    HandlerRegistry,
    InvalidHandler,
    Mediator,
    PluginLoadWarning,
    PluginRegistry,
    Query,
    QueryResult,
)
from victor_core.cqrs import NextCommand


@dataclass
class Ping(Command):
    pass


@dataclass
class Look(Query[str]):
    pass


def install(site: Path, module: str, source: str, entry_name: str | None = None) -> None:
    """Install a distribution whose ``victor.plugins`` entry point is *module*."""
    install_distribution(
        site,
        module.replace("_", "-"),
        entry_points={"victor.plugins": {entry_name or module: module}},
        modules={f"{module}.py": source},
    )


TRACING_PLUGIN = """
    from victor_core.backend import hookimpl
    from victor_test_plugin_log import log

    def tracer(name):
        async def middleware(message, next):
            log.append(f"{name}:{type(message).__name__}")
            return await next(message)
        return middleware

    @hookimpl
    def victor_bus_middleware(bus):
        return [tracer(f"{__name__}.{bus}")]
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site-packages"
    site.mkdir()
    # Shared by the plugins below, so a test sees the order they ran in.
    (site / "victor_test_plugin_log.py").write_text("log = []\n")
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)
    yield site
    for name in set(sys.modules) - before:
        if name.startswith("victor_test_plugin"):
            del sys.modules[name]


def plugin_log() -> list[str]:
    """What the tracing plugins saw, in order."""
    return sys.modules["victor_test_plugin_log"].log  # type: ignore[no-any-return]


def seen_by(module: str) -> list[str]:
    return sys.modules[module].seen  # type: ignore[no-any-return]


@pytest.mark.asyncio
async def test_plugin_middleware_runs_on_command_and_query_buses(site: Path) -> None:
    install(site, "victor_test_plugin_trace", TRACING_PLUGIN)
    mediator = Mediator(registry=HandlerRegistry(), plugins=PluginRegistry())

    async def ping(command: Ping) -> CommandResult:
        return CommandResult(success=True)

    async def look(query: Look) -> QueryResult[str]:
        return QueryResult(success=True, data="here")

    mediator.register_command(Ping, ping)
    mediator.register_query(Look, look)
    await mediator.send(Ping())
    await mediator.send(Look())
    assert plugin_log() == [
        "victor_test_plugin_trace.command:Ping",
        "victor_test_plugin_trace.query:Look",
    ]


@pytest.mark.asyncio
async def test_plugin_middleware_wraps_used_middleware_in_plugin_order(site: Path) -> None:
    # Plugins are registered in entry point name order: "a_first" before "b_second".
    install(site, "victor_test_plugin_one", TRACING_PLUGIN, entry_name="a_first")
    install(site, "victor_test_plugin_two", TRACING_PLUGIN, entry_name="b_second")

    async def used(message: Command, next: NextCommand) -> CommandResult:
        plugin_log().append("used")
        return await next(message)

    async def ping(command: Ping) -> CommandResult:
        return CommandResult(success=True)

    bus = CommandBus(registry=HandlerRegistry(), plugins=PluginRegistry())
    bus.use(used)
    bus.register(Ping, ping)
    await bus.execute(Ping())
    assert plugin_log() == [
        "victor_test_plugin_one.command:Ping",
        "victor_test_plugin_two.command:Ping",
        "used",
    ]


@pytest.mark.asyncio
async def test_a_plugin_that_fails_to_import_is_skipped_with_a_warning(site: Path) -> None:
    install(site, "victor_test_plugin_broken", "raise ImportError('missing dependency')\n")
    install(site, "victor_test_plugin_trace", TRACING_PLUGIN)

    async def ping(command: Ping) -> CommandResult:
        return CommandResult(success=True)

    plugins = PluginRegistry()
    with pytest.warns(PluginLoadWarning, match=r"victor_test_plugin_broken.*missing dependency"):
        bus = CommandBus(registry=HandlerRegistry(), plugins=plugins)
    bus.register(Ping, ping)
    assert (await bus.execute(Ping())).success
    assert plugin_log() == ["victor_test_plugin_trace.command:Ping"]
    assert [str(e) for e in plugins.plugin_failures if "broken" in str(e)]


def test_plugin_middleware_that_is_not_async_is_refused_when_the_bus_is_built(
    site: Path,
) -> None:
    install(
        site,
        "victor_test_plugin_sync",
        """
        from victor_core.backend import hookimpl

        def sync_middleware(message, next):
            return next(message)

        @hookimpl
        def victor_bus_middleware(bus):
            return [sync_middleware]
        """,
    )
    with pytest.raises(InvalidHandler, match=r"sync_middleware from a victor_bus_middleware"):
        CommandBus(registry=HandlerRegistry(), plugins=PluginRegistry())


@pytest.mark.asyncio
async def test_a_plugin_may_contribute_to_one_kind_of_bus_only(site: Path) -> None:
    install(
        site,
        "victor_test_plugin_queries",
        """
        from victor_core.backend import hookimpl

        seen = []

        async def count(message, next):
            seen.append(type(message).__name__)
            return await next(message)

        @hookimpl
        def victor_bus_middleware(bus):
            return [count] if bus == "query" else []
        """,
    )
    mediator = Mediator(registry=HandlerRegistry(), plugins=PluginRegistry())

    async def ping(command: Ping) -> CommandResult:
        return CommandResult(success=True)

    async def look(query: Look) -> QueryResult[str]:
        return QueryResult(success=True)

    mediator.register_command(Ping, ping)
    mediator.register_query(Look, look)
    await mediator.send(Ping())
    await mediator.send(Look())
    assert seen_by("victor_test_plugin_queries") == ["Look"]
