"""The stored record itself, as the recorder returns it, and snapshots whatever their order.

The kernel rebuilds events from records, and a record that lost a little on its way through
the engine (a timestamp read back without its zone, a schema version dropped, an event id
replaced by the engine's own) can still rebuild an event that looks right. So the records
are checked here field by field, straight from the backend's recorder.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.logs import shown_by_read_all
from victor_contract_tests.suite.sample_events import Deposited, Withdrawn
from victor_core import Event, EventStore
from victor_core.backend import (
    Capability,
    NewEventRecord,
    SnapshotRecord,
    SnapshotRecorder,
    StoredEventRecord,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]

#: Moments with microseconds, in other zones than UTC, far from the time the test runs.
MOMENTS = [
    datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-8))),
    datetime(2030, 6, 1, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=45))),
]


def check_record(
    record: StoredEventRecord, new: NewEventRecord, stream_id: str, version: int
) -> None:
    where = f"the recorder's record of {stream_id!r} version {version}"
    assert isinstance(record, StoredEventRecord), f"{where} must be a StoredEventRecord"
    assert (record.stream_id, record.version) == (stream_id, version), (
        f"{where} must name its stream and version"
    )
    assert record.event_id == new.event_id, f"{where} must keep the event's own id"
    assert record.type_name == new.type_name, f"{where} must keep the stored type name"
    assert record.schema_version == new.schema_version, f"{where} must keep the schema version"
    assert json.loads(record.data) == json.loads(new.data), f"{where} must keep the payload"
    assert record.timestamp.utcoffset() == timedelta(0), (
        f"{where} must have a UTC-aware timestamp, got {record.timestamp!r}"
    )
    assert record.timestamp == new.timestamp, (
        f"{where} must keep the event's timestamp to the microsecond, got {record.timestamp!r} "
        f"for {new.timestamp!r}"
    )


async def test_the_recorder_returns_each_record_as_it_was_given(
    open_event_store: OpenEventStore,
) -> None:
    writer = await open_event_store()
    events: list[Event] = [
        Deposited(amount=1, timestamp=MOMENTS[0]),
        Withdrawn(amount=2, timestamp=MOMENTS[1]),
        Deposited(amount=3, timestamp=MOMENTS[2], aggregate_id="elsewhere"),
    ]
    new = [writer.serializer.serialize(event, "acct") for event in events]
    await writer.append("acct", events[:1])
    await writer.append("acct", events[1:])

    recorder = (await open_event_store()).recorder
    stream = await recorder.read_stream("acct", 1, None, None)
    log = await recorder.read_all(1, 10)

    assert len(stream) == 3, "read_stream must return every record of the stream"
    for version, (record, given) in enumerate(zip(stream, new, strict=True), start=1):
        check_record(record, given, "acct", version)
    assert list(log) == list(stream), "read_all must return the same records as read_stream"
    assert [(r.version, r.event_id) for r in await recorder.read_stream("acct", 2, 2, None)] == [
        (2, events[1].id)
    ], "read_stream(from_version=2, to_version=2) must return version 2 alone"


async def test_a_record_read_back_rebuilds_the_event_with_its_id_and_moment(
    event_store: EventStore,
) -> None:
    event = Withdrawn(amount=7, timestamp=MOMENTS[1])
    appended = await event_store.append("acct", event)
    await shown_by_read_all(event_store, appended.positions[-1])

    [recorded] = await event_store.read_stream("acct")
    [from_log] = [r async for r in event_store.read_all()]

    for got in (recorded.event, from_log.event):
        assert got.id == event.id, "the event read back must carry its own id"
        assert got.timestamp == event.timestamp, "the event read back must keep its moment"


def snapshot(version: int) -> SnapshotRecord:
    return SnapshotRecord(
        stream_id="acct-1",
        version=version,
        aggregate_type="victor.contract.Account",
        fingerprint="f" * 32,
        state=json.dumps({"version": version}),
        taken_at=MOMENTS[0] + timedelta(seconds=version),
    )


@requires(Capability.SNAPSHOTS)
@pytest.mark.parametrize("order", ["rising", "falling", "shuffled"])
async def test_the_latest_snapshot_is_the_highest_version_whatever_order_they_were_saved_in(
    open_event_store: OpenEventStore, order: str
) -> None:
    versions = [3, 8, 12, 20, 41]
    saved = {"rising": versions, "falling": versions[::-1]}.get(order)
    if saved is None:
        saved = random.Random(13).sample(versions, len(versions))
    store = await open_event_store()
    assert isinstance(store.snapshots, SnapshotRecorder), "SNAPSHOTS gives stores .snapshots"
    for version in saved:
        await store.snapshots.save_snapshot(snapshot(version))

    reader = (await open_event_store()).snapshots
    assert reader is not None
    wrong = []
    for bound in [None, *range(45)]:
        below = [v for v in versions if bound is None or v <= bound]
        expected = snapshot(max(below)) if below else None
        got = await reader.latest_snapshot("acct-1", bound)
        if got != expected:
            wrong.append(f"max_version={bound}: got {got and got.version}, not {max(below or [0])}")

    assert not wrong, (
        f"latest_snapshot must return the snapshot with the highest version at or below "
        f"max_version, whatever order they were saved in (saved {saved}): " + "; ".join(wrong[:5])
    )
