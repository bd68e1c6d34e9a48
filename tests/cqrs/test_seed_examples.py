"""The CQRS examples of the design document run as written.

The blocks are read from the verbatim copy in tests/seed/. Where a block uses names it does
not define (``dataclass``; the task aggregate, store and projection of the integration
example), the prelude supplies them; the epilogue checks what the example did.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip(
    "victor_memory", reason="the design's examples use the memory backend (victor-memory)"
)
pytest.importorskip(
    "victor_sqlite", reason="the design's examples use the SQLite backend (victor-sqlite)"
)

from tests.support.markdown import CodeBlock, code_blocks, run_blocks

SEED = Path(__file__).resolve().parents[1] / "seed" / "core-design-patterns.md"


def seed_block(marker: str, import_path: str = "victor.core") -> CodeBlock:
    """The one seed block containing *marker*, importing from *import_path*."""
    (block,) = [b for b in code_blocks(SEED) if marker in b.code]
    code = block.code.replace("from victor.core import", f"from {import_path} import")
    return CodeBlock(path=block.path, line=block.line, code=code)


@pytest.mark.parametrize("import_path", ["victor.core", "victor_core"])
def test_cqrs_quick_example(import_path: str, tmp_path: Path) -> None:
    epilogue = """
assert result.success and result.data == {"user_id": "user-eve"}, result
assert user.success and user.data == {"name": "Alice"}, user
print("sent:", result.data["user_id"], user.data["name"])
"""
    run = run_blocks(
        [seed_block("mediator.register_command(CreateUserCommand", import_path)],
        tmp_path,
        prelude="from dataclasses import dataclass\n",
        epilogue=epilogue,
    )
    assert run.stdout.strip() == "sent: user-eve Alice"


# Everything the integration example uses without defining it.
INTEGRATION_PRELUDE = '''
from dataclasses import dataclass

from victor.core import (
    Aggregate,
    Command,
    CommandResult,
    Event,
    EventDispatcher,
    InMemoryEventStore,
    Mediator,
    Projection,
    Query,
    QueryResult,
    command_handler,
    query_handler,
)


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


@dataclass
class CreateTaskCommand(Command):
    task_id: str = ""
    title: str = ""


@dataclass
class GetTasksQuery(Query[list]):
    pass


class TaskListProjection(Projection):
    """The read side: one entry per created task."""

    def __init__(self):
        super().__init__()
        self.tasks = []

    async def handle_TaskCreated(self, event):
        self.tasks.append({"task_id": event.task_id, "title": event.title})


event_store = InMemoryEventStore()
projection = TaskListProjection()
dispatcher = EventDispatcher()
dispatcher.register(projection)
'''


def test_event_sourcing_and_cqrs_integration_example(tmp_path: Path) -> None:
    # The decorated handlers need no wiring: a plain Mediator() finds them.
    epilogue = """
mediator = Mediator()
created = await mediator.send(CreateTaskCommand(task_id="task-1", title="Build feature"))
listed = await mediator.send(GetTasksQuery())
assert created.success, created
assert listed.data == [{"task_id": "task-1", "title": "Build feature"}], listed
[recorded] = await event_store.read_stream("task-1")
print("stored:", type(recorded.event).__name__, recorded.event.title)
"""
    run = run_blocks(
        [seed_block("@command_handler(CreateTaskCommand)")],
        tmp_path,
        prelude=INTEGRATION_PRELUDE,
        epilogue=epilogue,
    )
    assert run.stdout.strip() == "stored: TaskCreated Build feature"
