"""Loading aggregates from their events and saving their new events, safely under concurrency.

One repository serves one aggregate class. Saving appends the aggregate's pending events
with the version it was loaded at as the expected version, so of two processes that loaded
the same aggregate and both changed it, the second to save gets a
:class:`~victor_core.errors.ConcurrencyError` and none of its events are stored; it reloads
and retries. Loading can use snapshots, and can rebuild the aggregate as it was at an
earlier version or point in time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Generic, TypeVar

from victor_core.errors import AggregateNotFound, CapabilityNotSupported, ConfigurationError
from victor_core.eventsourcing.aggregate import Aggregate
from victor_core.eventsourcing.events import utc_now
from victor_core.eventsourcing.records import AppendResult
from victor_core.eventsourcing.snapshot_state import SnapshotCodec
from victor_core.eventsourcing.snapshots import SnapshotRecord, SnapshotRecorder
from victor_core.eventsourcing.store import EventStore

A = TypeVar("A", bound=Aggregate)

logger = logging.getLogger("victor_core.eventsourcing")


class AggregateRepository(Generic[A]):
    """Loads and saves aggregates of one class through an event store.

    ``AggregateRepository(store, TaskAggregate)`` replays every event on each load.
    ``snapshot_every=100`` also stores a snapshot whenever a save takes the aggregate past a
    multiple of 100 events, and loads start from the newest snapshot; ``snapshots=True``
    alone uses snapshots taken on demand with :meth:`take_snapshot`. Snapshots need a
    backend that keeps them (``Capability.SNAPSHOTS``).

    The aggregate class must be constructible without arguments: loading creates an empty
    instance and applies the history to it.
    """

    def __init__(
        self,
        store: EventStore,
        aggregate_type: type[A],
        *,
        snapshot_every: int | None = None,
        snapshots: bool | None = None,
    ) -> None:
        if not (isinstance(aggregate_type, type) and issubclass(aggregate_type, Aggregate)):
            raise ConfigurationError(
                f"AggregateRepository needs a subclass of victor_core.Aggregate, got "
                f"{aggregate_type!r}"
            )
        if snapshot_every is not None and (
            isinstance(snapshot_every, bool)
            or not isinstance(snapshot_every, int)
            or snapshot_every < 1
        ):
            raise ConfigurationError(
                f"snapshot_every must be a positive int (events between snapshots) or None, "
                f"got {snapshot_every!r}"
            )
        if snapshots is False and snapshot_every is not None:
            raise ConfigurationError(
                "snapshot_every was given together with snapshots=False; drop one of them"
            )
        self.store = store
        self.aggregate_type = aggregate_type
        self.snapshot_every = snapshot_every
        self._snapshots: SnapshotRecorder | None = None
        self._codec: SnapshotCodec[A] | None = None
        if snapshots or snapshot_every is not None:
            if store.snapshots is None:
                raise CapabilityNotSupported(
                    f"{type(store).__name__} keeps no snapshots, so {aggregate_type.__qualname__} "
                    "cannot be snapshotted; use a backend that declares Capability.SNAPSHOTS "
                    "(memory, sqlite) or create the repository without snapshot options"
                )
            self._snapshots = store.snapshots
            self._codec = SnapshotCodec(aggregate_type, store.serializer.converter)

    @property
    def uses_snapshots(self) -> bool:
        """True when loads start from snapshots."""
        return self._snapshots is not None

    async def load(
        self,
        aggregate_id: str,
        *,
        at_version: int | None = None,
        as_of: datetime | None = None,
    ) -> A:
        """The aggregate *aggregate_id*, rebuilt from its snapshot and events.

        ``at_version=n`` rebuilds it as it was after its first *n* events; ``as_of=moment``
        as it was at *moment*: with the events up to the first one that happened later
        (a naive datetime is taken as UTC). Raises
        :class:`~victor_core.errors.AggregateNotFound` when there is nothing to load.
        """
        if at_version is not None and as_of is not None:
            raise ConfigurationError("pass at_version or as_of, not both")
        if at_version is not None and (
            isinstance(at_version, bool) or not isinstance(at_version, int) or at_version < 1
        ):
            raise ConfigurationError(f"at_version must be an int >= 1, got {at_version!r}")
        target = at_version
        if as_of is not None:
            target = await self.store.version_at(aggregate_id, as_of)
            if target == 0:
                raise AggregateNotFound(
                    f"{self.aggregate_type.__qualname__} {aggregate_id!r} had no events at "
                    f"{as_of.isoformat()}; it did not exist yet (or does not exist at all)"
                )
        aggregate = await self._replayed(aggregate_id, target)
        if aggregate.version == 0:
            raise AggregateNotFound(
                f"{self.aggregate_type.__qualname__} {aggregate_id!r} has no events; create it "
                "and save it first (or check the id)"
            )
        if target is not None and aggregate.version < target:
            raise AggregateNotFound(
                f"{self.aggregate_type.__qualname__} {aggregate_id!r} has {aggregate.version} "
                f"events, so it has no version {target}"
            )
        if not aggregate.id:
            aggregate.id = aggregate_id
        return aggregate

    async def exists(self, aggregate_id: str) -> bool:
        """True when the aggregate has at least one stored event."""
        return await self.store.stream_version(aggregate_id) > 0

    async def save(self, aggregate: A) -> AppendResult | None:
        """Append the aggregate's pending events, expecting the version it was loaded at.

        Returns what the store reported, or ``None`` when there was nothing to save. On a
        :class:`~victor_core.errors.ConcurrencyError` nothing was written and the events
        stay pending; load the aggregate again and redo the command.
        """
        self._check_type(aggregate)
        pending = aggregate.pending_events
        if not pending:
            return None
        if not isinstance(aggregate.id, str) or not aggregate.id:
            raise ConfigurationError(
                f"cannot save a {type(aggregate).__qualname__} without an id: its creation "
                "event's _apply method should set `self.id`"
            )
        loaded_at = aggregate.committed_version
        snapshot = None
        if self._due(loaded_at, aggregate.version):
            # Captured before appending, so state that cannot be snapshotted fails the save
            # while nothing is written yet.
            snapshot = self._capture(aggregate)
        result = await self.store.append(aggregate.id, pending, expected_version=loaded_at)
        aggregate.mark_events_committed()
        if snapshot is not None:
            await self._store_snapshot(snapshot)
        return result

    async def take_snapshot(self, aggregate: A) -> None:
        """Store a snapshot of *aggregate* now; it must have no unsaved events."""
        self._check_type(aggregate)
        if aggregate.pending_events:
            raise ConfigurationError(
                f"{type(aggregate).__qualname__} {aggregate.id!r} has unsaved events; save it "
                "before taking a snapshot, so the snapshot matches the stored events"
            )
        if aggregate.version == 0:
            raise ConfigurationError("an aggregate without events has no state to snapshot")
        if self._snapshots is None:
            raise ConfigurationError(
                "this repository does not use snapshots; create it with snapshots=True "
                "(or snapshot_every=N) to take them"
            )
        await self._snapshots.save_snapshot(self._capture(aggregate))

    def _due(self, before: int, after: int) -> bool:
        every = self.snapshot_every
        return every is not None and before // every < after // every

    def _capture(self, aggregate: A) -> SnapshotRecord:
        assert self._codec is not None
        return self._codec.capture(aggregate, utc_now())

    async def _store_snapshot(self, record: SnapshotRecord) -> None:
        assert self._snapshots is not None
        try:
            await self._snapshots.save_snapshot(record)
        except Exception:
            # The events are stored; a missing snapshot only makes later loads replay more.
            logger.warning(
                "the events of %r were saved but its snapshot at version %d was not",
                record.stream_id,
                record.version,
                exc_info=True,
            )

    async def _replayed(self, aggregate_id: str, target: int | None) -> A:
        """The aggregate after its events up to *target*, from its snapshot when one fits."""
        if self._codec is None:
            aggregate = self.aggregate_type()
            recorded = await self.store.read_stream(aggregate_id, to_version=target)
            aggregate.load_from_history(r.event for r in recorded)
            return aggregate
        # One read for the snapshot and the events after it; the events before it are only
        # read when the snapshot turns out not to fit the class.
        snapshot, recorded = await self.store.read_from_snapshot(aggregate_id, to_version=target)
        restored = None if snapshot is None else self._codec.restore(snapshot)
        if restored is not None:
            restored.load_from_history(r.event for r in recorded)
            return restored
        aggregate = self.aggregate_type()
        if snapshot is not None:
            earlier = await self.store.read_stream(aggregate_id, to_version=snapshot.version)
            aggregate.load_from_history(r.event for r in earlier)
        aggregate.load_from_history(r.event for r in recorded)
        return aggregate

    def _check_type(self, aggregate: object) -> None:
        if not isinstance(aggregate, self.aggregate_type):
            raise ConfigurationError(
                f"this repository stores {self.aggregate_type.__qualname__}, not "
                f"{type(aggregate).__qualname__}"
            )
