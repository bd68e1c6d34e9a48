"""Events: one base for dataclass and attrs subclasses, and stored type names."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC

import attrs
import pytest

from victor_core import Event, EventTypeConflict, EventTypeRegistry, UnknownEventType, new_id


@dataclasses.dataclass
class Opened(Event):
    owner: str  # no default: the base fields are keyword-only, so this is allowed
    note: str = ""


@attrs.define
class Closed(Event):
    reason: str
    final: bool = True


def test_base_fields_have_fresh_values_for_dataclass_and_attrs_subclasses() -> None:
    opened, closed = Opened("ann"), Closed("done")

    for event in (opened, closed):
        assert isinstance(event.id, str)
        assert len(event.id) == 36
        assert event.timestamp.tzinfo is UTC
        assert event.aggregate_id == ""
    assert opened.id != closed.id
    assert Opened("x").id != Opened("x").id


def test_base_fields_are_keyword_arguments_of_every_subclass() -> None:
    opened = Opened("ann", aggregate_id="acct-1", id="e-1")
    closed = Closed("done", aggregate_id="acct-1", id="e-2")

    assert (opened.owner, opened.aggregate_id, opened.id) == ("ann", "acct-1", "e-1")
    assert (closed.reason, closed.aggregate_id, closed.id) == ("done", "acct-1", "e-2")
    with pytest.raises(TypeError):
        Opened("ann", "note", "not-positional")  # type: ignore[call-arg]


def test_the_seed_style_event_with_only_defaults() -> None:
    @dataclasses.dataclass
    class TaskCreated(Event):
        task_id: str = ""
        title: str = ""

    event = TaskCreated(task_id="t1", title="Build")

    assert (event.task_id, event.title) == ("t1", "Build")
    assert "TaskCreated(id=" in repr(event)


def test_equality_compares_every_field() -> None:
    first = Opened("ann", id="same")
    same = Opened("ann", id="same", timestamp=first.timestamp)

    assert first == same
    assert first != Opened("bob", id="same", timestamp=first.timestamp)


def test_subclasses_register_under_their_class_name_or_declared_name() -> None:
    registry = EventTypeRegistry()

    class Named(Event):
        __event_type__ = "billing.InvoicePaid"

    registry.register_subclass(Opened)
    registry.register_subclass(Named)

    assert registry.name_of(Opened) == "Opened"
    assert registry.resolve("billing.InvoicePaid") is Named


def test_a_renamed_class_reads_its_old_name_through_an_alias() -> None:
    registry = EventTypeRegistry()

    @dataclasses.dataclass
    class AccountOpened(Event):
        owner: str = ""

    registry.register(AccountOpened, aliases=["Opened", "acct.opened.v0"])

    assert registry.resolve("Opened") is AccountOpened
    assert registry.resolve("acct.opened.v0") is AccountOpened
    assert registry.name_of(AccountOpened) == "AccountOpened"


def test_redefining_a_class_replaces_it_but_two_different_classes_are_ambiguous() -> None:
    registry = EventTypeRegistry()

    def define(module: str) -> type[Event]:
        cls = type("Moved", (Event,), {"__module__": module, "__qualname__": "Moved"})
        registry.register_subclass(cls)
        return cls

    define("app.first")
    newer = define("app.first")  # the same class defined again, as after a reload
    assert registry.resolve("Moved") is newer

    define("app.second")  # a different class claiming the same stored name
    with pytest.raises(EventTypeConflict) as caught:
        registry.resolve("Moved")
    assert "app.first.Moved and app.second.Moved" in str(caught.value)
    assert "__event_type__" in str(caught.value)


def test_an_unknown_name_lists_known_ones_and_how_to_register() -> None:
    registry = EventTypeRegistry()
    registry.register(Opened)

    with pytest.raises(UnknownEventType) as caught:
        registry.resolve("Vanished")

    assert caught.value.type_name == "Vanished"
    assert "Opened" in str(caught.value)
    assert "event_types.register" in str(caught.value)


def test_event_ids_are_the_text_of_random_uuids() -> None:
    ids = [new_id() for _ in range(2000)]

    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    assert len(set(ids)) == len(ids)
    assert {text[19] for text in ids} == set("89ab")
