"""Several processes on one storage: one winner per version, nothing lost or repeated.

For backends that declare ``multi_process``. Writer processes open the test's storage from
its URL and race: on one stream, each appending at the version it has just read, and on one
versioned entity, each updating the copy it has just loaded; and they append batches to
shared streams without expectations. Every version has exactly one winner, every win
reported is stored, and every batch is stored once and whole.
"""

from __future__ import annotations

from collections import Counter

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.processes import (
    HOT,
    BatchEvent,
    Tally,
    arguments,
    batches_found,
    finished,
    spawn,
)
from victor_core import Backend
from victor_core.backend import Capability, ContractInstance

#: Starting processes takes a while on a busy machine; a hang still fails, later.
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.timeout(300),
    requires(Capability.MULTI_PROCESS),
]

PROCESSES = 3
WINS = 15
BATCHES = 40


def race(job: str, backend: Backend, instance: ContractInstance, count: int) -> list[list[int]]:
    children = [
        spawn(arguments(job, backend, instance, f"writer{n}", count)) for n in range(PROCESSES)
    ]
    return [finished(child) for child in children]


def one_winner_each(reported: list[list[int]], versions: range, what: str) -> None:
    claims = Counter(version for won in reported for version in won)
    twice = sorted(version for version, times in claims.items() if times > 1)
    assert not twice, f"{what}: versions {twice} were won by more than one process"
    assert sorted(claims) == list(versions), f"{what}: every version has exactly one winner"


@requires(Capability.EVENT_STORE)
async def test_processes_racing_on_one_stream_have_one_winner_per_version(
    victor_backend: Backend, contract_instance: ContractInstance, open_event_store: OpenEventStore
) -> None:
    reported = race("race-stream", victor_backend, contract_instance, WINS)

    stored = await (await open_event_store()).read_stream(HOT)
    total = PROCESSES * WINS
    one_winner_each(reported, range(1, total + 1), "appends expecting one stream version")
    assert [r.version for r in stored] == list(range(1, total + 1)), "nothing lost"
    by_writer = Counter(r.event.writer for r in stored if isinstance(r.event, BatchEvent))
    assert by_writer == {f"writer{n}": WINS for n in range(PROCESSES)}, "every win is stored"


@requires(Capability.REPOSITORY)
async def test_processes_racing_on_one_versioned_entity_have_one_winner_per_version(
    victor_backend: Backend, contract_instance: ContractInstance, open_repository: OpenRepository
) -> None:
    tallies = await open_repository(Tally)
    await tallies.add(Tally(id=HOT))

    reported = race("race-entity", victor_backend, contract_instance, WINS)

    stored = await tallies.get(HOT)
    total = PROCESSES * WINS
    one_winner_each(reported, range(2, total + 2), "updates of one entity version")
    assert stored is not None
    assert (stored.total, stored.version) == (total, total + 1), "no update was lost"


@requires(Capability.EVENT_STORE)
async def test_processes_appending_at_once_store_every_batch_once_and_whole(
    victor_backend: Backend, contract_instance: ContractInstance, open_event_store: OpenEventStore
) -> None:
    reported = race("append", victor_backend, contract_instance, BATCHES)

    found = await batches_found(await open_event_store())

    assert all(won == list(range(BATCHES)) for won in reported), "every batch acknowledged"
    assert found == {f"writer{n}": set(range(BATCHES)) for n in range(PROCESSES)}
