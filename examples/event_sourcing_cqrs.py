"""Event sourcing + CQRS: commands write events, projections keep the read model queries use.

The design document's integration example, completed into a program. The command handler
runs the aggregate, appends its events to the event store and dispatches them to a
projection; the query handler answers from the projection, never from the event store.
Both handlers are declared with decorators, so a plain ``Mediator()`` finds them. Run it
with ``python examples/event_sourcing_cqrs.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from victor_core import (
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


# The write side: events and the aggregate that records them.
@dataclass
class TaskCreated(Event):
    task_id: str = ""
    title: str = ""


class TaskAggregate(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""

    def create(self, task_id: str, title: str) -> None:
        self.apply(TaskCreated(task_id=task_id, title=title))

    def _apply_TaskCreated(self, event: TaskCreated) -> None:
        self.id = event.task_id
        self.title = event.title


# The read side: a projection that keeps the task list up to date.
class TaskListProjection(Projection):
    def __init__(self) -> None:
        self.tasks: dict[str, str] = {}

    async def handle_TaskCreated(self, event: TaskCreated) -> None:
        self.tasks[event.task_id] = event.title


# The messages.
@dataclass
class CreateTaskCommand(Command):
    task_id: str = ""
    title: str = ""


@dataclass
class GetTasksQuery(Query[dict[str, str]]):
    pass


event_store = InMemoryEventStore()
dispatcher = EventDispatcher()
projection = dispatcher.register(TaskListProjection())


@command_handler(CreateTaskCommand)
async def create_task(cmd: CreateTaskCommand) -> CommandResult:
    task = TaskAggregate()
    task.create(cmd.task_id, cmd.title)

    for event in task.pending_events:
        await event_store.append(task.id, event)
        await dispatcher.dispatch(event)  # Update projections

    task.mark_events_committed()
    return CommandResult(success=True)


@query_handler(GetTasksQuery)
async def get_tasks(query: GetTasksQuery) -> QueryResult[dict[str, str]]:
    return QueryResult(success=True, data=projection.tasks)


async def main() -> None:
    mediator = Mediator()
    for task_id, title in [("task-1", "Write the docs"), ("task-2", "Ship the release")]:
        result = await mediator.send(CreateTaskCommand(task_id=task_id, title=title))
        print(f"create {task_id}: success={result.success}")

    tasks = await mediator.send(GetTasksQuery())
    print(f"tasks from the read model: {tasks.data}")

    stored = [recorded async for recorded in event_store.read_all()]
    print(f"events in the store: {[type(r.event).__name__ for r in stored]}")


if __name__ == "__main__":
    asyncio.run(main())
