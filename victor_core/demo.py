"""``victor demo``: event sourcing end to end on a real backend, narrated step by step."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from victor_core.errors import BackendNotFound, ConcurrencyError
from victor_core.eventsourcing.aggregate import Aggregate
from victor_core.eventsourcing.events import Event
from victor_core.eventsourcing.store import EventStore
from victor_core.plugins.registry import default_registry, open_event_store
from victor_core.plugins.url import parse_url


@dataclasses.dataclass
class TaskOpened(Event):
    __event_type__ = "victor.demo.TaskOpened"
    title: str = ""


@dataclasses.dataclass
class TaskRenamed(Event):
    __event_type__ = "victor.demo.TaskRenamed"
    title: str = ""


@dataclasses.dataclass
class TaskCompleted(Event):
    __event_type__ = "victor.demo.TaskCompleted"


class Task(Aggregate):
    """A to-do item whose whole history is kept."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.done = False

    def open(self, task_id: str, title: str) -> None:
        self.apply(TaskOpened(aggregate_id=task_id, title=title))

    def rename(self, title: str) -> None:
        self.apply(TaskRenamed(title=title))

    def complete(self) -> None:
        self.apply(TaskCompleted())

    def _apply_TaskOpened(self, event: TaskOpened) -> None:
        self.id = event.aggregate_id
        self.title = event.title

    def _apply_TaskRenamed(self, event: TaskRenamed) -> None:
        self.title = event.title

    def _apply_TaskCompleted(self, event: TaskCompleted) -> None:
        self.done = True


def default_url(directory: Path) -> str:
    """SQLite in *directory* when its plugin is installed, else the in-memory backend."""
    try:
        default_registry().backend("sqlite")
    except BackendNotFound:
        return "memory://demo"
    return f"sqlite:///{directory / 'demo.db'}"


async def run_demo(url: str, say: Callable[[str], None] = print) -> int:
    """Run the demo against *url*; returns the number of events written."""
    started = time.perf_counter()
    parsed = parse_url(url)
    backend = default_registry().backend_for(parsed)
    store = open_event_store(url)
    say(f"1. Opened an event store on {parsed.redacted()} ({backend.entry.distribution})")
    written = 0
    try:
        task = Task()
        task.open("task-1", "Write the release notes")
        task.rename("Write and publish the release notes")
        result = await store.append(task.id, task.pending_events, expected_version=0)
        task.mark_events_committed()
        written += len(result.positions)
        say(f"2. Saved task-1 with {len(result.positions)} events; stream version {result.version}")

        stale = await _load(store, "task-1")
        task.complete()
        result = await store.append(
            task.id, task.pending_events, expected_version=task.committed_version
        )
        task.mark_events_committed()
        written += len(result.positions)
        say(f"3. Completed task-1; stream version {result.version}")

        stale.rename("A conflicting rename from an old copy")
        try:
            await store.append(
                stale.id, stale.pending_events, expected_version=stale.committed_version
            )
        except ConcurrencyError as exc:
            say(f"4. A write from a stale copy was refused: {exc}")

        rebuilt = await _load(store, "task-1")
        say(f"5. Rebuilt task-1 from its history: {rebuilt.title!r}, done={rebuilt.done}")
        other = Task()
        other.open("task-2", "Plan the next iteration")
        written += len((await store.append(other.id, other.pending_events)).positions)

        say("6. Every event in global order, as a projection would read them:")
        async for recorded in store.read_all():
            say(
                f"   #{recorded.position} {recorded.stream_id} v{recorded.version} "
                f"{type(recorded.event).__name__}"
            )
    finally:
        await store.close()
    elapsed = (time.perf_counter() - started) * 1000
    say(f"Done: {written} events written on {backend.name!r} in {elapsed:.1f} ms.")
    return written


async def _load(store: EventStore, task_id: str) -> Task:
    history = await store.read_stream(task_id)
    return Task().load_from_history(r.event for r in history)


def main(url: str | None, directory: str | None) -> int:
    """Run the demo in *directory* (a temporary one by default) against *url*."""
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        return asyncio.run(run_demo(url or default_url(Path(directory))))
    with tempfile.TemporaryDirectory(prefix="victor-demo-") as scratch:
        return asyncio.run(run_demo(url or default_url(Path(scratch))))
