"""``victor copy SOURCE_URL TARGET_URL``: move an event store (and repositories) to another backend.

The way from SQLite to PostgreSQL: ``victor copy sqlite:///app.db postgresql://db/app``. See
:mod:`victor_core.copying` for what is copied, how an interrupted copy resumes and how the
result is verified.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from typing import Any, TypedDict

from victor_core.backend.url import parse_url
from victor_core.copying import (
    DEFAULT_BATCH_SIZE,
    CopyProgress,
    CopyReport,
    copy_store,
    verify_copy,
)
from victor_core.errors import ConfigurationError
from victor_core.repository.entity import Entity


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``victor copy`` on the ``victor`` command's subcommands."""
    copy = commands.add_parser(
        "copy",
        help="copy an event store (and repositories) to another backend",
        description="Copy the events (ids, timestamps, versions, global order), snapshots "
        "and projection checkpoints at SOURCE_URL, and the repositories named with "
        "--repository, to TARGET_URL; then read the target back and compare counts and "
        "checksums. An interrupted copy goes on where it stopped when run again; a target "
        "holding other data is refused before anything is written.",
    )
    copy.add_argument(
        "source", metavar="SOURCE_URL", help="where the data is, e.g. sqlite:///app.db"
    )
    copy.add_argument(
        "target", metavar="TARGET_URL", help="where it goes, e.g. postgresql://db/app"
    )
    copy.add_argument(
        "--repository",
        dest="repositories",
        action="append",
        default=[],
        metavar="MODULE:CLASS",
        help="also copy the repository of this Entity class (repeatable), e.g. app.models:User",
    )
    copy.add_argument(
        "--no-snapshots", action="store_true", help="leave snapshots out (they are taken anew)"
    )
    copy.add_argument(
        "--no-checkpoints",
        action="store_true",
        help="leave projection checkpoints out (the projections then start from the beginning)",
    )
    copy.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"records per read and per write transaction (default {DEFAULT_BATCH_SIZE})",
    )
    copy.add_argument("--no-progress", action="store_true", help="print no progress bar")
    copy.add_argument(
        "--verify-only",
        action="store_true",
        help="write nothing: only check that the target holds what the source holds",
    )


def entity_class(text: str) -> type[Entity]:
    """The Entity subclass that ``module:Class`` (or ``module:Outer.Inner``) names."""
    module_name, colon, qualname = text.partition(":")
    if not colon or not module_name or not qualname:
        raise ConfigurationError(
            f"--repository {text!r} is not MODULE:CLASS; name the Entity class the "
            "application stores, e.g. --repository app.models:User"
        )
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"--repository {text!r}: module {module_name!r} cannot be imported ({exc}); run "
            "victor from the application's environment and directory, or set PYTHONPATH"
        ) from exc
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise ConfigurationError(
                f"--repository {text!r}: module {module_name!r} has no {qualname!r}"
            )
    if not (isinstance(found, type) and issubclass(found, Entity)):
        raise ConfigurationError(
            f"--repository {text!r} names {found!r}, which is not an Entity subclass; name "
            "the class the repository stores"
        )
    return found


class _Bars:
    """One progress bar per phase of the copy, on standard error."""

    def __init__(self) -> None:
        self._phase: str | None = None
        self._bar: Any = None

    def __call__(self, progress: CopyProgress) -> None:
        from tqdm import tqdm

        if progress.phase != self._phase:
            self.close()
            self._phase = progress.phase
            self._bar = tqdm(
                desc=progress.phase, total=progress.total, unit=" records", file=sys.stderr
            )
        self._bar.update(progress.done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _summary(report: CopyReport) -> str:
    parts = [f"{report.events.count} events (sha256 {report.events.checksum[:16]})"]
    if report.snapshots is not None:
        parts.append(f"{report.snapshots.count} snapshots")
    if report.checkpoints:
        parts.append(f"{len(report.checkpoints)} checkpoints")
    for name, tally in report.documents.items():
        parts.append(f"{tally.count} {name} documents")
    return ", ".join(parts)


class _Options(TypedDict):
    """What ``victor copy`` and ``victor copy --verify-only`` pass alike."""

    repositories: list[type[Entity]]
    snapshots: bool
    checkpoints: bool
    batch_size: int


def run(args: argparse.Namespace) -> int:
    """Copy (or verify) as *args* say, and print what the target now holds."""
    options = _Options(
        repositories=[entity_class(text) for text in args.repositories],
        snapshots=not args.no_snapshots,
        checkpoints=not args.no_checkpoints,
        batch_size=args.batch_size,
    )
    source = parse_url(args.source).redacted()
    target = parse_url(args.target).redacted()
    if args.verify_only:
        report = asyncio.run(verify_copy(args.source, args.target, **options))
        sys.stdout.write(f"victor: {target} holds what {source} holds: {_summary(report)}\n")
        return 0
    bars = None if args.no_progress else _Bars()
    try:
        report = asyncio.run(copy_store(args.source, args.target, progress=bars, **options))
    finally:
        if bars is not None:
            bars.close()
    resumed = f" ({report.resumed} events were there already)" if report.resumed else ""
    sys.stdout.write(
        f"victor: copied {source} to {target}: {_summary(report)}{resumed}; verified\n"
    )
    return 0
