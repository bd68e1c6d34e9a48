"""The base class of domain events."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from victor_core._records import attrs_compatible


def new_id() -> str:
    """A fresh random identifier, as text so it reads the same in every database."""
    return str(uuid.uuid4())


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
