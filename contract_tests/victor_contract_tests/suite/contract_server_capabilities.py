"""What a server backend may promise beyond the basics, each under its own capability.

``immediate_read_all``: an append is in ``read_all`` of every store on the storage as soon as
the append has returned (no replication lag, no positions handed out later).
``concurrent_appends``: appends to different streams run side by side and never fail one
another, however many writers there are.
"""

from __future__ import annotations

import asyncio

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import AppendResult
from victor_core.backend import Capability

pytestmark = pytest.mark.asyncio

ROUNDS = 12
WRITERS = 12
APPENDS_PER_WRITER = 5


@requires(Capability.EVENT_STORE, Capability.IMMEDIATE_READ_ALL)
async def test_read_all_on_another_store_shows_an_append_as_soon_as_the_append_returns(
    open_event_store: OpenEventStore,
) -> None:
    first, second = await open_event_store(), await open_event_store()
    seen = 0
    for number in range(ROUNDS):
        writer, reader = (first, second) if number % 2 == 0 else (second, first)
        event = Deposited(amount=number)

        result = await writer.append(f"acct-{number % 3}", event)
        found = [r async for r in reader.read_all(from_position=seen + 1)]

        assert [r.event.id for r in found] == [event.id], (
            f"append {number} returned, but read_all on another store showed "
            f"{[r.position for r in found]} instead of position {result.positions[0]}"
        )
        assert found[0].position == result.positions[0]
        seen = found[0].position


@requires(Capability.EVENT_STORE, Capability.CONCURRENT_APPENDS)
async def test_many_writers_appending_to_their_own_streams_at_once_all_succeed_first_time(
    open_event_store: OpenEventStore,
) -> None:
    stores = [await open_event_store() for _ in range(WRITERS)]
    start = asyncio.Barrier(WRITERS)

    async def write(writer: int) -> list[AppendResult]:
        await start.wait()
        results = []
        for number in range(APPENDS_PER_WRITER):
            batch = [Deposited(amount=number), Deposited(amount=-number)]
            results.append(
                await stores[writer].append(f"writer-{writer}", batch, expected_version=2 * number)
            )
        return results

    outcomes = await asyncio.gather(*(write(w) for w in range(WRITERS)), return_exceptions=True)

    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert not failures, f"appends to different streams failed one another: {failures[:3]}"
    positions = [
        position
        for results in outcomes
        if isinstance(results, list)
        for result in results
        for position in result.positions
    ]
    assert len(set(positions)) == len(positions) == WRITERS * APPENDS_PER_WRITER * 2
    for writer in range(WRITERS):
        stream = await stores[0].read_stream(f"writer-{writer}")
        assert [r.version for r in stream] == list(range(1, 2 * APPENDS_PER_WRITER + 1))
