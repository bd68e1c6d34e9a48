"""The event store contract: appends, optimistic concurrency, reads, global order."""

from __future__ import annotations

import asyncio

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.logs import shown_by_read_all
from victor_contract_tests.suite.sample_events import Deposited, Withdrawn
from victor_core import EventStore, RecordedEvent
from victor_core.backend import (
    Capability,
    ConcurrencyError,
    ConfigurationError,
    StoreClosed,
    StreamState,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]


def amount_of(recorded: RecordedEvent) -> int:
    event = recorded.event
    assert isinstance(event, Deposited | Withdrawn)
    return event.amount


def amounts(recorded: list[RecordedEvent]) -> list[int]:
    return [amount_of(r) for r in recorded]


async def test_append_one_event_reports_version_and_position(event_store: EventStore) -> None:
    result = await event_store.append("acct-1", Deposited(amount=10))

    assert result.stream_id == "acct-1"
    assert result.version == 1
    assert len(result.positions) == 1
    assert result.positions[0] >= 1


async def test_append_several_events_gives_contiguous_versions_and_increasing_positions(
    event_store: EventStore,
) -> None:
    await event_store.append("acct-1", Deposited(amount=1))
    result = await event_store.append("acct-1", [Deposited(amount=2), Withdrawn(amount=3)])

    assert result.version == 3
    assert result.first_version == 2
    assert list(result.positions) == sorted(set(result.positions))
    stored = await event_store.read_stream("acct-1")
    assert [r.version for r in stored] == [1, 2, 3]
    assert [type(r.event) for r in stored] == [Deposited, Deposited, Withdrawn]
    assert [r.position for r in stored[1:]] == list(result.positions)


async def test_read_stream_returns_the_events_as_appended(event_store: EventStore) -> None:
    event = Deposited(amount=42)
    await event_store.append("acct-1", event)

    [recorded] = await event_store.read_stream("acct-1")

    assert recorded.event == Deposited(
        amount=42, id=event.id, timestamp=event.timestamp, aggregate_id="acct-1"
    )
    assert recorded.stream_id == "acct-1"
    assert recorded.version == 1
    assert recorded.type_name == "victor.contract.Deposited"


async def test_an_empty_aggregate_id_is_stored_as_the_stream_id(event_store: EventStore) -> None:
    await event_store.append("acct-7", [Deposited(amount=1), Deposited(amount=2, aggregate_id="x")])

    stored = await event_store.read_stream("acct-7")

    assert [r.event.aggregate_id for r in stored] == ["acct-7", "x"]


async def test_a_missing_stream_reads_empty_at_version_zero(event_store: EventStore) -> None:
    assert await event_store.read_stream("nobody") == []
    assert await event_store.stream_version("nobody") == 0


async def test_stream_version_follows_appends(event_store: EventStore) -> None:
    await event_store.append("a", [Deposited(amount=1), Deposited(amount=2)])
    await event_store.append("b", Deposited(amount=3))
    await event_store.append("a", Deposited(amount=4))

    assert await event_store.stream_version("a") == 3
    assert await event_store.stream_version("b") == 1


@pytest.mark.parametrize(
    ("expected", "ok"),
    [
        (0, False),
        (1, False),
        (2, True),
        (3, False),
        ("any", True),
        (StreamState.ANY, True),
        ("no_stream", False),
        ("no stream", False),
        ("stream_exists", True),
        (StreamState.STREAM_EXISTS, True),
    ],
)
async def test_expected_version_against_an_existing_stream(
    event_store: EventStore, expected: object, ok: bool
) -> None:
    await event_store.append("acct", [Deposited(amount=1), Deposited(amount=2)])

    if ok:
        result = await event_store.append("acct", Deposited(amount=3), expected_version=expected)  # type: ignore[arg-type]
        assert result.version == 3
    else:
        with pytest.raises(ConcurrencyError) as caught:
            await event_store.append("acct", Deposited(amount=3), expected_version=expected)  # type: ignore[arg-type]
        assert caught.value.stream_id == "acct"
        assert caught.value.actual == 2
        assert "acct" in str(caught.value)
        assert amounts(await event_store.read_stream("acct")) == [1, 2]


@pytest.mark.parametrize(
    ("expected", "ok"),
    [(0, True), (1, False), ("any", True), ("no_stream", True), ("stream_exists", False)],
)
async def test_expected_version_against_a_missing_stream(
    event_store: EventStore, expected: object, ok: bool
) -> None:
    if ok:
        await event_store.append("new", Deposited(amount=1), expected_version=expected)  # type: ignore[arg-type]
        assert await event_store.stream_version("new") == 1
    else:
        with pytest.raises(ConcurrencyError) as caught:
            await event_store.append("new", Deposited(amount=1), expected_version=expected)  # type: ignore[arg-type]
        assert caught.value.actual == 0
        assert caught.value.expected == expected or str(caught.value.expected) == expected
        assert await event_store.read_stream("new") == []
        assert [r async for r in event_store.read_all()] == []


