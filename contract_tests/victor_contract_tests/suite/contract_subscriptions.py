"""Live subscriptions: catch up, then follow every append in global order, each event once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.sample_aggregates import Account
from victor_contract_tests.suite.sample_events import Deposited, Withdrawn
from victor_core import AggregateRepository, EventStore, RecordedEvent, UnitOfWork
from victor_core.backend import (
    AppendSignal,
    Capability,
    ConfigurationError,
    EventRecorder,
    StoredEventRecord,
)

pytestmark = [
    pytest.mark.asyncio,
    requires(Capability.EVENT_STORE, Capability.GLOBAL_ORDER, Capability.SUBSCRIPTIONS),
]

#: Short enough that a backend which polls keeps the suite quick.
POLL = 0.05
#: A bound on waiting for what must arrive; never reached when the guarantee holds.
PATIENCE = 20.0
#: A poll interval no test waits out: what ends or wakes the consumer is something else.
NEVER = 3600.0


async def take(subscription: object, count: int) -> list[RecordedEvent]:
    """The next *count* events of *subscription*, failing instead of hanging forever."""
    assert hasattr(subscription, "__anext__")

    async def collect() -> list[RecordedEvent]:
        got: list[RecordedEvent] = []
        while len(got) < count:
            got.append(await subscription.__anext__())
        return got

    try:
        return await asyncio.wait_for(collect(), PATIENCE)
    except TimeoutError:
        pytest.fail(f"a subscription did not deliver {count} appended events: it missed some")


async def positions_of(store: EventStore) -> list[int]:
    return [recorded.position async for recorded in store.read_all()]


async def test_a_subscription_catches_up_then_follows_new_appends_in_global_order(
    event_store: EventStore,
) -> None:
    await event_store.append("a", [Deposited(amount=1), Deposited(amount=2)])
    async with event_store.subscribe(poll_interval=POLL) as subscription:
        caught_up = await take(subscription, 2)
        await event_store.append("b", Deposited(amount=3))
        await event_store.append("a", [Withdrawn(amount=4), Deposited(amount=5)])
        live = await take(subscription, 3)

    delivered = caught_up + live
    assert [r.event.amount for r in delivered] == [1, 2, 3, 4, 5]  # type: ignore[attr-defined]
    assert [r.position for r in delivered] == await positions_of(event_store), (
        "a subscription delivers exactly what read_all holds, in global order"
    )
    assert [(r.stream_id, r.version) for r in delivered] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),
        ("a", 3),
        ("a", 4),
    ]


async def test_racing_appenders_are_delivered_each_once_with_no_gap(
    event_store: EventStore, open_event_store: OpenEventStore
) -> None:
    # Each appender has its own store (its own connection), so that commits really race.
    writers = [await open_event_store() for _ in range(3)]

    async def appender(stream: str) -> None:
        writer = writers[int(stream[1:])]
        for amount in range(10):
            await writer.append(stream, Deposited(amount=amount))

    async with event_store.subscribe(poll_interval=POLL) as subscription:
        appending = asyncio.gather(*(appender(f"s{n}") for n in range(3)))
        delivered = await take(subscription, 30)
        await appending

    positions = [r.position for r in delivered]
    assert positions == await positions_of(event_store), (
        "events appended while a subscription follows the log arrive once each, in order"
    )
    assert len({r.event.id for r in delivered}) == 30


async def test_appends_through_another_store_on_the_same_storage_are_followed(
    open_event_store: OpenEventStore,
) -> None:
    reader, writer = await open_event_store(), await open_event_store()
    async with reader.subscribe(poll_interval=POLL) as subscription:
        waiting = asyncio.ensure_future(take(subscription, 2))
        await asyncio.sleep(0)
        await writer.append("a", Deposited(amount=1))
        await writer.append("b", Deposited(amount=2))
        delivered = await waiting

    assert [r.event.amount for r in delivered] == [1, 2]  # type: ignore[attr-defined]


async def test_from_position_is_inclusive_so_a_consumer_resumes_after_what_it_saw(
    event_store: EventStore,
) -> None:
    await event_store.append("a", [Deposited(amount=n) for n in range(1, 6)])
    async with event_store.subscribe(poll_interval=POLL) as first:
        seen = await take(first, 2)
        stopped_at = first.position

    assert stopped_at == seen[-1].position
    async with event_store.subscribe(stopped_at + 1, poll_interval=POLL) as resumed:
        rest = await take(resumed, 3)

    assert [r.event.amount for r in seen + rest] == [1, 2, 3, 4, 5]  # type: ignore[attr-defined]


async def test_types_keep_only_those_events_and_the_position_moves_past_the_others(
    event_store: EventStore,
) -> None:
    first = await event_store.append(
        "a", [Deposited(amount=1), Withdrawn(amount=2), Deposited(amount=3), Withdrawn(amount=4)]
    )
    async with event_store.subscribe(types=[Withdrawn], poll_interval=POLL) as by_class:
        withdrawals = await take(by_class, 2)
    async with event_store.subscribe(
        types=["victor.contract.Deposited"], poll_interval=POLL
    ) as by_name:
        deposits = await take(by_name, 2)
        assert by_name.position == deposits[-1].position
        fifth = await event_store.append("a", Deposited(amount=5))
        (later,) = await take(by_name, 1)

    assert [r.event.amount for r in withdrawals] == [2, 4]  # type: ignore[attr-defined]
    assert [r.event.amount for r in deposits] == [1, 3]  # type: ignore[attr-defined]
    # Positions need not be consecutive (a backend may leave gaps): compare with the appends'.
    assert first.positions[3] < later.position == fifth.positions[0], (
        "the filtered-out fourth event was passed over"
    )


async def test_next_batch_returns_what_was_read_without_waiting_for_more(
    event_store: EventStore,
) -> None:
    await event_store.append("a", [Deposited(amount=n) for n in range(1, 8)])
    async with event_store.subscribe(page_size=4, poll_interval=POLL) as subscription:
        first = await asyncio.wait_for(subscription.next_batch(3), PATIENCE)
        second = await asyncio.wait_for(subscription.next_batch(10), PATIENCE)
        third = await asyncio.wait_for(subscription.next_batch(10), PATIENCE)
        assert subscription.position == third[-1].position

    amounts = [[r.event.amount for r in batch] for batch in (first, second, third)]  # type: ignore[attr-defined]
    assert amounts == [[1, 2, 3], [4], [5, 6, 7]], (
        "a batch holds at most its limit and never waits beyond the page in hand"
    )


async def test_closing_the_subscription_ends_a_waiting_consumer(event_store: EventStore) -> None:
    # Polled once an hour: only closing can end the consumer within PATIENCE.
    await event_store.append("a", Deposited(amount=1))
    subscription = event_store.subscribe(poll_interval=NEVER)
    received: list[RecordedEvent] = []
    first = asyncio.Event()

    async def consume() -> None:
        async for recorded in subscription:
            received.append(recorded)
            first.set()

    consumer = asyncio.ensure_future(consume())
    await asyncio.wait_for(first.wait(), PATIENCE)
    await subscription.aclose()

    await asyncio.wait_for(consumer, PATIENCE)
    assert subscription.closed
    assert [r.event.amount for r in received] == [1]  # type: ignore[attr-defined]


async def test_closing_the_store_ends_its_subscriptions(event_store: EventStore) -> None:
    subscription = event_store.subscribe(poll_interval=NEVER)

    async def consume() -> list[RecordedEvent]:
        return [recorded async for recorded in subscription]

    consumer = asyncio.ensure_future(consume())
    await asyncio.sleep(0.05)
    await event_store.close()

    assert await asyncio.wait_for(consumer, PATIENCE) == []


async def test_cancelling_the_consumer_stops_the_subscription_at_once(
    event_store: EventStore,
) -> None:
    subscription = event_store.subscribe(poll_interval=POLL)
    consumer = asyncio.ensure_future(subscription.__anext__())
    await asyncio.sleep(0.05)

    consumer.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(consumer, PATIENCE)
    await event_store.append("a", Deposited(amount=1))
    assert (await take(subscription, 1))[0].event.amount == 1  # type: ignore[attr-defined]


class CountingReads(EventRecorder):
    """The backend's own recorder, counting the ``read_all`` calls a subscription makes."""

    def __init__(self, inner: EventRecorder) -> None:
        self.inner = inner
        self.reads = 0

    async def append(self, stream_id, records, expected_version):  # type: ignore[no-untyped-def]
        return await self.inner.append(stream_id, records, expected_version)

    async def read_stream(self, stream_id, from_version, to_version, limit):  # type: ignore[no-untyped-def]
        return await self.inner.read_stream(stream_id, from_version, to_version, limit)

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        self.reads += 1
        return await self.inner.read_all(from_position, limit)

    async def stream_version(self, stream_id: str) -> int:
        return await self.inner.stream_version(stream_id)

    def append_signal(self) -> AppendSignal | None:
        return self.inner.append_signal()

    async def close(self) -> None:
        await self.inner.close()


