"""``victor demo``, found by the kernel's ``victor`` in the entry point group ``victor.commands``.

The kernel reads :data:`HELP` and :data:`DESCRIPTION` and calls :func:`add_arguments` for every
``victor`` invocation, so this module imports nothing heavy: the demo itself is imported only
when it runs.
"""

from __future__ import annotations

import argparse

HELP = "see every pattern work together in a small task tracker"
DESCRIPTION = (
    "Runs a small task tracker (event-sourced tasks, a repository of members, units of work, "
    "commands and cached queries through a mediator, a projection with a checkpoint) against "
    "a backend, SQLite in a temporary directory by default, and narrates each step."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``victor demo``."""
    parser.add_argument("--url", help="backend name or URL (default: SQLite in --directory)")
    parser.add_argument("--directory", help="where to keep the database (default: a temp dir)")


def run(args: argparse.Namespace) -> int:
    """Tell the story; a refused run raises the kernel's error, which ``victor`` reports."""
    from victor_demo.runner import main

    main(args.url, args.directory)
    return 0
