"""What a backend implements to store events: four methods over serialized records.

The kernel's :class:`~victor_core.eventsourcing.store.EventStore` does everything that is
the same for all backends (validating arguments, serializing, paging, deserializing), so a
backend author writes only what is specific to the engine, and cannot get those parts
subtly different from the other backends.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from victor_core.eventsourcing.records import (
    AppendResult,
    ExpectedVersion,
    NewEventRecord,
    StoredEventRecord,
)
from victor_core.eventsourcing.subscriptions import AppendSignal

_VERSION_AT_PAGE = 500


class EventRecorder(abc.ABC):
    """Storage of serialized events for one backend.

    Guarantees every implementation must give (the contract suite checks them):

    - ``append`` is atomic: all records are stored, or none are.
    - The expected-version check and the write happen as one step: of two appends that
      expect the same version of a stream, exactly one succeeds and the other raises
      :class:`~victor_core.errors.ConcurrencyError` (see
      :func:`~victor_core.eventsourcing.records.check_expected_version`).
    - Stream versions start at 1 and have no gaps; global positions are unique, start at 1
      and increase in the order appends commit.
    """

    @abc.abstractmethod
    async def append(
        self,
        stream_id: str,
        records: Sequence[NewEventRecord],
        expected_version: ExpectedVersion,
    ) -> AppendResult:
        """Store *records* at the end of *stream_id* if it meets *expected_version*."""

    @abc.abstractmethod
    async def read_stream(
        self,
        stream_id: str,
        from_version: int,
        to_version: int | None,
        limit: int | None,
    ) -> Sequence[StoredEventRecord]:
        """Records of one stream with ``from_version <= version <= to_version``, in order."""

    @abc.abstractmethod
    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        """Up to *limit* records with ``position >= from_position``, in position order.

        Subscriptions and projections move past every position returned here, so never
        return a record while a lower position may still commit (an engine whose positions
        can commit out of order must hold back the records after such a gap).
        """

    @abc.abstractmethod
    async def stream_version(self, stream_id: str) -> int:
        """The version of the stream's last event; 0 when the stream does not exist."""

    async def version_at(self, stream_id: str, moment: datetime) -> int:
        """How many leading events of the stream happened at or before *moment* (UTC).

        The stream's state "as of" *moment* is its events up to that version: the longest
        prefix in which no event is later than *moment*. This default reads the stream page
        by page; a backend that can answer with one query should override it.
        """
        version = 0
        while True:
            page = await self.read_stream(stream_id, version + 1, None, _VERSION_AT_PAGE)
            for record in page:
                if record.timestamp > moment:
                    return version
                version = record.version
            if len(page) < _VERSION_AT_PAGE:
                return version

    def append_signal(self) -> AppendSignal | None:
        """What wakes this recorder's subscriptions when events are appended; None to poll.

        Without a signal a caught-up subscription calls :meth:`read_all` once per poll
        interval. Return an :class:`~victor_core.eventsourcing.subscriptions.AppendBroadcast`
        that appends notify (for appends in this process), or a signal of the engine's own.
        """
        return None

    async def close(self) -> None:  # noqa: B027 - optional for recorders holding nothing
        """Release connections; the recorder is not used afterwards."""
