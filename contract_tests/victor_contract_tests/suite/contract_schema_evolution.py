"""Events written by an older shape of their class are read back through upcasters and aliases.

Each test plays two deployments: one that wrote with the old class, and one that reads with
the new class (its own type registry and upcasters, as a separate process would have). The
backend must keep each event's schema version exactly as written.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_core import Event, EventStore, EventTypeRegistry, UpcasterRegistry
from victor_core.backend import Capability, EventSerializer, SerializationError

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]

STORED_NAME = "victor.contract.TaskTitled"


@dataclasses.dataclass
class TaskTitledV1(Event):
    __event_type__ = "victor.contract.evolution.TaskTitledV1"
    title: str = ""


@dataclasses.dataclass
class TaskTitledV2(Event):
    """Version 2 split ``title`` into ``name`` and ``note``."""

    __event_type__ = "victor.contract.evolution.TaskTitledV2"
    __schema_version__ = 2
    name: str = ""
    note: str = ""


@dataclasses.dataclass
class TaskTitledV3(Event):
    """Version 3 made the note a list of lines."""

    __event_type__ = "victor.contract.evolution.TaskTitledV3"
    __schema_version__ = 3
    name: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TaskRenamed(Event):
    """What ``TaskTitled`` is called now: stored under a new name, still reading the old one."""

    __event_type__ = "victor.contract.evolution.TaskRenamed"
    title: str = ""


def split_title(data: dict[str, Any]) -> dict[str, Any]:
    name, _, note = data.pop("title").partition(" - ")
    return {**data, "name": name, "note": note}


def note_to_lines(data: dict[str, Any]) -> dict[str, Any]:
    note = data.pop("note")
    return {**data, "notes": note.splitlines()}


def writer_serializer(event_type: type[Event]) -> EventSerializer:
    registry = EventTypeRegistry()
    registry.register(event_type, name=STORED_NAME)
    return EventSerializer(registry=registry)


def reader_serializer(
    event_type: type[Event], *steps: tuple[int, Any], aliases: tuple[str, ...] = ()
) -> EventSerializer:
    registry = EventTypeRegistry()
    registry.register(event_type, name=STORED_NAME, aliases=aliases)
    upcasters = UpcasterRegistry()
    for from_version, upcast in steps:
        upcasters.register(event_type, from_version=from_version, upcast=upcast)
    return EventSerializer(registry=registry, upcasters=upcasters)


async def test_the_schema_version_is_stored_with_each_event(
    open_event_store: OpenEventStore,
) -> None:
    old = await open_event_store(serializer=writer_serializer(TaskTitledV1))
    new = await open_event_store(serializer=writer_serializer(TaskTitledV2))
    await old.append("task-1", TaskTitledV1(title="a"))
    await new.append("task-1", TaskTitledV2(name="b"))

    records = await new.recorder.read_stream("task-1", 1, None, None)

    assert [r.type_name for r in records] == [STORED_NAME, STORED_NAME]
    assert [r.schema_version for r in records] == [1, 2]


async def test_old_events_are_upcast_step_by_step_to_the_current_class(
    open_event_store: OpenEventStore,
) -> None:
    old = await open_event_store(serializer=writer_serializer(TaskTitledV1))
    middle = await open_event_store(serializer=writer_serializer(TaskTitledV2))
    written = TaskTitledV1(title="Ship it - carefully\nand soon")
    await old.append("task-1", written)
    await middle.append("task-1", TaskTitledV2(name="Test", note="one\ntwo"))

    reader = await open_event_store(
        serializer=reader_serializer(TaskTitledV3, (1, split_title), (2, note_to_lines))
    )
    first, second = [r.event for r in await reader.read_stream("task-1")]

    assert first == TaskTitledV3(
        name="Ship it",
        notes=["carefully", "and soon"],
        id=written.id,
        timestamp=written.timestamp,
        aggregate_id="task-1",
    )
    assert isinstance(second, TaskTitledV3)
    assert (second.name, second.notes) == ("Test", ["one", "two"])


async def test_a_missing_upcaster_names_the_class_and_the_version_to_register(
    open_event_store: OpenEventStore,
) -> None:
    old = await open_event_store(serializer=writer_serializer(TaskTitledV1))
    await old.append("task-1", TaskTitledV1(title="x"))
    reader = await open_event_store(serializer=reader_serializer(TaskTitledV3, (1, split_title)))

    with pytest.raises(SerializationError, match=r"from_version=2") as caught:
        await reader.read_stream("task-1")

    assert "TaskTitledV3" in str(caught.value)


async def test_an_event_from_newer_code_is_refused_with_what_to_do(
    open_event_store: OpenEventStore,
) -> None:
    newer = await open_event_store(serializer=writer_serializer(TaskTitledV2))
    await newer.append("task-1", TaskTitledV2(name="x"))
    older = await open_event_store(serializer=writer_serializer(TaskTitledV1))

    with pytest.raises(SerializationError, match="newer code"):
        await older.read_stream("task-1")


async def test_a_renamed_class_reads_events_stored_under_its_old_name(
    open_event_store: OpenEventStore,
) -> None:
    old = await open_event_store(serializer=writer_serializer(TaskTitledV1))
    await old.append("task-1", TaskTitledV1(title="before the rename"))
    registry = EventTypeRegistry()
    registry.register(TaskRenamed, name="victor.contract.TaskRenamed", aliases=[STORED_NAME])
    renamed: EventStore = await open_event_store(serializer=EventSerializer(registry=registry))
    await renamed.append("task-1", TaskRenamed(title="after"))

    recorded = await renamed.read_stream("task-1")

    assert [type(r.event) for r in recorded] == [TaskRenamed, TaskRenamed]
    assert [getattr(r.event, "title", None) for r in recorded] == ["before the rename", "after"]
    assert [r.type_name for r in recorded] == [STORED_NAME, "victor.contract.TaskRenamed"]
