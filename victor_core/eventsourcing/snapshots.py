"""What a backend implements to keep aggregate snapshots: two methods over serialized state.

A snapshot is a cache of an aggregate's state at one version of its stream, so that loading
it replays the events after that version only. The kernel decides when to take one and
whether a stored one still fits the aggregate class (see
:mod:`victor_core.eventsourcing.snapshot_state`); a backend only keeps the records.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

import attrs

from victor_core.errors import CapabilityNotSupported
from victor_core.eventsourcing.recorder import EventRecorder
from victor_core.eventsourcing.records import StoredEventRecord


@attrs.frozen
class SnapshotRecord:
    """An aggregate's state at one version of its stream, serialized."""

    stream_id: str
    #: The stream version the state includes: the version of the last event applied.
    version: int
    #: The stored name of the aggregate class, so one stream id never feeds another class.
    aggregate_type: str
    #: A digest of the class's state shape; a snapshot whose fingerprint differs from the
    #: class's current one is ignored and the aggregate is replayed from its events.
    fingerprint: str
    #: The state attributes as JSON text.
    state: str
    #: When the snapshot was taken (UTC).
    taken_at: datetime


class SnapshotRecorder(abc.ABC):
    """Storage of snapshot records for one backend.

    Snapshots of one stream at several versions are all kept, because loading an aggregate
    as it was at an earlier version can use an earlier snapshot.
    """

    @abc.abstractmethod
    async def save_snapshot(self, record: SnapshotRecord) -> None:
        """Store *record*, replacing a snapshot of the same stream and version if any."""

    @abc.abstractmethod
    async def latest_snapshot(
        self, stream_id: str, max_version: int | None
    ) -> SnapshotRecord | None:
        """The snapshot of *stream_id* with the highest version ``<= max_version``.

        ``max_version=None`` means the newest snapshot; ``None`` is returned when there is
        no such snapshot.
        """

    async def latest_snapshot_and_events(
        self, events: EventRecorder, stream_id: str, max_version: int | None
    ) -> tuple[SnapshotRecord | None, Sequence[StoredEventRecord]]:
        """:meth:`latest_snapshot`, and the records *events* holds after it up to *max_version*.

        This is what loading an aggregate reads. The default makes the two calls one after
        the other; a backend whose snapshots and events share a connection overrides it to
        answer both in one round trip. Without a snapshot the records start at version 1.
        """
        snapshot = await self.latest_snapshot(stream_id, max_version)
        start = 1 if snapshot is None else snapshot.version + 1
        if max_version is not None and start > max_version:
            return snapshot, ()
        return snapshot, await events.read_stream(stream_id, start, max_version, None)

    async def read_snapshots(
        self, after: tuple[str, int] | None, limit: int
    ) -> Sequence[SnapshotRecord]:
        """Up to *limit* snapshots ordered by stream id, then version, after the key *after*.

        ``after`` is the ``(stream_id, version)`` of the last snapshot of the previous page
        (``None`` for the first page); stream ids compare by code point, as Python's ``str``
        does (byte order of their UTF-8). ``victor copy`` pages through every snapshot with
        it; a backend that cannot list its snapshots keeps this default, and a copy from it
        is then made without them.
        """
        raise CapabilityNotSupported(
            f"{type(self).__qualname__} cannot list its snapshots (it does not implement "
            "read_snapshots); copy the store without them (victor copy --no-snapshots): "
            "aggregates are then loaded from their events, and snapshots are taken anew"
        )

    async def close(self) -> None:  # noqa: B027 - optional for recorders holding nothing
        """Release connections; the recorder is not used afterwards."""
