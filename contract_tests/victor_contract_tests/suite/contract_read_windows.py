"""Read windows in every combination: a backend answers each exactly as the log says.

``read_stream`` takes ``from_version``, ``to_version`` and ``limit`` together, and
``read_all`` any start position with any limit and page size. Backends translate these
into their own queries (an SQL ``WHERE ... LIMIT``, a MongoDB filter, list slices), where
an off-by-one or a bound dropped when another is present hides easily: every combination
over a small log is asked here, and each answer is compared with the one the whole log
gives. Global positions need not be contiguous, so the log is made with the gaps a backend
leaves (an append refused, a transaction rolled back), and start positions fall into them.
"""

from __future__ import annotations

import itertools

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.logs import shown_by_read_all
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import Backend, EventStore, RecordedEvent
from victor_core.backend import (
    AppendEvents,
    Capability,
    ConcurrencyError,
    ContractInstance,
    StreamState,
    TransactionManager,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]

STREAM_LENGTH = 6
#: Bounds on both sides of every version of the stream, and far beyond it.
VERSIONS = [*range(STREAM_LENGTH + 3), 2**40]
LIMITS = [None, *range(STREAM_LENGTH + 2), 2**40]


def provides(backend: Backend, instance: ContractInstance, capability: Capability) -> bool:
    """Whether this test's storage has *capability*, as the suite decides for markers."""
    if instance.capabilities is not None:
        return capability in instance.capabilities
    return backend.info.supports(capability)


def shown(window: dict[str, int | None]) -> str:
    return ", ".join(f"{name}={value}" for name, value in window.items() if value is not None)


def mismatches_report(guarantee: str, wrong: list[str]) -> str:
    more = f" (and {len(wrong) - 5} more)" if len(wrong) > 5 else ""
    return f"{guarantee}; wrong answers: " + "; ".join(wrong[:5]) + more


async def test_read_stream_answers_every_combination_of_from_to_and_limit(
    event_store: EventStore,
) -> None:
    """Versions ``from_version..to_version`` inclusive, the first ``limit`` of them."""
    # The stream's events are interleaved with another stream's, so versions and global
    # positions differ, as they do in a real log.
    for version in range(1, STREAM_LENGTH + 1):
        await event_store.append("acct", Deposited(amount=version))
        await event_store.append("other", Deposited(amount=-version))

    wrong: list[str] = []
    for start, end, limit in itertools.product(VERSIONS, [None, *VERSIONS], LIMITS):
        window = {"from_version": start, "to_version": end, "limit": limit}
        last = STREAM_LENGTH if end is None else min(end, STREAM_LENGTH)
        expected = list(range(max(start, 1), last + 1))[:limit]
        recorded = await event_store.read_stream("acct", **window)
        got = [(r.version, r.event.amount) for r in recorded]  # type: ignore[attr-defined]
        if got != [(v, v) for v in expected]:
            wrong.append(f"read_stream({shown(window)}) gave {got}, not versions {expected}")

    assert not wrong, mismatches_report(
        "read_stream must return the versions from_version..to_version (inclusive), at most "
        "limit of them, in version order, whatever combination is given",
        wrong,
    )


async def make_log_with_gaps(
    store: EventStore, victor_backend: Backend, contract_instance: ContractInstance
) -> None:
    """Appends to three interleaved streams, with the gaps the backend leaves in positions."""
    manager = victor_backend.transaction_manager(store)
    for number in range(1, 15):
        stream = f"s{number % 3}"
        size = 1 + number % 2
        appended = await store.append(
            stream, [Deposited(amount=number * 10 + i) for i in range(size)]
        )
        if number % 4 == 0:
            # Refused: a backend may use up positions for it (a sequence does), or none.
            with pytest.raises(ConcurrencyError):
                await store.append(stream, Deposited(amount=-1), expected_version=0)
        if number % 5 == 0 and provides(victor_backend, contract_instance, Capability.TRANSACTIONS):
            await append_and_roll_back(store, manager, stream)
    if not provides(victor_backend, contract_instance, Capability.IMMEDIATE_READ_ALL):
        # Where read_all may lag, wait for it; where it may not, a lag is the defect to find.
        await shown_by_read_all(store, appended.positions[-1])


async def append_and_roll_back(store: EventStore, manager: object, stream: str) -> None:
    """An append that a transaction takes back, because a later write in it is refused."""
    assert isinstance(manager, TransactionManager), (
        "a backend declaring TRANSACTIONS gives event stores a TransactionManager"
    )
    records = tuple(store.serializer.serialize(Deposited(amount=-2), stream) for _ in range(2))
    refused = (store.serializer.serialize(Deposited(amount=-3), "never"),)
    with pytest.raises(ConcurrencyError):
        await manager.commit(
            [
                AppendEvents(store.recorder, stream, records, StreamState.ANY),
                AppendEvents(store.recorder, "never", refused, StreamState.STREAM_EXISTS),
            ]
        )


def described(recorded: list[RecordedEvent]) -> list[tuple[int, str, int]]:
    return [(r.position, r.stream_id, r.version) for r in recorded]


@requires(Capability.GLOBAL_ORDER)
async def test_read_all_answers_every_start_limit_and_page_size_across_gaps(
    open_event_store: OpenEventStore, victor_backend: Backend, contract_instance: ContractInstance
) -> None:
    """From any position, with any limit, however the log is paged: the same events."""
    store = await open_event_store()
    await make_log_with_gaps(store, victor_backend, contract_instance)
    log = [r async for r in store.read_all(page_size=1000)]
    assert all(r.event.amount > 0 for r in log), (  # type: ignore[attr-defined]
        "an append that was refused or rolled back must leave no event in read_all"
    )
    positions = [r.position for r in log]
    assert positions == sorted(set(positions)), "read_all gives unique, increasing positions"
    # Every position, the ones just after (gaps, where the backend leaves any) and beyond.
    starts = sorted({0, 1, *positions, *(p + 1 for p in positions), positions[-1] + 7})
    limits = [None, 0, 1, 2, 3, 5, 8, len(log) - 1, len(log), len(log) + 1]

    wrong: list[str] = []
    for start, limit, page_size in itertools.product(starts, limits, [1, 2, 3, 7, 500]):
        expected = [r for r in log if r.position >= start][:limit]
        got = [
            r async for r in store.read_all(from_position=start, limit=limit, page_size=page_size)
        ]
        if described(got) != described(expected):
            window = {"from_position": start, "limit": limit, "page_size": page_size}
            wrong.append(
                f"read_all({shown(window)}) gave positions {[r.position for r in got]}, not "
                f"{[r.position for r in expected]}"
            )

    assert not wrong, mismatches_report(
        "read_all must return every event at or after from_position, in position order, at "
        "most limit of them, none skipped or repeated at a page boundary or a gap",
        wrong,
    )
