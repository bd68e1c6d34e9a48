"""``victor tail`` and ``victor projections``: the live log and how far projections are.

Both read stored records without turning them back into event objects, so they work from
any shell, without importing the application that wrote the events.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from victor_core.eventsourcing.records import StoredEventRecord
from victor_core.eventsourcing.store import EventStore
from victor_core.plugins.registry import default_registry


def add_commands(commands: Any) -> None:
    """Add ``tail`` and ``projections`` to the ``victor`` command's subparsers."""
    tail = commands.add_parser(
        "tail",
        help="follow the event log live",
        description="Print each event as it is appended: position, stream, version, type, "
        "timestamp. Starts at the end of the log unless --from is given.",
    )
    tail.add_argument("url", metavar="URL", help="backend name or URL of the event store")
    tail.add_argument(
        "--from", dest="start", type=int, metavar="POSITION", help="start at this position"
    )
    tail.add_argument(
        "--type", dest="types", action="append", metavar="NAME", help="only this stored type"
    )
    tail.add_argument(
        "--stream", dest="streams", action="append", metavar="ID", help="only this stream"
    )
    tail.add_argument("--count", type=int, metavar="N", help="stop after N events")
    tail.add_argument(
        "--poll-interval", type=float, default=0.5, metavar="SECONDS", help="see docs"
    )
    projections = commands.add_parser(
        "projections",
        help="list projection checkpoints and their lag",
        description="Every projection checkpoint stored with the events: its position and "
        "how many positions it is behind the head of the log.",
    )
    projections.add_argument("url", metavar="URL", help="backend name or URL of the event store")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int | None:
    """Run *args* if it is one of these commands; None when it is another command."""
    stream = out if out is not None else sys.stdout
    if args.command == "tail":
        return asyncio.run(_tail(args, stream))
    if args.command == "projections":
        return asyncio.run(_projections(args.url, stream))
    return None


async def _tail(args: argparse.Namespace, out: TextIO) -> int:
    store = default_registry().open_event_store(args.url)
    try:
        start = args.start if args.start is not None else await store.last_position() + 1
        streams = set(args.streams or ())
        printed = 0
        async with store.subscribe(
            max(start, 0), types=args.types, poll_interval=args.poll_interval
        ) as subscription:
            while args.count is None or printed < args.count:
                records = await subscription.next_records(100)
                if not records:
                    break
                for record in records:
                    if streams and record.stream_id not in streams:
                        continue
                    out.write(_line(record))
                    printed += 1
                    if printed == args.count:
                        break
                out.flush()
        return 0
    finally:
        await store.close()


def _line(record: StoredEventRecord) -> str:
    return (
        f"{record.position}\t{record.stream_id}\t{record.version}\t{record.type_name}\t"
        f"{record.timestamp.isoformat()}\n"
    )


async def _projections(url: str, out: TextIO) -> int:
    store: EventStore = default_registry().open_event_store(url)
    try:
        if store.checkpoints is None:
            out.write(f"{url} keeps no checkpoints next to its events\n")
            return 1
        head = await store.last_position()
        checkpoints = await store.checkpoints.load_all()
        out.write(f"head of the log: {head}\n")
        if not checkpoints:
            out.write("no projection has saved a checkpoint\n")
        width = max((len(name) for name in checkpoints), default=0)
        for name, position in sorted(checkpoints.items()):
            out.write(f"{name:<{width}}  position {position}  lag {max(head - position, 0)}\n")
        return 0
    finally:
        await store.close()
