"""Durability: a writer killed at any moment loses nothing it was told was stored.

Writer processes append numbered batches to the test's storage and are killed with SIGKILL
at random moments (sometimes while connecting, mostly in the middle of an append), round
after round on the same storage. After each kill, storage is opened afresh: every batch a
writer heard back about is there, every batch is whole or absent, stream versions are
contiguous and positions unique, and nothing from an earlier round changed. The writers
open the storage from its URL in a new process, so the backend must be reachable that way.
"""

from __future__ import annotations

import sys

import pytest

from victor_contract_tests.plugin import OpenEventStore, requires
from victor_contract_tests.suite.processes import (
    arguments,
    batches_found,
    kill_writers_in_rounds,
)
from victor_core import Backend
from victor_core.backend import Capability, ContractInstance

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
    requires(Capability.EVENT_STORE, Capability.DURABILITY),
]

ROUNDS = 6
WRITERS_PER_ROUND = 2
#: Rounds of starting processes and waiting for their first write take a while on a busy
#: machine; a hang still fails, later.
SLOW_TIMEOUT = 300


@pytest.mark.timeout(SLOW_TIMEOUT)
async def test_sigkill_at_random_moments_loses_no_acknowledged_batch_and_leaves_none_in_part(
    victor_backend: Backend, contract_instance: ContractInstance, open_event_store: OpenEventStore
) -> None:
    async def read_back() -> dict[str, set[int]]:
        store = await open_event_store()
        try:
            return await batches_found(store)
        finally:
            await store.close()

    kept = await kill_writers_in_rounds(
        command=lambda writer: arguments("append", victor_backend, contract_instance, writer, 0),
        rounds=ROUNDS,
        writers_per_round=WRITERS_PER_ROUND,
        wait=(0.05, 1.0),
        read_back=read_back,
    )

    assert sum(len(batches) for batches in kept.values()) > 0, "no writer ever appended"