async def test_a_rejected_batch_leaves_nothing_behind(event_store: EventStore) -> None:
    stored = await event_store.append("acct", Deposited(amount=1))
    await shown_by_read_all(event_store, stored.positions[-1])
    before = [r.position async for r in event_store.read_all()]

    with pytest.raises(ConcurrencyError):
        # Version 1 is taken: the whole batch, not just its first event, is refused.
        await event_store.append(
            "acct", [Deposited(amount=2), Deposited(amount=3)], expected_version=0
        )

    assert amounts(await event_store.read_stream("acct")) == [1]
    assert [r.position async for r in event_store.read_all()] == before
    assert await event_store.stream_version("acct") == 1
    # The store still works normally afterwards.
    result = await event_store.append("acct", Deposited(amount=4), expected_version=1)
    assert result.version == 2


@pytest.mark.parametrize("bad", [-1, "sometimes", 1.5, None, True])
async def test_a_nonsense_expected_version_is_refused_before_writing(
    event_store: EventStore, bad: object
) -> None:
    with pytest.raises(ConfigurationError, match="expected_version"):
        await event_store.append("acct", Deposited(amount=1), expected_version=bad)  # type: ignore[arg-type]
    assert await event_store.stream_version("acct") == 0


async def test_appending_nothing_or_to_no_stream_is_refused(event_store: EventStore) -> None:
    with pytest.raises(ConfigurationError, match="no events"):
        await event_store.append("acct", [])
    with pytest.raises(ConfigurationError, match="stream ids"):
        await event_store.append("", Deposited(amount=1))
    with pytest.raises(ConfigurationError, match="stream ids"):
        await event_store.append(None, Deposited(amount=1))  # type: ignore[arg-type]
    assert [r async for r in event_store.read_all()] == []


async def test_appending_a_non_event_is_refused_and_writes_nothing(event_store: EventStore) -> None:
    from victor_core.backend import SerializationError

    with pytest.raises(SerializationError, match="derive from"):
        await event_store.append("acct", [Deposited(amount=1), {"amount": 2}])  # type: ignore[list-item]
    assert await event_store.stream_version("acct") == 0


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({}, [1, 2, 3, 4, 5]),
        ({"from_version": 3}, [3, 4, 5]),
        ({"to_version": 2}, [1, 2]),
        ({"from_version": 2, "to_version": 4}, [2, 3, 4]),
        ({"from_version": 2, "limit": 2}, [2, 3]),
        ({"limit": 0}, []),
        ({"from_version": 6}, []),
        ({"from_version": 4, "to_version": 3}, []),
        ({"to_version": 99}, [1, 2, 3, 4, 5]),
        ({"from_version": 0}, [1, 2, 3, 4, 5]),
        # Beyond the 64-bit integers databases store: still just "to the end" or "past it".
        ({"to_version": 2**64}, [1, 2, 3, 4, 5]),
        ({"limit": 2**64}, [1, 2, 3, 4, 5]),
        ({"from_version": 2**64}, []),
    ],
)
async def test_read_stream_windows(
    event_store: EventStore, window: dict[str, int], expected: list[int]
) -> None:
    await event_store.append("acct", [Deposited(amount=v) for v in range(1, 4)])
    await event_store.append("other", Deposited(amount=100))
    await event_store.append("acct", [Deposited(amount=v) for v in range(4, 6)])

    recorded = await event_store.read_stream("acct", **window)

    assert [r.version for r in recorded] == expected
    assert amounts(recorded) == expected


@pytest.mark.parametrize("bad", [{"from_version": -1}, {"limit": -2}, {"to_version": "x"}])
async def test_read_stream_refuses_nonsense_windows(
    event_store: EventStore, bad: dict[str, object]
) -> None:
    with pytest.raises(ConfigurationError):
        await event_store.read_stream("acct", **bad)  # type: ignore[arg-type]


@requires(Capability.GLOBAL_ORDER)
async def test_read_all_yields_interleaved_streams_in_append_order(
    event_store: EventStore,
) -> None:
    plan = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("a", 6)]
    for stream, amount in plan:
        last = await event_store.append(stream, Deposited(amount=amount))
    await shown_by_read_all(event_store, last.positions[-1])

    recorded = [r async for r in event_store.read_all(page_size=2)]

    assert [(r.stream_id, amount_of(r)) for r in recorded] == plan
    positions = [r.position for r in recorded]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert [r.version for r in recorded] == [1, 1, 2, 1, 2, 3]


