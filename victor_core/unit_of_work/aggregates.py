"""The participant for event-sourced aggregates: saving appends their pending events.

An aggregate registered with an :class:`~victor_core.AggregateRepository` (or with the
event store itself) is saved by appending its pending events, expecting the version it was
loaded at, so a concurrent change makes the whole commit fail with
:class:`~victor_core.ConcurrencyError`.
"""

from __future__ import annotations

import copy
from typing import Any

from cattrs.preconf.json import JsonConverter

from victor_core.backend.writes import AppendEvents, WriteResult, apply_one
from victor_core.errors import AggregateNotFound, StoreClosed
from victor_core.eventsourcing.aggregate import Aggregate
from victor_core.eventsourcing.events import Event
from victor_core.eventsourcing.records import check_stream_id
from victor_core.eventsourcing.repository import AggregateRepository
from victor_core.unit_of_work.steps import Participant, Step
from victor_core.unit_of_work.tracking import Tracked


class AggregateParticipant(Participant):
    """An :class:`AggregateRepository`: saving appends an aggregate's pending events."""

    repository: AggregateRepository[Any]

    def __init__(self, repository: AggregateRepository[Any], target_type: type) -> None:
        super().__init__(repository, target_type)

    @property
    def label(self) -> str:
        return f"{self.type_name} (events in {type(self.repository.store).__qualname__})"

    @property
    def resource(self) -> object:
        return self.repository.store

    @property
    def converter(self) -> JsonConverter:
        return self.repository.store.serializer.converter

    async def load(self, object_id: str) -> Any | None:
        try:
            return await self.repository.load(object_id)
        except AggregateNotFound:
            return None

    def snapshot(self, obj: Any) -> str | None:
        # An aggregate changes only by applying events: its pending events are its changes.
        return None

    def is_dirty(self, tracked: Tracked) -> bool:
        aggregate: Aggregate = tracked.obj
        return aggregate.version != aggregate.committed_version

    def stage_save(self, entry: Tracked) -> Step | None:
        """Append the aggregate's pending events; None when it has none."""
        aggregate: Aggregate = entry.obj
        pending = tuple(aggregate.pending_events)
        if not pending:
            return None
        store = self.repository.store
        if store.closed:
            raise StoreClosed(
                f"the event store of {self.type_name} registered with this unit of work was "
                "closed; register an open one"
            )
        check_stream_id(aggregate.id)
        records = tuple(store.serializer.serialize(event, aggregate.id) for event in pending)
        loaded_at = aggregate.committed_version
        write = AppendEvents(store.recorder, aggregate.id, records, loaded_at)

        async def snapshot_if_due(result: WriteResult) -> None:
            every = self.repository.snapshot_every
            if every is not None and loaded_at // every < aggregate.version // every:
                await self.repository.take_snapshot(aggregate)

        return Step(
            self,
            "append events of",
            (entry,),
            write,
            run_alone=lambda: apply_one(write),
            finish=lambda result: aggregate.mark_events_committed(),
            after=snapshot_if_due,
            events=tuple(_as_stored(event, aggregate.id) for event in pending),
        )


def _as_stored(event: Event, stream_id: str) -> Event:
    """*event* as the store holds it: with the stream id as ``aggregate_id`` when it had none."""
    if event.aggregate_id:
        return event
    stored = copy.copy(event)
    object.__setattr__(stored, "aggregate_id", stream_id)
    return stored
