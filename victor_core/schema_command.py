"""``victor schema URL [--apply]``: the tables a backend creates, printed or created up front.

Backends create their tables on first use. Teams that review and apply DDL themselves print
it (``victor schema postgresql://db/app > schema.sql``) and run it with their own tools, or
let victor create it now with ``--apply``, before the application starts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from victor_core.backend.url import parse_url
from victor_core.plugins.registry import PluginRegistry


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``victor schema`` on the ``victor`` command's subcommands."""
    schema = commands.add_parser(
        "schema",
        help="print (or --apply) the tables a backend creates at a URL",
        description="Print the schema (DDL) the backend creates at URL on first use, or "
        "create it now with --apply. Tables that already exist are left as they are.",
    )
    schema.add_argument("url", metavar="URL", help="backend URL, e.g. postgresql://host/app")
    schema.add_argument("--apply", action="store_true", help="create the schema now")


def run(registry: PluginRegistry, url_text: str, apply: bool) -> int:
    """Print the schema at *url_text*, or apply it and say so."""
    url = parse_url(url_text)
    schema = registry.backend_for(url).schema(url, url.options)
    if not apply:
        sys.stdout.write(schema.script if schema.script.endswith("\n") else schema.script + "\n")
        return 0
    asyncio.run(schema.apply())
    sys.stdout.write(f"victor: the schema at {url.redacted()} is in place\n")
    return 0
