"""Projections and the dispatcher: handlers by event class name, unknown events ignored."""

from __future__ import annotations

import dataclasses

import pytest

from victor_core import (
    ConfigurationError,
    Event,
    EventDispatcher,
    Projection,
    RecordedEvent,
)

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class TaskEvent(Event):
    __event_type__ = "tests.projections.TaskEvent"
    task_id: str = ""


@dataclasses.dataclass
class TaskCreated(TaskEvent):
    __event_type__ = "tests.projections.TaskCreated"
    title: str = ""


@dataclasses.dataclass
class TaskCompleted(TaskEvent):
    __event_type__ = "tests.projections.TaskCompleted"


@dataclasses.dataclass
class TaskArchived(TaskEvent):
    __event_type__ = "tests.projections.TaskArchived"


@dataclasses.dataclass
class UserJoined(Event):
    __event_type__ = "tests.projections.UserJoined"


class TaskList(Projection):
    def __init__(self) -> None:
        self.tasks: dict[str, str] = {}
        self.done: set[str] = set()
        self.other: list[str] = []

    async def handle_TaskCreated(self, event: TaskCreated) -> None:
        self.tasks[event.task_id] = event.title

    def handle_TaskCompleted(self, event: TaskCompleted) -> None:  # a plain function works too
        self.done.add(event.task_id)

    async def handle_TaskEvent(self, event: TaskEvent) -> None:  # any other task event
        self.other.append(type(event).__name__)


async def test_the_seed_usage_updates_a_registered_projection() -> None:
    projection = TaskList()
    dispatcher = EventDispatcher()
    dispatcher.register(projection)

    await dispatcher.dispatch(TaskCreated(task_id="t1", title="Build feature"))

    assert projection.tasks == {"t1": "Build feature"}


async def test_each_event_reaches_the_handler_of_its_class_or_nearest_base() -> None:
    projection = TaskList()

    await projection.handle(TaskCreated(task_id="t1", title="a"))
    await projection.handle(TaskCompleted(task_id="t1"))
    await projection.handle(TaskArchived(task_id="t1"))

    assert projection.tasks == {"t1": "a"}
    assert projection.done == {"t1"}
    assert projection.other == ["TaskArchived"]


async def test_events_without_a_handler_are_ignored() -> None:
    projection = TaskList()

    await projection.handle(UserJoined())

    assert (projection.tasks, projection.done, projection.other) == ({}, set(), [])
    assert not projection.handles(UserJoined)
    assert projection.handles(TaskArchived)


async def test_the_dispatcher_feeds_projections_in_registration_order_once_each() -> None:
    calls: list[str] = []

    class Named(Projection):
        def __init__(self, name: str) -> None:
            self.label = name

        async def handle_TaskCreated(self, event: TaskCreated) -> None:
            calls.append(self.label)

    first, second, third = Named("first"), Named("second"), Named("third")
    dispatcher = EventDispatcher()
    for projection in (first, second, first, third):
        dispatcher.register(projection)
    dispatcher.unregister(third)

    await dispatcher.dispatch_all([TaskCreated(), TaskCreated()])

    assert calls == ["first", "second", "first", "second"]
    assert dispatcher.projections == (first, second)


async def test_a_recorded_event_is_dispatched_as_its_event() -> None:
    projection = TaskList()
    dispatcher = EventDispatcher()
    dispatcher.register(projection)
    recorded = RecordedEvent(
        position=1,
        stream_id="t1",
        version=1,
        event=TaskCreated(task_id="t1", title="from the store"),
        type_name="tests.projections.TaskCreated",
    )

    await dispatcher.dispatch(recorded)

    assert projection.tasks == {"t1": "from the store"}


async def test_a_failing_handler_stops_the_dispatch_and_reaches_the_caller() -> None:
    class Failing(Projection):
        async def handle_TaskCreated(self, event: TaskCreated) -> None:
            raise RuntimeError("read model down")

    after = TaskList()
    dispatcher = EventDispatcher()
    dispatcher.register(Failing())
    dispatcher.register(after)

    with pytest.raises(RuntimeError, match="read model down"):
        await dispatcher.dispatch(TaskCreated(task_id="t1"))

    assert after.tasks == {}


async def test_only_projections_and_events_are_accepted() -> None:
    dispatcher = EventDispatcher()

    with pytest.raises(ConfigurationError, match="derive the read model"):
        dispatcher.register(object())  # type: ignore[type-var]
    with pytest.raises(ConfigurationError, match="Event or a RecordedEvent"):
        await dispatcher.dispatch({"task_id": "t1"})  # type: ignore[arg-type]


async def test_the_checkpoint_name_is_the_class_name_unless_declared() -> None:
    class Declared(Projection):
        __projection_name__ = "reports.v2"

    class Inherits(Declared):
        pass

    assert TaskList.projection_name() == "TaskList"
    assert Declared.projection_name() == "reports.v2"
    assert Inherits.projection_name() == "Inherits"
