"""The base class of domain events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from os import urandom
from typing import Any, ClassVar

from victor_core._records import attrs_compatible

#: The hex digit of a random UUID's variant nibble, by the nibble's two random bits.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_id() -> str:
    """A fresh random identifier, as text so it reads the same in every database.

    The text is that of ``str(uuid.uuid4())``: a random (version 4) UUID, lower-case
    hex in 8-4-4-4-12 groups. Every event gets one, so it is written from the random bytes
    directly rather than through a :class:`uuid.UUID`, which costs several times as much.
    """
    digits = urandom(16).hex()
    return (
        f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-"
        f"{_VARIANT[digits[16]]}{digits[17:20]}-{digits[20:]}"
    )


def utc_now() -> datetime:
    """The current time, timezone-aware and in UTC, so that stored times compare safely."""
    return datetime.now(UTC)


@attrs_compatible(kw_only=True, slots=False, init=False)
@dataclasses.dataclass(kw_only=True)
class Event:
    """Something that happened in the domain; derive with ``@dataclass`` or ``@attrs.define``.

    The base fields are keyword-only, so a subclass may declare fields without defaults::

        @dataclass
        class TaskCreated(Event):
            task_id: str
            title: str = ""

    Every subclass is registered under its class name (or ``__event_type__``, when set) so
    stored events can be read back; see :data:`victor_core.event_types`.
    """

    id: str = dataclasses.field(default_factory=new_id)
    timestamp: datetime = dataclasses.field(default_factory=utc_now)
    #: Filled in with the stream id when the event is stored, if left empty.
    aggregate_id: str = ""

    #: The name under which the event is stored; defaults to the class name.
    __event_type__: ClassVar[str | None] = None
    #: The version of the class's stored shape. Raise it when fields change incompatibly, and
    #: register an upcaster from the previous version (:mod:`victor_core.eventsourcing.upcasting`).
    __schema_version__: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        from victor_core.eventsourcing.event_types import event_types

        event_types.register_subclass(cls)
