"""``victor demo``: run the story on a backend, in a directory of its own, and sum it up."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from victor_core.backend import parse_url
from victor_demo.app import TaskTracker
from victor_demo.narration import Narrator, Say
from victor_demo.story import Story
from victor_demo.summary import DemoSummary


def default_url(directory: Path) -> str:
    """SQLite in *directory*: victor-demo depends on victor-sqlite, so it is always there."""
    return f"sqlite:///{(directory / 'demo.db').as_posix()}"


async def run_demo(url: str, say: Say = print, **options: Any) -> DemoSummary:
    """Tell the whole story on the backend at *url*, and return what it did.

    *options* go to the event store and the repository (``client=``, ``database=`` for
    MongoDB). The storage must hold no earlier run's data.
    """
    narrator = Narrator(say)
    async with await TaskTracker.open(url, **options) as tracker:
        story = Story(tracker, narrator)
        await story.check_storage_is_empty()
        story.opened(parse_url(url).redacted())
        await story.members_by_specification()
        await story.commands_with_validation()
        await story.assignments_in_units_of_work()
        await story.retried_outage()
        await story.board_catches_up()
        await story.cached_queries()
        await story.time_travel()
        await story.stale_save_refused()
        summary = await story.summary()
    for line in summary.lines():
        say(line)
    return summary


def main(url: str | None, directory: str | None) -> DemoSummary:
    """Run the demo against *url*, by default on SQLite in *directory* (a temporary one)."""
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        return asyncio.run(run_demo(url or default_url(Path(directory))))
    with tempfile.TemporaryDirectory(prefix="victor-demo-") as scratch:
        return asyncio.run(run_demo(url or default_url(Path(scratch))))
