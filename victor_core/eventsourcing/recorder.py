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
from typing import TYPE_CHECKING

from victor_core.errors import BackendContractError
from victor_core.eventsourcing.records import (
    AppendResult,
    ExpectedVersion,
    NewEventRecord,
    StoredEventRecord,
)
from victor_core.eventsourcing.subscriptions import AppendSignal

if TYPE_CHECKING:
    from victor_core.backend.transactions import TransactionManager

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

    async def last_position(self) -> int:
        """The global position of the last stored event; 0 when the log is empty.

        This default pages through :meth:`read_all`; a backend that can answer with one
        query should override it.
        """
        position = 0
        while True:
            page = await self.read_all(position + 1, _VERSION_AT_PAGE)
            if page:
                position = page[-1].position
            if len(page) < _VERSION_AT_PAGE:
                return position

    def append_signal(self) -> AppendSignal | None:
        """What wakes this recorder's subscriptions when events are appended; None to poll.

        Without a signal a caught-up subscription calls :meth:`read_all` once per poll
        interval. Return an :class:`~victor_core.eventsourcing.subscriptions.AppendBroadcast`
        that appends notify (for appends in this process), or a signal of the engine's own.
        """
        return None

    def transaction_manager(self) -> TransactionManager | None:
        """The manager committing a unit of work's appends to this recorder, or None.

        A unit of work asks each store its writes name, and commits the writes whose
        managers share a key in one transaction; None (the default) means the writes are
        made one by one, each through the recorder's own methods.
        """
        return None

    async def close(self) -> None:  # noqa: B027 - optional for recorders holding nothing
        """Release connections; the recorder is not used afterwards."""


def broken_contract(component: object, method: str, problem: str) -> BackendContractError:
    """The error for a backend *component* whose *method* returned something it must not."""
    return BackendContractError.of(component, method, problem)


def checked_version(recorder: EventRecorder, method: str, version: object) -> int:
    """*version* as returned by the recorder's *method*, which must be an int >= 0."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise broken_contract(
            recorder, method, f"returned {version!r}, where a stream version (an int >= 0) is due"
        )
    return version


def checked_records(recorder: object, method: str, records: object) -> Sequence[StoredEventRecord]:
    """*records* as returned by the recorder's *method*: a list or tuple of StoredEventRecord.

    Only the container is checked here; each record is checked as it is deserialized, so a
    read costs one type check per record and nothing more.
    """
    if not isinstance(records, list | tuple):
        raise broken_contract(
            recorder,
            method,
            f"returned {type(records).__qualname__}, where a list of StoredEventRecord is due",
        )
    return records


def broken_record(recorder: EventRecorder, method: str, record: object) -> BackendContractError:
    """The error for an item of a read that is not a StoredEventRecord."""
    return broken_contract(
        recorder,
        method,
        f"returned {type(record).__qualname__} {record!r} among its records, where each must "
        "be a StoredEventRecord",
    )


def checked_append(recorder: EventRecorder, stream_id: str, result: object) -> AppendResult:
    """What ``append`` returned: an AppendResult for *stream_id*."""
    if not isinstance(result, AppendResult):
        raise broken_contract(
            recorder, "append", f"returned {result!r}, where an AppendResult is due"
        )
    if result.stream_id != stream_id or not isinstance(result.version, int):
        raise broken_contract(
            recorder,
            "append",
            f"returned {result!r} for an append to stream {stream_id!r}; an AppendResult "
            "names the stream appended to and its new version (an int)",
        )
    return result
