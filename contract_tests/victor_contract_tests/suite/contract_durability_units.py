"""Durability of units of work: a writer killed at any moment leaves no unit in part.

For backends with transactions that declare durability. Writer processes commit one unit
of work after another (items inserted, a versioned tally of the writer updated, and an
aggregate's events appended, all in one commit) and are killed with SIGKILL at random
moments, round after round on the same storage. After each kill every unit is there in all
three places or in none, every unit a writer heard back about is there, and each tally adds
up exactly the units that are.
"""

from __future__ import annotations

import sys
from collections import defaultdict

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.processes import (
    Item,
    ItemCounted,
    Tally,
    UnitStarted,
    arguments,
    kill_writers_in_rounds,
    unit_size,
)
from victor_core import Backend
from victor_core.backend import Capability, ContractInstance

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
    #: Starting processes takes a while on a busy machine; a hang still fails, later.
    pytest.mark.timeout(300),
    requires(
        Capability.EVENT_STORE,
        Capability.REPOSITORY,
        Capability.TRANSACTIONS,
        Capability.DURABILITY,
    ),
]

ROUNDS = 4
WRITERS_PER_ROUND = 2
WHOLE = "a unit of work is committed whole or not at all, even when its process is killed"


async def units_found(
    open_event_store: OpenEventStore, open_repository: OpenRepository
) -> dict[str, set[int]]:
    """Check that every unit stored is whole; return the units found, by writer."""
    store = await open_event_store()
    items_repo = await open_repository(Item)
    tallies_repo = await open_repository(Tally)
    try:
        events = [r async for r in store.read_all()]
        items = await items_repo.find()
        tallies = {tally.id: tally for tally in await tallies_repo.find()}
    finally:
        await store.close()
        await items_repo.close()
        await tallies_repo.close()

    by_stream: dict[str, list[object]] = defaultdict(list)
    for recorded in events:
        by_stream[recorded.stream_id].append(recorded.event)
    from_events: dict[str, set[int]] = defaultdict(set)
    for stream_id, stream in by_stream.items():
        writer, _, number = stream_id.rpartition("-")
        size = unit_size(int(number))
        started = stream[0]
        assert isinstance(started, UnitStarted), WHOLE
        assert started.size == size, WHOLE
        counted = [e.index for e in stream[1:] if isinstance(e, ItemCounted)]
        assert counted == list(range(size)), f"{WHOLE}: the events of {stream_id}"
        assert len(stream) == size + 1, f"{WHOLE}: the events of {stream_id}"
        from_events[writer].add(int(number))

    indexes: dict[tuple[str, int], list[int]] = defaultdict(list)
    for item in items:
        indexes[(item.writer, item.unit)].append(item.index)
    from_items: dict[str, set[int]] = defaultdict(set)
    for (writer, unit), found in indexes.items():
        assert sorted(found) == list(range(unit_size(unit))), f"{WHOLE}: items of {writer} {unit}"
        from_items[writer].add(unit)

    assert from_items == from_events, f"{WHOLE}: each unit's items and events are there together"
    for writer, units in from_items.items():
        tally = tallies[writer]
        assert tally.total == sum(unit_size(unit) for unit in units), f"{WHOLE}: the tally"
        assert tally.version == len(units), f"{WHOLE}: one tally update per unit present"
    assert set(tallies) <= set(from_items), f"{WHOLE}: no tally without its units"
    return dict(from_items)


async def test_sigkill_during_units_of_work_never_leaves_part_of_one(
    victor_backend: Backend,
    contract_instance: ContractInstance,
    open_event_store: OpenEventStore,
    open_repository: OpenRepository,
) -> None:
    kept = await kill_writers_in_rounds(
        command=lambda writer: arguments("units", victor_backend, contract_instance, writer, 0),
        rounds=ROUNDS,
        writers_per_round=WRITERS_PER_ROUND,
        wait=(0.05, 1.0),
        read_back=lambda: units_found(open_event_store, open_repository),
    )

    assert sum(len(units) for units in kept.values()) > 0, "no writer ever committed"
