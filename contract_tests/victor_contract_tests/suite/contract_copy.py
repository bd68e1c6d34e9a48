"""Copying a store: every snapshot can be listed, and ``victor copy`` in and out is lossless.

``victor copy`` moves an event store between backends (SQLite to PostgreSQL, most often).
It reads snapshots with ``SnapshotRecorder.read_snapshots`` and writes everything through the
ordinary recorder methods, so these tests hold each backend to both ends of a copy: into it
from the in-memory backend, and out of it into the in-memory backend, with nothing lost.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.sample_events import Deposited, Withdrawn
from victor_core import EventStore, open_event_store
from victor_core.backend import Capability, SnapshotRecord, SnapshotRecorder
from victor_core.copying import CopyRefused, copy_between

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]

TAKEN = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
#: Stream ids whose code point order differs from a locale's order and from UTF-16's.
STREAMS = ("b", "a-2", "a-10", "Z", "\u00e9t\u00e9", "\U0001f600", "\uff5e", "a")


def snapshots_of(store: EventStore) -> SnapshotRecorder:
    assert store.snapshots is not None, "a backend declaring SNAPSHOTS gives stores .snapshots"
    return store.snapshots


def snapshot(stream_id: str, version: int, state: str = "{}") -> SnapshotRecord:
    return SnapshotRecord(
        stream_id=stream_id,
        version=version,
        aggregate_type="victor.contract.Account",
        fingerprint="f" * 32,
        state=state,
        taken_at=TAKEN + timedelta(seconds=version),
    )


async def every_snapshot(recorder: SnapshotRecorder, limit: int) -> list[SnapshotRecord]:
    found: list[SnapshotRecord] = []
    after: tuple[str, int] | None = None
    while True:
        page = list(await recorder.read_snapshots(after, limit))
        assert len(page) <= limit, f"a page of limit={limit} held {len(page)} snapshots"
        found.extend(page)
        if len(page) < limit:
            return found
        after = (page[-1].stream_id, page[-1].version)


@requires(Capability.SNAPSHOTS)
async def test_snapshots_are_listed_by_stream_id_in_code_point_order_then_version(
    open_event_store: OpenEventStore,
) -> None:
    writer = snapshots_of(await open_event_store())
    assert list(await writer.read_snapshots(None, 10)) == []
    for version in (12, 3, 7):
        for stream_id in STREAMS:
            await writer.save_snapshot(snapshot(stream_id, version))
    await writer.save_snapshot(snapshot("a", 7, '{"replaced":true}'))
    expected = sorted(
        (
            snapshot(s, v, '{"replaced":true}' if (s, v) == ("a", 7) else "{}")
            for s in STREAMS
            for v in (3, 7, 12)
        ),
        key=lambda r: (r.stream_id, r.version),
    )

    reader = snapshots_of(await open_event_store())

    for limit in (1, 2, 5, 100):
        assert await every_snapshot(reader, limit) == expected, f"paging by {limit}"
    keys = [(r.stream_id, r.version) for r in expected]
    assert keys[:4] == [("Z", 3), ("Z", 7), ("Z", 12), ("a", 3)]
    assert list(await reader.read_snapshots(("a", 3), 2)) == expected[4:6]
    assert list(await reader.read_snapshots(("a", 12), 1)) == [expected[6]]
    assert expected[6].stream_id == "a-10"
    assert list(await reader.read_snapshots(("a", 5), 1)) == [expected[4]]
    assert list(await reader.read_snapshots(("\U0001f600", 12), 5)) == []


async def _fill(store: EventStore, *, snapshots: bool, checkpoints: bool) -> None:
    """Interleaved streams, checkpoints and snapshots, through the recorders as written."""
    for round_ in range(4):
        for stream_id in STREAMS[:4]:
            await store.append(stream_id, [Deposited(amount=round_), Withdrawn(amount=1)])
    if snapshots and store.snapshots is not None:
        for stream_id in STREAMS[:3]:
            await store.snapshots.save_snapshot(snapshot(stream_id, 4, '{"balance": 6}'))
    if checkpoints and store.checkpoints is not None:
        log = [r async for r in store.read_all()]
        await store.checkpoints.save("middle", log[9].position)
        await store.checkpoints.save("head", log[-1].position)


async def _contents(store: EventStore) -> tuple[object, ...]:
    log = [r async for r in store.read_all()]
    events = [
        (r.stream_id, r.version, r.event, r.event.id, r.event.timestamp, r.type_name) for r in log
    ]
    positions = [r.position for r in log]
    checkpoints: dict[str, int] = {}
    if store.checkpoints is not None:
        # As an index into the log: positions themselves belong to each backend.
        checkpoints = {
            name: positions.index(position) + 1
            for name, position in (await store.checkpoints.load_all()).items()
        }
    snapshots: list[SnapshotRecord] = []
    if store.snapshots is not None:
        snapshots = await every_snapshot(store.snapshots, 100)
    return events, checkpoints, snapshots


@requires(Capability.GLOBAL_ORDER)
async def test_a_store_copied_in_and_back_out_holds_what_it_held(
    open_event_store: OpenEventStore,
) -> None:
    name = f"memory://copy-{uuid.uuid4().hex}"
    original = open_event_store_of(name)
    back = open_event_store_of(f"memory://copy-{uuid.uuid4().hex}")
    target = await open_event_store()
    try:
        # What the backend keeps: a copy into a store without snapshots or checkpoints is
        # refused when the source has some (the caller leaves them out).
        await _fill(
            original,
            snapshots=target.snapshots is not None,
            checkpoints=target.checkpoints is not None,
        )
        into = await copy_between(original, target)
        out = await copy_between(target, back)

        assert into.events.count == out.events.count == 32
        assert into.events.checksum == out.events.checksum
        assert into.checkpoints.keys() == out.checkpoints.keys()
        expected = await _contents(original)
        assert await _contents(back) == expected
        assert (await _contents(await open_event_store()))[0] == expected[0]
    finally:
        await original.close()
        await back.close()


@requires(Capability.GLOBAL_ORDER)
async def test_a_copy_into_a_store_holding_other_events_writes_nothing(
    open_event_store: OpenEventStore,
) -> None:
    source = open_event_store_of(f"memory://copy-{uuid.uuid4().hex}")
    target = await open_event_store()
    try:
        await _fill(source, snapshots=False, checkpoints=False)
        await target.append("someone-else", [Deposited(amount=5)])

        with pytest.raises(CopyRefused, match="someone-else"):
            await copy_between(source, target, snapshots=False)

        assert [r.stream_id for r in [r async for r in target.read_all()]] == ["someone-else"]
    finally:
        await source.close()


def open_event_store_of(url: str) -> EventStore:
    return open_event_store(url)
