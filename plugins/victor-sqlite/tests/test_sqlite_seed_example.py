"""The design document's event-sourcing example, run against ``SQLiteEventStore("events.db")``.

The example runs as written (only the store line differs) in its own process, as a user's
script would; like the example, it never closes its store, and the process must still end.
Then a second store, opened in this process on the same file, reads the event back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from pathlib import Path

from victor_core import Event as KernelEvent
from victor_core import EventTypeRegistry, RecordedEvent
from victor_core.backend import EventSerializer
from victor_sqlite import SQLiteEventStore

SEED_EXAMPLE = """
from dataclasses import dataclass
from victor.core import Event, SQLiteEventStore, Aggregate

@dataclass
class TaskCreated(Event):
    task_id: str = ""
    title: str = ""

class TaskAggregate(Aggregate):
    def __init__(self):
        super().__init__()
        self.title = ""

    def create(self, task_id: str, title: str):
        self.apply(TaskCreated(task_id=task_id, title=title))

    def _apply_TaskCreated(self, event):
        self.id = event.task_id
        self.title = event.title

async def main():
    # Usage
    store = SQLiteEventStore("events.db")
    task = TaskAggregate()
    task.create("task-1", "Build feature")
    for event in task.pending_events:
        await store.append(task.id, event)
    task.mark_events_committed()

import asyncio
asyncio.run(main())
"""


@dataclasses.dataclass
class TaskCreated(KernelEvent):
    """The example's event, registered privately so it cannot clash with other tests'."""

    __event_type__ = "victor.test.seed.TaskCreated"
    task_id: str = ""
    title: str = ""


def test_the_seed_example_writes_a_file_a_second_store_reads_back(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SEED_EXAMPLE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "events.db").is_file()

    [recorded] = asyncio.run(read_back(tmp_path / "events.db"))

    assert isinstance(recorded.event, TaskCreated)
    assert (recorded.event.task_id, recorded.event.title) == ("task-1", "Build feature")
    assert (recorded.stream_id, recorded.version, recorded.type_name) == (
        "task-1",
        1,
        "TaskCreated",
    )


async def read_back(path: Path) -> list[RecordedEvent]:
    registry = EventTypeRegistry()
    registry.register(TaskCreated, name="TaskCreated")
    async with SQLiteEventStore(path, serializer=EventSerializer(registry=registry)) as second:
        return await second.read_stream("task-1")