@requires(Capability.GLOBAL_ORDER)
async def test_read_all_from_a_position_and_with_a_limit(event_store: EventStore) -> None:
    for amount in range(1, 11):
        last = await event_store.append(f"s{amount % 3}", Deposited(amount=amount))
    await shown_by_read_all(event_store, last.positions[-1])
    everything = [r async for r in event_store.read_all()]
    fourth = everything[3].position

    tail = [r async for r in event_store.read_all(from_position=fourth, page_size=3)]
    window = [r async for r in event_store.read_all(from_position=fourth, limit=4, page_size=3)]
    past_the_end = [
        r async for r in event_store.read_all(from_position=everything[-1].position + 1)
    ]

    assert amounts(tail) == list(range(4, 11))
    assert amounts(window) == [4, 5, 6, 7]
    assert past_the_end == []
    assert [r async for r in event_store.read_all(limit=0)] == []


@requires(Capability.GLOBAL_ORDER)
async def test_read_all_windows_beyond_64_bit_integers_mean_the_end_of_the_log(
    event_store: EventStore,
) -> None:
    appended = await event_store.append("acct", [Deposited(amount=1), Deposited(amount=2)])
    await shown_by_read_all(event_store, appended.positions[-1])

    everything = [r async for r in event_store.read_all(limit=2**64, page_size=2**64)]
    past_the_end = [r async for r in event_store.read_all(from_position=2**64)]

    assert amounts(everything) == [1, 2]
    assert past_the_end == []


async def test_a_second_store_on_the_same_storage_sees_the_events(
    open_event_store: OpenEventStore,
) -> None:
    writer = await open_event_store()
    await writer.append("acct", [Deposited(amount=1), Deposited(amount=2)])

    reader = await open_event_store()

    assert amounts(await reader.read_stream("acct")) == [1, 2]
    assert await reader.stream_version("acct") == 2
    with pytest.raises(ConcurrencyError):
        await reader.append("acct", Deposited(amount=3), expected_version=1)


@requires(Capability.DURABILITY)
async def test_events_survive_closing_every_store(open_event_store: OpenEventStore) -> None:
    first = await open_event_store()
    await first.append("acct", Deposited(amount=5))
    await first.close()

    again = await open_event_store()

    assert amounts(await again.read_stream("acct")) == [5]


async def test_a_closed_store_refuses_work(event_store: EventStore) -> None:
    await event_store.close()
    await event_store.close()  # closing twice is harmless

    assert event_store.closed
    with pytest.raises(StoreClosed):
        await event_store.append("acct", Deposited(amount=1))
    with pytest.raises(StoreClosed):
        await event_store.read_stream("acct")


async def test_concurrent_appenders_expecting_one_version_produce_one_winner_per_version(
    open_event_store: OpenEventStore,
) -> None:
    """Writers race on one stream; every version has exactly one winner and none is lost."""
    stores = [await open_event_store() for _ in range(4)]
    rounds = 10
    wins: list[tuple[int, int]] = []
    conflicts = 0

    async def writer(number: int, store: EventStore) -> None:
        nonlocal conflicts
        written = 0
        while written < rounds:
            version = await store.stream_version("hot")
            try:
                await store.append(
                    "hot", Deposited(amount=number * 1000 + written), expected_version=version
                )
            except ConcurrencyError:
                conflicts += 1
                await asyncio.sleep(0)
                continue
            wins.append((version + 1, number))
            written += 1

    await asyncio.gather(*(writer(n, s) for n, s in enumerate(stores)))

    stored = await stores[0].read_stream("hot")
    assert [r.version for r in stored] == list(range(1, 4 * rounds + 1))
    assert sorted(v for v, _ in wins) == list(range(1, 4 * rounds + 1))
    assert sorted(amounts(stored)) == sorted(n * 1000 + i for n in range(4) for i in range(rounds))
    positions = [r.position for r in stored]
    assert positions == sorted(set(positions))


async def test_concurrent_batches_with_the_same_expected_version_have_one_winner(
    open_event_store: OpenEventStore,
) -> None:
    stores = [await open_event_store() for _ in range(5)]
    await stores[0].append("contested", Deposited(amount=0))

    async def attempt(number: int, store: EventStore) -> bool:
        try:
            await store.append(
                "contested",
                [Deposited(amount=number), Withdrawn(amount=number)],
                expected_version=1,
            )
        except ConcurrencyError:
            return False
        return True

    outcomes = await asyncio.gather(*(attempt(n, s) for n, s in enumerate(stores, start=1)))

    assert outcomes.count(True) == 1
    winner = outcomes.index(True) + 1
    stored = await stores[0].read_stream("contested")
    assert [r.version for r in stored] == [1, 2, 3]
    assert amounts(stored) == [0, winner, winner]
