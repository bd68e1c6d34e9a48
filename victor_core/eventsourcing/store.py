"""The event store: an append-only log of events, in streams, with one global order."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

from victor_core.errors import ConfigurationError, SerializationError, StoreClosed
from victor_core.eventsourcing.checkpoints import CheckpointStore
from victor_core.eventsourcing.events import Event
from victor_core.eventsourcing.recorder import (
    EventRecorder,
    broken_record,
    checked_append,
    checked_records,
    checked_version,
)
from victor_core.eventsourcing.records import (
    ANY,
    AppendResult,
    ExpectedVersion,
    RecordedEvent,
    StoredEventRecord,
    check_stream_id,
    expected_version_from,
)
from victor_core.eventsourcing.serializer import EventSerializer, as_utc, glimpse
from victor_core.eventsourcing.snapshots import SnapshotRecord, SnapshotRecorder
from victor_core.eventsourcing.subscriptions import DEFAULT_POLL_INTERVAL, Subscription

#: How many records ``read_all`` asks the backend for at a time.
DEFAULT_PAGE_SIZE = 500

#: The largest version, position or count a backend is asked about: databases store 64-bit
#: integers, and no stream or log gets near it, so larger windows are the same as this one.
_LARGEST = 2**63 - 1
#: Builds a named tuple (a RecordedEvent) from a tuple of its fields, without the frame that
#: calling the class costs: every read builds one for each event it delivers. The fields
#: of a StoredEventRecord are read by index for the same reason (0 position, 1 stream id,
#: 2 version, 4 type name).
_new_tuple = tuple.__new__


class EventStore:
    """Appends and reads events; the storage itself is the backend's ``EventRecorder``.

    Obtain one from a backend (``InMemoryEventStore()``, ``SQLiteEventStore("events.db")``)
    or by URL with :func:`victor_core.open_event_store`. Use it as an async context manager,
    or call :meth:`close`, to release the backend's connections.

    Backends that keep aggregate snapshots or projection checkpoints next to the events
    expose them as :attr:`snapshots` and :attr:`checkpoints` (``None`` otherwise).
    """

    def __init__(
        self,
        recorder: EventRecorder,
        *,
        serializer: EventSerializer | None = None,
        snapshots: SnapshotRecorder | None = None,
        checkpoints: CheckpointStore | None = None,
    ):
        self.recorder = recorder
        self.serializer = serializer if serializer is not None else EventSerializer()
        #: Where the aggregate repository keeps snapshots, when the backend has them.
        self.snapshots = snapshots
        #: Where projection runners keep their positions, when the backend has them.
        self.checkpoints = checkpoints
        self._closed = False
        self._subscriptions: weakref.WeakSet[Subscription] = weakref.WeakSet()

    async def append(
        self,
        stream_id: str,
        events: Event | Iterable[Event],
        *,
        expected_version: ExpectedVersion | str = ANY,
    ) -> AppendResult:
        """Append one event or several, atomically, at the end of *stream_id*.

        *expected_version* is the version you loaded the stream at (0 for a new stream), or
        ``"any"`` (the default), ``"no_stream"`` or ``"stream_exists"``. When the stream does
        not meet it, :class:`~victor_core.errors.ConcurrencyError` is raised and nothing is
        written. Events with an empty ``aggregate_id`` are stored with the stream id in it.

        Appends are idempotent by event id: appending again the events that are the last of
        the stream (a retry after a lost acknowledgement) writes nothing and returns the
        first result; any other reuse of an event id of the stream raises
        :class:`~victor_core.errors.DuplicateEventId`.
        """
        self._check_open()
        check_stream_id(stream_id)
        batch = [events] if isinstance(events, Event) else _batch(stream_id, events)
        if not batch:
            raise ConfigurationError(
                f"append to stream {stream_id!r} was given no events; pass an event or a "
                "non-empty list of events"
            )
        expected = expected_version_from(expected_version)
        serialize = self.serializer._batch_encoder()
        records = [serialize(event, stream_id) for event in batch]
        result = await self.recorder.append(stream_id, records, expected)
        return checked_append(self.recorder, stream_id, result)

    async def read_stream(
        self,
        stream_id: str,
        *,
        from_version: int = 1,
        to_version: int | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """The events of *stream_id* in version order; empty when the stream does not exist.

        ``from_version`` and ``to_version`` are inclusive; ``limit`` caps the count.
        """
        self._check_open()
        check_stream_id(stream_id)
        _check_positive("from_version", from_version, allow_zero=True)
        if to_version is not None:
            _check_positive("to_version", to_version, allow_zero=True)
        if limit is not None:
            _check_positive("limit", limit, allow_zero=True)
            if limit == 0:
                return []
        start = max(from_version, 1)
        if (to_version is not None and to_version < start) or start > _LARGEST:
            return []
        if to_version is not None:
            to_version = min(to_version, _LARGEST)
        if limit is not None:
            limit = min(limit, _LARGEST)
        records = await self.recorder.read_stream(stream_id, start, to_version, limit)
        checked_records(self.recorder, "read_stream", records)
        return self._recorded_all(records, "read_stream")

    async def read_from_snapshot(
        self, stream_id: str, *, to_version: int | None = None
    ) -> tuple[SnapshotRecord | None, list[RecordedEvent]]:
        """The newest snapshot of *stream_id* up to *to_version*, and the events after it.

        The events run from the snapshot's version + 1 (from 1 without a snapshot) to
        *to_version* inclusive (the end without it). Backends that can answer both in one
        round trip do; a store without snapshots returns no snapshot and the events.
        """
        self._check_open()
        check_stream_id(stream_id)
        if to_version is not None:
            _check_positive("to_version", to_version, allow_zero=True)
            to_version = min(to_version, _LARGEST)
        if self.snapshots is None:
            return None, await self.read_stream(stream_id, to_version=to_version)
        if to_version == 0:
            return None, []
        snapshot, records = await self.snapshots.latest_snapshot_and_events(
            self.recorder, stream_id, to_version
        )
        checked_records(self.snapshots, "latest_snapshot_and_events", records)
        return snapshot, self._recorded_all(records, "read_stream")

    async def read_all(
        self,
        *,
        from_position: int = 1,
        limit: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[RecordedEvent]:
        """Every event from global position *from_position* (inclusive) on, in global order.

        This is what projections and catch-up subscriptions read. Backends are asked for
        ``page_size`` records at a time, so the whole log is never held in memory.
        """
        self._check_open()
        _check_positive("from_position", from_position, allow_zero=True)
        _check_positive("page_size", page_size)
        if limit is not None:
            _check_positive("limit", limit, allow_zero=True)
        remaining = limit
        position = max(from_position, 1)
        page_size = min(page_size, _LARGEST)
        while (remaining is None or remaining > 0) and position <= _LARGEST:
            want = page_size if remaining is None else min(page_size, remaining)
            page = checked_records(
                self.recorder, "read_all", await self.recorder.read_all(position, want)
            )
            # Each event is decoded as it is reached, so the ones before a record that
            # cannot be read are delivered first.
            deserialize = self.serializer._page_decoder()
            for record in page:
                if not isinstance(record, StoredEventRecord):
                    raise broken_record(self.recorder, "read_all", record)
                yield _new_tuple(
                    RecordedEvent,
                    (record[0], record[1], record[2], deserialize(record), record[4]),
                )
            if len(page) < want:
                return
            position = page[-1].position + 1
            if remaining is not None:
                remaining -= len(page)

    def subscribe(
        self,
        from_position: int = 0,
        *,
        types: Iterable[type[Event] | str] | type[Event] | str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Subscription:
        """Every event from *from_position* (inclusive) on, then each new one as it commits.

        Use it with ``async for`` (and ``async with`` to close it): it catches up through
        :meth:`read_all` and then waits, without busy polling, for the backend's signal that
        something was appended; in global order, each event once. *types* keeps only events
        of those classes (and their subclasses) or stored type names. *poll_interval* bounds
        how long an append the backend cannot signal (another process's, say) goes unseen.
        """
        self._check_open()
        _check_positive("from_position", from_position, allow_zero=True)
        _check_positive("page_size", page_size)
        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, int | float)
            or not poll_interval > 0
        ):
            raise ConfigurationError(
                f"poll_interval must be a positive number of seconds, got {poll_interval!r}"
            )
        subscription = Subscription(
            self,
            min(from_position, _LARGEST),
            types=types,
            page_size=min(page_size, _LARGEST),
            poll_interval=float(poll_interval),
        )
        self._subscriptions.add(subscription)
        return subscription

    async def last_position(self) -> int:
        """The global position of the last event in the log, 0 when it is empty.

        How far behind a projection is: ``await store.last_position() - await
        runner.position()``.
        """
        self._check_open()
        return await self.recorder.last_position()

    async def stream_version(self, stream_id: str) -> int:
        """The version of the last event in *stream_id*, 0 when it does not exist."""
        self._check_open()
        check_stream_id(stream_id)
        version = await self.recorder.stream_version(stream_id)
        return checked_version(self.recorder, "stream_version", version)

    async def version_at(self, stream_id: str, moment: datetime) -> int:
        """The stream's version as of *moment*: how many of its first events happened by then.

        Counting stops at the first event later than *moment*, so the events up to the
        returned version all happened at or before it. A naive *moment* is taken as UTC.
        """
        self._check_open()
        check_stream_id(stream_id)
        if not isinstance(moment, datetime):
            raise ConfigurationError(f"moment must be a datetime, got {moment!r}")
        version = await self.recorder.version_at(stream_id, as_utc(moment))
        return checked_version(self.recorder, "version_at", version)

    async def close(self) -> None:
        """Release the backend's resources. Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            for subscription in list(self._subscriptions):
                subscription._wake()
            for part in (self.checkpoints, self.snapshots):
                if part is not None:
                    await part.close()
            await self.recorder.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._closed

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _recorded(
        self,
        record: StoredEventRecord,
        method: str = "read_all",
        deserialize: Callable[[StoredEventRecord], Event] | None = None,
    ) -> RecordedEvent:
        """*record* as a recorded event, decoded by *deserialize* (one page's decoder)."""
        if not isinstance(record, StoredEventRecord):
            raise broken_record(self.recorder, method, record)
        decode = self.serializer.deserialize if deserialize is None else deserialize
        return _new_tuple(
            RecordedEvent, (record[0], record[1], record[2], decode(record), record[4])
        )

    def _recorded_all(
        self, records: Sequence[StoredEventRecord], method: str
    ) -> list[RecordedEvent]:
        """:meth:`_recorded` of each record of one read, looking each event type up once."""
        deserialize = self.serializer._page_decoder()
        recorded = []
        for record in records:
            if not isinstance(record, StoredEventRecord):
                raise broken_record(self.recorder, method, record)
            recorded.append(
                _new_tuple(
                    RecordedEvent,
                    (record[0], record[1], record[2], deserialize(record), record[4]),
                )
            )
        return recorded

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(
                f"this {type(self).__name__} was closed; open a new one to keep working"
            )


def _batch(stream_id: str, events: object) -> list[Event]:
    """The events of an append given several, or a victor error saying what to pass."""
    if isinstance(events, str | bytes | bytearray | Mapping) or not isinstance(events, Iterable):
        hint = (
            "; a dict of fields is not an event: declare an Event subclass with those fields"
            if isinstance(events, Mapping)
            else ""
        )
        raise SerializationError(
            f"append to stream {stream_id!r} was given events={glimpse(events)}, a "
            f"{type(events).__qualname__}; pass an Event (an instance of a dataclass or attrs "
            f"class deriving from victor_core.Event) or a list of them{hint}"
        )
    batch = list(events)
    for index, event in enumerate(batch):
        if not isinstance(event, Event):
            raise SerializationError(
                f"append to stream {stream_id!r} was given events[{index}]={glimpse(event)}, a "
                f"{type(event).__qualname__}; events must derive from victor_core.Event (use "
                "@dataclass or @attrs.define on the subclass)"
            )
    return batch


def _check_positive(name: str, value: object, *, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigurationError(f"{name} must be an int >= {low}, got {value!r}")


__all__ = ["DEFAULT_PAGE_SIZE", "EventStore"]
