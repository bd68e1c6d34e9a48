"""A projection's checkpoint as one step of a commit, next to its read model's writes."""

from __future__ import annotations

from typing import Any

from victor_core.backend.writes import AdvanceCheckpoint, WriteResult, apply_one
from victor_core.eventsourcing.checkpoints import CheckpointStore
from victor_core.unit_of_work.steps import Participant, Step


class CheckpointParticipant(Participant):
    """Stands for a checkpoint store: backends find their transaction manager from it."""

    def __init__(self, checkpoints: CheckpointStore) -> None:
        super().__init__(checkpoints, type(checkpoints))

    async def load(self, object_id: str) -> Any | None:
        return None  # checkpoints are not entities: nothing is loaded through the unit of work


def checkpoint_step(checkpoints: CheckpointStore, name: str, expected: int, position: int) -> Step:
    """The step moving *name*'s checkpoint from *expected* to *position* in the commit."""
    write = AdvanceCheckpoint(checkpoints, name, expected, position)

    async def alone() -> WriteResult:
        return await apply_one(write)

    return Step(
        CheckpointParticipant(checkpoints),
        f"advance checkpoint {name!r} to {position} in",
        (),
        write,
        alone,
    )
