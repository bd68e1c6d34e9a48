"""Exactly once through SIGKILL: a projection killed anywhere neither loses nor repeats an event.

For backends whose storage provides ``exactly_once`` and ``multi_process``. A child process
runs a projection whose read model lives in the test's storage, each batch's read-model
writes and checkpoint in one commit. The parent kills it with SIGKILL once it has reported a
random amount of progress (events handed to it, batches committed), so the kill lands
anywhere in a batch however slow the machine is: while handling, while committing, between
two batches; never on a clock, never before the child got going. After every kill the read
model holds exactly the events up to the checkpoint, and no committed batch is lost; a
restarted child goes on from there, and at the end the read model holds every event of the
log once, in order, and the checkpoint is the head of the log.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.processes import (
    PROJECTION,
    READ_MODEL,
    Applied,
    BatchEvent,
    arguments,
    progress,
    spawn,
)
from victor_core import Backend
from victor_core.backend import Capability, ContractInstance

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
    requires(
        Capability.EXACTLY_ONCE,
        Capability.MULTI_PROCESS,
        Capability.EVENT_STORE,
        Capability.GLOBAL_ORDER,
        Capability.SUBSCRIPTIONS,
        Capability.CHECKPOINTS,
        Capability.REPOSITORY,
        Capability.TRANSACTIONS,
    ),
]

EVENTS = 200
ROUNDS = 5
#: A round kills the child after this many lines of progress, chosen at random: one line
#: for each event handed to the projection, one for each batch committed (of 4 events).
LINES_BEFORE_KILL = (1, 25)
#: Starting a process per round takes a while on a busy machine; a hang still fails, later.
SLOW_TIMEOUT = 300
#: Seconds to wait for the child's next report before calling it hung.
REPORT_TIMEOUT = 120


def committed(lines: str) -> list[int]:
    """The positions of the batches the child reported committed."""
    return [int(line.split()[1]) for line in lines.splitlines() if line.startswith("committed ")]


@pytest.mark.timeout(SLOW_TIMEOUT)
async def test_a_projection_killed_at_random_points_applies_every_event_exactly_once(
    victor_backend: Backend,
    contract_instance: ContractInstance,
    open_event_store: OpenEventStore,
    open_repository: OpenRepository,
) -> None:
    store = await open_event_store()
    read_model = await open_repository(Applied)
    checkpoints = store.checkpoints
    assert checkpoints is not None
    await store.append("log", [BatchEvent(writer="w", batch=n) for n in range(1, EVENTS + 1)])
    log = await store.read_stream("log")
    head = log[-1].position
    done = f"committed {head}\n"

    def up_to(checkpoint: int) -> list[int]:
        return [r.event.batch for r in log if r.position <= checkpoint]  # type: ignore[attr-defined]

    async def read_back() -> tuple[int, list[int]]:
        checkpoint = await checkpoints.load(PROJECTION)
        applied = await read_model.get(READ_MODEL)
        return checkpoint, [] if applied is None else applied.batches

    async def settled() -> tuple[int, list[int]]:
        """The checkpoint and the read model, once two reads in a row agree.

        A server may still finish a commit the child had sent just before it was killed; a
        read of the checkpoint before that commit and of the read model after it would
        disagree with no fault of the backend. Two reads in a row that agree saw one state.
        """
        found = await read_back()
        while (again := await read_back()) != found:
            found = again
        return found

    async def run_until(lines: int | None) -> str:
        """Start the projection, kill it after *lines* lines of progress (or the last batch)."""
        child = spawn(arguments("project", victor_backend, contract_instance, "projection", 0))
        try:
            reported = await asyncio.wait_for(
                asyncio.to_thread(progress, child, lines, done), REPORT_TIMEOUT
            )
        finally:
            child.send_signal(signal.SIGKILL)
            output, errors = await asyncio.to_thread(child.communicate)
        assert child.returncode == -signal.SIGKILL, f"the projection failed by itself: {errors}"
        return reported + output

    seed = random.randrange(2**32)
    chooser = random.Random(seed)
    for round_number in range(ROUNDS):
        reported = committed(await run_until(chooser.randint(*LINES_BEFORE_KILL)))

        checkpoint, batches = await settled()
        context = f"(random seed {seed}, round {round_number})"
        assert not reported or checkpoint >= reported[-1], (
            f"a batch the projection reported committed was lost {context}"
        )
        assert batches == up_to(checkpoint), (
            f"after a SIGKILL the read model must hold exactly the events up to the "
            f"checkpoint {checkpoint}, each once {context}"
        )

    reported = committed(await run_until(None))

    assert reported[-1:] == [head], "the last run reached the head of the log"
    checkpoint, batches = await settled()
    assert checkpoint == head, "the checkpoint is the head of the log"
    assert batches == up_to(head) == list(range(1, EVENTS + 1)), (
        "every event of the log is in the read model exactly once, in order"
    )
