"""The values that cross the boundary between the event store and a backend's recorder."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from victor_core.errors import ConcurrencyError, ConfigurationError, DuplicateEventId
from victor_core.serialization.text import is_unicode

if TYPE_CHECKING:
    from victor_core.eventsourcing.events import Event


class StreamState(enum.StrEnum):
    """Expectations about a stream that are not an exact version."""

    #: Append whatever the stream's version is (the seed's bare ``append(id, event)``).
    ANY = "any"
    #: The stream must not exist yet: creating an aggregate twice is a conflict.
    NO_STREAM = "no_stream"
    #: The stream must already exist.
    STREAM_EXISTS = "stream_exists"


#: What ``append(..., expected_version=...)`` accepts: a state, or the exact current version.
ExpectedVersion = StreamState | int

ANY = StreamState.ANY
NO_STREAM = StreamState.NO_STREAM
STREAM_EXISTS = StreamState.STREAM_EXISTS


def expected_version_from(value: object) -> ExpectedVersion:
    """Normalise what a caller passed as ``expected_version``."""
    if isinstance(value, StreamState):
        return value
    if isinstance(value, bool):
        pass  # bool is an int, but True is never a version anyone meant
    elif isinstance(value, int):
        if value < 0:
            raise ConfigurationError(
                f"expected_version={value} is negative; pass the stream version you loaded "
                "(0 for a new stream) or one of 'any', 'no_stream', 'stream_exists'"
            )
        return value
    elif isinstance(value, str):
        normalised = value.strip().lower().replace(" ", "_").replace("-", "_")
        try:
            return StreamState(normalised)
        except ValueError:
            pass
    raise ConfigurationError(
        f"expected_version={value!r} is not understood; pass an int (the stream version "
        "you loaded, 0 for a new stream) or one of 'any', 'no_stream', 'stream_exists'"
    )


def check_stream_id(stream_id: object) -> None:
    """Refuse a stream id that is not a non-empty string of Unicode text."""
    if not isinstance(stream_id, str) or not stream_id:
        raise ConfigurationError(
            f"stream ids are non-empty strings, got {stream_id!r}; for an aggregate, set its "
            "`id` before appending its events"
        )
    if not stream_id.isascii() and not is_unicode(stream_id):
        raise ConfigurationError(
            f"stream ids are non-empty strings of Unicode text, got {stream_id!r}, which holds "
            "a lone surrogate that no database stores; remove it, or decode the bytes the id "
            "came from as what they are"
        )


def _meets(expected: ExpectedVersion, actual: int) -> bool:
    if expected is StreamState.ANY:
        return True
    if expected is StreamState.NO_STREAM:
        return actual == 0
    if expected is StreamState.STREAM_EXISTS:
        return actual > 0
    return actual == expected


def check_expected_version(stream_id: str, expected: ExpectedVersion, actual: int) -> None:
    """Raise :class:`ConcurrencyError` unless a stream at *actual* meets *expected*.

    Recorders call this inside whatever makes their append atomic, so the check and the
    write see the same version. (:func:`check_append` calls it for them.)
    """
    if not _meets(expected, actual):
        raise ConcurrencyError(stream_id, expected, actual)


def check_append(
    stream_id: str,
    records: Sequence[NewEventRecord],
    expected_version: ExpectedVersion,
    current: int,
    stored: Sequence[StoredEventRecord],
) -> AppendResult | None:
    """Decide an append from what its stream holds: write it, answer it as a retry, or refuse it.

    A recorder calls this inside whatever makes its append atomic, with the stream's version
    *current* and *stored*: the records of *this stream* whose event ids are among those of
    *records*, in any order (empty, the usual case, when there are none). Then:

    - ``None``: write *records* at versions ``current + 1`` on;
    - an :class:`AppendResult`: the append is a retry of one already stored (its events are
      the stream's last ones, in the same order, with the same content, and *expected_version*
      is met by the version before them); write nothing and return this, the first result;
    - :class:`~victor_core.errors.ConcurrencyError`: the stream does not meet
      *expected_version*;
    - :class:`~victor_core.errors.DuplicateEventId`: the append reuses an event id of the
      stream (or gives one twice) and is not a retry.

    The retry is recognised before the expected version is checked, since a retry finds the
    stream past the version its first attempt expected.
    """
    if stored:
        return _retried(stream_id, records, expected_version, current, stored)
    if len(records) > 1 and len({record.event_id for record in records}) < len(records):
        seen: set[str] = set()
        for record in records:
            if record.event_id in seen:
                raise DuplicateEventId(stream_id, record.event_id, "is given twice in the append")
            seen.add(record.event_id)
    check_expected_version(stream_id, expected_version, current)
    return None


def _retried(
    stream_id: str,
    records: Sequence[NewEventRecord],
    expected: ExpectedVersion,
    current: int,
    stored: Sequence[StoredEventRecord],
) -> AppendResult:
    count = len(records)
    before = current - count
    tail = sorted(stored, key=lambda record: record.version)
    is_tail = len(tail) == count and all(
        old.version == before + 1 + offset and old.event_id == new.event_id
        for offset, (old, new) in enumerate(zip(tail, records, strict=True))
    )
    if not is_tail:
        by_id = {old.event_id: old for old in stored}
        old = next((by_id[new.event_id] for new in records if new.event_id in by_id), tail[0])
        events = "event" if count == 1 else f"{count} events"
        raise DuplicateEventId(
            stream_id,
            old.event_id,
            f"is stored there already, at version {old.version}, and the append does not "
            f"repeat the stream's last {events} in order",
        )
    for old, new in zip(tail, records, strict=True):
        if (old.type_name, old.schema_version, old.data) != (
            new.type_name,
            new.schema_version,
            new.data,
        ):
            raise DuplicateEventId(
                stream_id,
                old.event_id,
                f"is stored there already, at version {old.version}, with other content than "
                f"the append gives it (stored as {old.type_name!r}, given as "
                f"{new.type_name!r}; their fields or schema versions differ otherwise)",
            )
    if not _meets(expected, before):
        raise DuplicateEventId(
            stream_id,
            tail[0].event_id,
            f"is stored there already, at version {before + 1}, appended to the stream at "
            f"version {before}, which does not meet this append's expected version {expected}",
        )
    return AppendResult(stream_id, current, tuple(old.position for old in tail))


class NewEventRecord(NamedTuple):
    """An event serialized for storage, before it has a version or position.

    The records that cross the boundary to a backend, and the events a read delivers, are
    named tuples rather than attrs classes: one is made for every event written or read, and
    a named tuple is immutable by construction, so it costs a tuple to build where a frozen
    class pays for a guarded assignment per field. Make a changed copy with ``_replace``.
    """

    event_id: str
    type_name: str
    schema_version: int
    #: The event's fields as JSON text.
    data: str
    #: When the event happened (the event's own timestamp), for temporal queries.
    timestamp: datetime


class StoredEventRecord(NamedTuple):
    """An event as a backend returns it: serialized, with its place in the log.

    A named tuple, like :class:`NewEventRecord`: build it by calling the class, by keyword
    or with the fields in this order.
    """

    position: int
    stream_id: str
    version: int
    event_id: str
    type_name: str
    schema_version: int
    data: str
    timestamp: datetime


class AppendResult(NamedTuple):
    """What ``append`` reports: the stream's new version and where each event landed.

    A named tuple, like the records (see :class:`NewEventRecord`).
    """

    stream_id: str
    #: The stream's version after the append: the version of its last event.
    version: int
    #: The global position of each appended event, in order.
    positions: tuple[int, ...]

    @property
    def first_version(self) -> int:
        """The version of the first event of this append."""
        return self.version - len(self.positions) + 1


class RecordedEvent(NamedTuple):
    """An event read back from the store, with its stream version and global position.

    A named tuple (see :class:`NewEventRecord` for why): read its fields by name; it also
    unpacks as ``position, stream_id, version, event, type_name``.
    """

    position: int
    stream_id: str
    version: int
    event: Event
    type_name: str
