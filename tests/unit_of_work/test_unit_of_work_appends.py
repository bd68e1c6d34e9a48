"""A unit of work stores an aggregate's events exactly as ``EventStore.append`` stores them.

Applications mix the two (a script appends, a service commits units of work), and copies,
checksums and idempotent retries compare stored records, so the same events must become the
same records, to the byte, whichever way they were written.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.support.backend import Database, ListRecorder
from victor_core import Aggregate, AggregateRepository, Event, EventStore, UnitOfWork
from victor_core.backend import EventSerializer, NewEventRecord

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Opened(Event):
    __event_type__ = "tests.uow.appends.Opened"
    owner: str = ""


@dataclasses.dataclass
class Noted(Event):
    __event_type__ = "tests.uow.appends.Noted"
    __schema_version__ = 3
    text: str = ""
    amounts: tuple[float, ...] = ()


class Notebook(Aggregate):
    def _apply_Opened(self, event: Opened) -> None:
        pass

    def _apply_Noted(self, event: Noted) -> None:
        pass


class Stamping(EventSerializer):
    """A serializer of an application's own: it overrides serialize, so both must call it."""

    def serialize(self, event: Event, stream_id: str) -> NewEventRecord:
        record = super().serialize(event, stream_id)
        return record._replace(data=record.data[:-1] + ', "stamped": true}')


def events() -> list[Event]:
    """Events with their ids and moments fixed, in other zones than UTC, one naming another
    aggregate, and text that JSON escapes."""
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=-5)))
    return [
        Opened(id="e1", timestamp=moment, owner='Ann \u00e9\U0001f600 "quoted"'),
        Noted(id="e2", timestamp=moment + timedelta(microseconds=1), text="a\nb", amounts=(0.1,)),
        Noted(id="e3", timestamp=datetime(2024, 5, 6, tzinfo=UTC), aggregate_id="elsewhere"),
        Opened(id="e4", timestamp=moment, owner=""),
    ]


@pytest.mark.parametrize("serializer", [EventSerializer, Stamping])
async def test_a_unit_of_work_stores_the_records_an_append_of_the_same_events_stores(
    serializer: type[EventSerializer],
) -> None:
    appended, committed = Database(), Database()
    store = EventStore(ListRecorder(appended), serializer=serializer())
    await store.append("nb-1", events(), expected_version=0)
    # The lists backend offers no transaction manager: its writes are made one by one.
    uow = UnitOfWork(best_effort=True)
    uow.register_repository(
        AggregateRepository(EventStore(ListRecorder(committed), serializer=serializer()), Notebook),
        Notebook,
    )
    notebook = Notebook()
    notebook.id = "nb-1"
    for event in events():
        notebook.apply(event)
    uow.register_new(notebook)

    await uow.commit()

    assert len(appended.events) == 4
    # Each field, the payload's text to the character: ids, types, versions, moments.
    assert committed.events == appended.events
    assert ('"stamped": true' in appended.events[0].data) == (serializer is Stamping)
