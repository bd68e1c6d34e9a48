"""Event sourcing: an aggregate records events, the store keeps them, history rebuilds it.

The design document's quick example, completed into a program: the task's events are
appended to an in-memory event store, read back and replayed into a fresh aggregate, and a
writer holding a stale version is turned away.
Run it with ``python examples/event_sourcing.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from victor_core import Aggregate, ConcurrencyError, Event, InMemoryEventStore


@dataclass
class TaskCreated(Event):
    task_id: str = ""
    title: str = ""


@dataclass
class TaskRenamed(Event):
    title: str = ""


class TaskAggregate(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""

    def create(self, task_id: str, title: str) -> None:
        self.apply(TaskCreated(task_id=task_id, title=title))

    def rename(self, title: str) -> None:
        self.apply(TaskRenamed(title=title))

    def _apply_TaskCreated(self, event: TaskCreated) -> None:
        self.id = event.task_id
        self.title = event.title

    def _apply_TaskRenamed(self, event: TaskRenamed) -> None:
        self.title = event.title


async def main() -> None:
    store = InMemoryEventStore()

    task = TaskAggregate()
    task.create("task-1", "Build feature")
    task.rename("Build the feature")
    for event in task.pending_events:
        await store.append(task.id, event)
    task.mark_events_committed()
    print(f"appended 2 events to {task.id!r}; the aggregate is at version {task.version}")

    history = await store.read_stream("task-1")
    for recorded in history:
        event = recorded.event
        print(f"  version {recorded.version}: {type(event).__name__} {event.title!r}")

    restored = TaskAggregate().load_from_history(recorded.event for recorded in history)
    print(f"rebuilt from history: {restored.title!r} at version {restored.version}")

    # A writer that loaded the task at version 1 is too late: nothing of its write is stored.
    try:
        await store.append("task-1", TaskRenamed(title="Stale"), expected_version=1)
    except ConcurrencyError as conflict:
        print(f"rejected: {conflict}")
    print(f"the stream still ends at version {await store.stream_version('task-1')}")


if __name__ == "__main__":
    asyncio.run(main())