async def test_a_caught_up_subscription_does_not_read_again_until_woken(
    event_store: EventStore,
) -> None:
    counting = CountingReads(event_store.recorder)
    event_store.recorder = counting
    await event_store.append("a", Deposited(amount=1))
    async with event_store.subscribe(poll_interval=PATIENCE) as subscription:
        await take(subscription, 1)
        idle = asyncio.ensure_future(subscription.__anext__())
        await asyncio.sleep(0.3)
        reads_while_idle = counting.reads
        idle.cancel()

    assert reads_while_idle <= 2, (
        f"a caught-up subscription read the log {reads_while_idle} times while nothing was "
        "appended: it must wait for the backend's signal or the poll interval, not spin"
    )


@requires(Capability.REPOSITORY, Capability.TRANSACTIONS)
async def test_events_committed_by_a_unit_of_work_are_followed(
    open_event_store: OpenEventStore, open_repository: OpenRepository
) -> None:
    reader = await open_event_store()
    async with reader.subscribe(poll_interval=POLL) as subscription:
        waiting = asyncio.ensure_future(take(subscription, 2))
        await asyncio.sleep(0)
        uow = UnitOfWork()
        uow.register_repository(AggregateRepository(await open_event_store(), Account), Account)
        account = Account.open("acct-1", "ann")
        account.deposit(10)
        uow.register_new(account)
        await uow.commit()
        delivered = await waiting

    assert [(r.stream_id, r.version) for r in delivered] == [("acct-1", 1), ("acct-1", 2)]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"from_position": -1}, "from_position"),
        ({"page_size": 0}, "page_size"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"types": [object]}, "types"),
    ],
)
async def test_bad_subscription_arguments_are_refused_saying_which(
    event_store: EventStore, arguments: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        event_store.subscribe(**arguments)  # type: ignore[arg-type]


async def test_last_position_is_the_head_of_the_log(event_store: EventStore) -> None:
    assert await event_store.last_position() == 0

    await event_store.append("a", [Deposited(amount=1), Deposited(amount=2)])
    await event_store.append("b", Deposited(amount=3))

    assert await event_store.last_position() == (await positions_of(event_store))[-1]
