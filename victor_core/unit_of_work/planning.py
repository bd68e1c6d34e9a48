"""Turning what a unit of work tracks into the writes of a commit, in registration order."""

from __future__ import annotations

from collections.abc import Iterable

from victor_core.unit_of_work.aggregates import AggregateParticipant
from victor_core.unit_of_work.entities import EntityParticipant
from victor_core.unit_of_work.states import EntityState
from victor_core.unit_of_work.steps import Step
from victor_core.unit_of_work.tracking import Tracked


def plan(tracked_objects: Iterable[Tracked]) -> list[Step]:
    """Every write to make for *tracked_objects*, in their order.

    New entities of one class that follow one another are inserted as one batch; clean
    entities are updated only when they changed since they were loaded; aggregates append
    their pending events. Staging serializes everything, so a value that cannot be stored
    fails here, before anything is written.
    """
    steps: list[Step] = []
    inserts: list[Tracked] = []

    def flush_inserts() -> None:
        if inserts:
            participant = inserts[0].participant
            assert isinstance(participant, EntityParticipant)
            steps.append(participant.stage_insert(list(inserts)))
            inserts.clear()

    for tracked in tracked_objects:
        participant = tracked.participant
        if isinstance(participant, AggregateParticipant):
            flush_inserts()
            step = participant.stage_save(tracked)
            if step is not None:
                steps.append(step)
            continue
        assert isinstance(participant, EntityParticipant)
        state = tracked.state
        if state is EntityState.NEW:
            if inserts and inserts[0].participant is not participant:
                flush_inserts()
            inserts.append(tracked)
            continue
        flush_inserts()
        if state is EntityState.DELETED:
            steps.append(participant.stage_delete(tracked))
        elif state is EntityState.MODIFIED or participant.is_dirty(tracked):
            steps.append(participant.stage_update(tracked))
    flush_inserts()
    return steps
