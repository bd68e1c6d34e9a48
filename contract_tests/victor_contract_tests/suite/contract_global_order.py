"""Global order under concurrent writers: what a catch-up reader can rely on.

Several stores (connections, for a database) append at once while readers follow
``read_all``. A reader's positions never go backwards, no event appears below a position it
has already passed, and a reader that keeps catching up ends with every event exactly once.
Each stream's events stay in version order within the global order, also when a transaction
appends to a stream that other writers append to while it is open.
"""

from __future__ import annotations

import asyncio

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.logs import shown_by_read_all
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import Backend, EventStore, Projection, ProjectionRunner
from victor_core.backend import (
    AppendEvents,
    Capability,
    ConcurrencyError,
    NewEventRecord,
    StreamState,
    TransactionManager,
    TransientBackendError,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE, Capability.GLOBAL_ORDER)]

WRITERS = 4
APPENDS_PER_WRITER = 25


async def write(store: EventStore, writer: int) -> list[str]:
    """Appends of one to three events, to the writer's own streams and to a shared one."""
    written: list[str] = []
    for number in range(APPENDS_PER_WRITER):
        events = [Deposited(amount=writer * 1000 + number) for _ in range(1 + number % 3)]
        stream = "shared" if number % 4 == 0 else f"w{writer}-{number % 5}"
        await store.append(stream, events)
        written.extend(event.id for event in events)
        await asyncio.sleep(0)
    return written


async def test_a_reader_following_concurrent_writers_sees_every_event_once_in_rising_order(
    open_event_store: OpenEventStore,
) -> None:
    stores = [await open_event_store() for _ in range(WRITERS)]
    reader = await open_event_store()
    seen: list[str] = []
    positions: list[int] = []
    writers_done = asyncio.Event()

    async def follow() -> None:
        position = 0
        while True:
            finished = writers_done.is_set()  # read before the catch-up, so none is missed
            async for recorded in reader.read_all(from_position=position + 1, page_size=7):
                positions.append(recorded.position)
                seen.append(recorded.event.id)
                position = recorded.position
            if finished:
                return
            await asyncio.sleep(0.001)

    async def all_writers() -> list[list[str]]:
        try:
            return await asyncio.gather(*(write(s, n) for n, s in enumerate(stores)))
        finally:
            writers_done.set()

    written, _ = await asyncio.gather(all_writers(), follow())

    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert sorted(seen) == sorted(event_id for ids in written for event_id in ids)
    assert len(seen) == len(set(seen))


async def test_each_stream_keeps_its_append_order_within_the_global_order(
    open_event_store: OpenEventStore,
) -> None:
    stores = [await open_event_store() for _ in range(WRITERS)]
    await asyncio.gather(*(write(s, n) for n, s in enumerate(stores)))

    everything = [r async for r in stores[0].read_all(page_size=50)]

    versions: dict[str, list[int]] = {}
    for recorded in everything:
        versions.setdefault(recorded.stream_id, []).append(recorded.version)
    for stream, stream_versions in versions.items():
        assert stream_versions == list(range(1, len(stream_versions) + 1)), stream
    assert [r.position for r in everything] == sorted({r.position for r in everything})


#: Appends a transaction makes between its first write and its append to the shared stream.
OTHER_WRITES = 40


def serialized(store: EventStore, stream: str, count: int) -> tuple[NewEventRecord, ...]:
    return tuple(store.serializer.serialize(Deposited(amount=n), stream) for n in range(count))


def versions_in_global_order(everything: list[tuple[int, str, int]]) -> dict[str, list[int]]:
    versions: dict[str, list[int]] = {}
    for _, stream, version in sorted(everything):
        versions.setdefault(stream, []).append(version)
    return versions


@requires(Capability.TRANSACTIONS)
async def test_a_transaction_appending_to_a_stream_others_append_to_keeps_its_order_or_is_refused(
    victor_backend: Backend, open_event_store: OpenEventStore
) -> None:
    """A transaction's append lands above its stream's head in the global order, or is refused.

    The transaction writes first (a backend that gives out positions by transaction has then
    given out its positions) and appends, with any expected version, to a stream that
    another store appends to all the while, committing each append. Either it commits, and
    the stream's versions rise with positions, or it is refused as a whole with an error
    that running it again cures, having written nothing; run again alone, it commits.
    """
    store, other = await open_event_store(), await open_event_store()
    manager = victor_backend.transaction_manager(store)
    assert isinstance(manager, TransactionManager), (
        "a backend declaring TRANSACTIONS gives event stores a TransactionManager"
    )
    await other.append("shared", Deposited(amount=-1))
    writes = [
        AppendEvents(store.recorder, f"own-{n}", serialized(store, f"own-{n}", 1), StreamState.ANY)
        for n in range(OTHER_WRITES)
    ]
    writes.append(
        AppendEvents(store.recorder, "shared", serialized(store, "shared", 2), StreamState.ANY)
    )

    commit = asyncio.ensure_future(manager.commit(writes))
    appended_meanwhile = 0
    while not commit.done():
        await other.append("shared", Deposited(amount=appended_meanwhile))
        appended_meanwhile += 1
        await asyncio.sleep(0)  # a backend whose appends never wait lets the commit go on
    try:
        await commit
    except (ConcurrencyError, TransientBackendError):
        assert [await store.stream_version(f"own-{n}") for n in range(OTHER_WRITES)] == [
            0
        ] * OTHER_WRITES, "a refused transaction left some of its appends stored"
        assert await store.stream_version("shared") == 1 + appended_meanwhile
        await manager.commit(writes)

    last = await store.read_stream("shared", from_version=appended_meanwhile + 3)
    await shown_by_read_all(store, last[0].position)
    everything = [(r.position, r.stream_id, r.version) async for r in store.read_all()]
    versions = versions_in_global_order(everything)
    assert versions["shared"] == list(range(1, appended_meanwhile + 4)), (
        "the stream's versions, in the global order of its events, are not 1, 2, 3, ...: "
        f"{[(p, v) for p, s, v in sorted(everything) if s == 'shared']}"
    )
    assert all(versions[f"own-{n}"] == [1] for n in range(OTHER_WRITES))


@requires(Capability.CHECKPOINTS)
async def test_a_projection_runner_catching_up_during_writes_handles_every_event_once(
    open_event_store: OpenEventStore,
) -> None:
    class Collector(Projection):
        def __init__(self) -> None:
            self.ids: list[str] = []

        async def handle_Deposited(self, event: Deposited) -> None:
            self.ids.append(event.id)

    stores = [await open_event_store() for _ in range(WRITERS)]
    collector = Collector()
    runner = ProjectionRunner(await open_event_store(), collector, batch_size=10)
    writing = asyncio.ensure_future(asyncio.gather(*(write(s, n) for n, s in enumerate(stores))))
    while not writing.done():
        await runner.catch_up()
        await asyncio.sleep(0.001)
    written = await writing
    await runner.catch_up()

    expected = sorted(event_id for ids in written for event_id in ids)
    assert sorted(collector.ids) == expected
    assert len(collector.ids) == len(set(collector.ids))
