"""The values that cross the boundary between the event store and a backend's recorder."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from victor_core.errors import ConcurrencyError, ConfigurationError
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


def check_expected_version(stream_id: str, expected: ExpectedVersion, actual: int) -> None:
    """Raise :class:`ConcurrencyError` unless a stream at *actual* meets *expected*.

    Recorders call this inside whatever makes their append atomic, so the check and the
    write see the same version.
    """
    if expected is StreamState.ANY:
        return
    if expected is StreamState.NO_STREAM:
        ok = actual == 0
    elif expected is StreamState.STREAM_EXISTS:
        ok = actual > 0
    else:
        ok = actual == expected
    if not ok:
        raise ConcurrencyError(stream_id, expected, actual)


@attrs.frozen
class NewEventRecord:
    """An event serialized for storage, before it has a version or position."""

    event_id: str
    type_name: str
    schema_version: int
    #: The event's fields as JSON text.
    data: str
    #: When the event happened (the event's own timestamp), for temporal queries.
    timestamp: datetime


@attrs.frozen
class StoredEventRecord:
    """An event as a backend returns it: serialized, with its place in the log."""

    position: int
    stream_id: str
    version: int
    event_id: str
    type_name: str
    schema_version: int
    data: str
    timestamp: datetime


@attrs.frozen
class AppendResult:
    """What ``append`` reports: the stream's new version and where each event landed."""

    stream_id: str
    #: The stream's version after the append: the version of its last event.
    version: int
    #: The global position of each appended event, in order.
    positions: tuple[int, ...]

    @property
    def first_version(self) -> int:
        """The version of the first event of this append."""
        return self.version - len(self.positions) + 1


@attrs.frozen
class RecordedEvent:
    """An event read back from the store, with its stream version and global position."""

    position: int
    stream_id: str
    version: int
    event: Event
    type_name: str
