"""The ``victor`` command: what is installed, and proving a backend correct.

``victor backends`` lists every installed backend with its distribution, version, URL schemes
and declared capabilities. ``victor contract-test NAME_OR_URL [pytest args...]`` runs the
contract suite against one of them. Other distributions add subcommands through the entry point
group ``victor.commands`` (``victor demo`` comes with victor-demo); a first-party one that is not
installed is still listed, and running it says which pip command installs it.
``victor copy SOURCE_URL TARGET_URL`` moves an event store to another backend (see
:mod:`victor_core.copying`).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Protocol

from victor_core import cli_live, copy_command, schema_command
from victor_core.backend.known import install_command, install_hint
from victor_core.backend.url import parse_url
from victor_core.errors import VictorError
from victor_core.plugins.registry import PluginRegistry, default_registry


def _list_backends(registry: PluginRegistry) -> int:
    installed = registry.installed_backends()
    if not installed:
        print(f"no backends installed; the in-memory one: {install_hint('memory')}")
        return 1
    status = 0
    rows: list[tuple[str, str, str, str]] = []
    problems: list[str] = []
    for name, entries in sorted(installed.items()):
        try:
            backend = registry.backend(name)
        except VictorError as exc:
            status = 1
            for entry in entries:
                rows.append((name, f"{entry.distribution} {entry.version}", "-", "UNAVAILABLE"))
            problems.append(f"{name}: {exc}")
            continue
        info = backend.info
        schemes = ", ".join(f"{s}://" for s in sorted({info.name, *info.url_schemes}))
        capabilities = ", ".join(sorted(c.value for c in info.capabilities)) or "-"
        rows.append((name, f"{backend.entry.distribution} {info.version}", schemes, capabilities))
    header = ("backend", "distribution", "url schemes", "capabilities")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[3]
        )
    for problem in problems:
        print(f"\nproblem: {problem}", file=sys.stderr)
    for failure in registry.plugin_failures:
        print(f"\nplugin skipped: {failure}", file=sys.stderr)
    return status


def _contract_test(target: str, pytest_args: Sequence[str]) -> int:
    # Located, not imported: pytest must import the plugin itself to rewrite its asserts.
    spec = importlib.util.find_spec("victor_contract_tests")
    if spec is None or not spec.submodule_search_locations:
        print(
            f"the contract suite is not installed: {install_command('victor-contract-tests')}",
            file=sys.stderr,
        )
        return 2
    default_registry().backend_for(parse_url(target))  # fail here, readably, not in pytest
    suite = Path(spec.submodule_search_locations[0]) / "suite"
    args = [
        f"--victor-backend={target}",
        "--rootdir",
        str(suite),
        # The suite's own settings, not those of the project it is run from.
        "-c",
        os.devnull,
        # Nothing in the working directory (nor in the installed suite): no .pytest_cache.
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        *pytest_args,
    ]
    if not any(not arg.startswith("-") for arg in pytest_args):
        args.append(str(suite))
    import pytest

    return int(pytest.main(args))


#: The entry point group of ``victor`` subcommands that other distributions provide.
COMMANDS_GROUP = "victor.commands"

#: ``victor`` subcommands of first-party distributions -> that distribution: listed by
#: ``victor --help`` even when it is not installed, and then they say how to install it.
FIRST_PARTY_COMMANDS: dict[str, str] = {"demo": "victor-demo"}


class Command(Protocol):
    """A ``victor`` subcommand from another distribution: what its entry point names.

    Usually a module. It is loaded on every ``victor`` invocation, to build the parser, so
    it should import what it runs only in :meth:`run`.
    """

    HELP: str
    DESCRIPTION: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the subcommand's arguments on *parser*."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the subcommand; the return value is the exit status."""


Runner = Callable[[argparse.Namespace], int]


def _distribution(ep: EntryPoint) -> str:
    return f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "an unknown distribution"


def _refusal(message: str) -> Runner:
    def refuse(args: argparse.Namespace) -> int:
        print(f"victor: {message}", file=sys.stderr)
        return 2

    return refuse


def _add_unavailable(commands: Any, name: str, help: str, message: str) -> None:
    """A subcommand that cannot run, listed so that ``victor NAME`` can say why."""
    parser = commands.add_parser(name, help=help, add_help=False)
    parser.set_defaults(runner=_refusal(message), takes_any_arguments=True)


def _add_installed_commands(commands: Any) -> None:
    taken = set(commands.choices)
    found = {ep.name: ep for ep in entry_points(group=COMMANDS_GROUP) if ep.name not in taken}
    for name in sorted(found):
        ep = found[name]
        try:
            command: Command = ep.load()
            help_text, description = command.HELP, command.DESCRIPTION
        except Exception as exc:
            failure = (
                f"the {name!r} command of {_distribution(ep)} could not be loaded from "
                f"{ep.value}: {type(exc).__name__}: {exc}. Reinstall that distribution"
            )
            _add_unavailable(commands, name, "could not be loaded (run it to see why)", failure)
            continue
        parser = commands.add_parser(name, help=help_text, description=description)
        command.add_arguments(parser)
        parser.set_defaults(runner=command.run)
    for name, distribution_name in sorted(FIRST_PARTY_COMMANDS.items()):
        if name not in commands.choices:
            install = install_command(distribution_name)
            _add_unavailable(
                commands,
                name,
                f"not installed: {install}",
                f"`victor {name}` comes with {distribution_name}, which is not installed: "
                f"{install}",
            )


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps help between words only, so that a path or a command to copy stays whole.

    argparse's own wrapping breaks at hyphens: a checkout's ``.../apps/victor-demo`` in an
    install hint came out as ``victor-`` and ``demo`` on two lines.
    """

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(
            " ".join(text.split()), width, break_long_words=False, break_on_hyphens=False
        )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``victor`` command."""
    parser = argparse.ArgumentParser(
        prog="victor",
        description="victor-core: storage backends and their contract suite",
        formatter_class=_HelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("backends", help="list installed backends and their capabilities")
    contract = commands.add_parser(
        "contract-test",
        help="run the contract suite against a backend",
        description="Run the victor contract suite against an installed backend. "
        "Arguments after the backend go to pytest (e.g. -k append -x).",
    )
    contract.add_argument("backend", metavar="NAME_OR_URL", help="backend name or URL")
    contract.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    schema_command.add_parser(commands)
    copy_command.add_parser(commands)
    cli_live.add_commands(commands)
    _add_installed_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``victor`` console script."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "takes_any_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if args.command == "backends":
            return _list_backends(default_registry())
        live = cli_live.run(args)
        if live is not None:
            return live
        if args.command == "schema":
            return schema_command.run(default_registry(), args.url, args.apply)
        if args.command == "copy":
            return copy_command.run(args)
        runner: Runner | None = getattr(args, "runner", None)
        if runner is not None:
            return runner(args)
        return _contract_test(args.backend, args.pytest_args)
    except VictorError as exc:
        print(f"victor: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`victor demo | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
