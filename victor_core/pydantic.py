"""Pydantic v2 models as events, entities, commands and queries.

Code written for FastAPI speaks pydantic: request bodies, responses and settings are
``BaseModel`` classes. The bases here let those same classes be victor's domain objects::

    from victor_core.pydantic import EventModel

    class Deposited(EventModel):
        amount: int = Field(gt=0)

A subclass is a pydantic model (validated when made, ``model_dump``, JSON schema) *and* a
subclass of victor's base (:class:`~victor_core.Event`, :class:`~victor_core.Entity`,
:class:`~victor_core.Command`, :class:`~victor_core.Query`), so every part of victor that takes
an event or an entity takes it. It is stored through the same cattrs converter as dataclasses
and attrs classes, field by field, and rebuilt through the model, so what is read back is
validated again: a stored value that no longer satisfies the model is an error, not a wrong
object. Upcasters, snapshots and specifications work on its declared fields.

Pydantic is an optional dependency: ``pip install 'victor-core[pydantic]'`` (or install
``pydantic>=2``). Pydantic *dataclasses* need none of this: ``@pydantic.dataclasses.dataclass``
on a subclass of ``Event`` or ``Entity`` works as ``@dataclass`` does.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

try:
    from pydantic import BaseModel, ConfigDict, Field
except ImportError as exc:
    raise ImportError(
        "victor_core.pydantic needs pydantic 2, which is not installed: pip install "
        "'pydantic>=2' (once victor-core is published: pip install 'victor-core[pydantic]')"
    ) from exc

from victor_core.cqrs.messages import Command, Query
from victor_core.eventsourcing.events import Event, new_id, utc_now
from victor_core.repository.entity import Entity

__all__ = ["CommandModel", "EntityModel", "EventModel", "QueryModel"]

T = TypeVar("T")


class EventModel(BaseModel, Event):
    """An :class:`~victor_core.Event` written as a pydantic model.

    Events are facts: the model is frozen, so a handler cannot change one after the fact.
    ``__event_type__`` and ``__schema_version__`` work as on any event.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)
    timestamp: datetime = Field(default_factory=utc_now)
    #: Filled in with the stream id when the event is stored, if left empty.
    aggregate_id: str = ""


class EntityModel(BaseModel, Entity):
    """An :class:`~victor_core.Entity` written as a pydantic model.

    Assignments are validated (``validate_assignment``), so a change made by a handler is
    checked when it is made, not when it is stored. Declare ``version: int = 0`` for
    optimistic locking, as on any entity.
    """

    model_config = ConfigDict(validate_assignment=True)

    id: str = Field(default_factory=new_id)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class CommandModel(BaseModel, Command):
    """A :class:`~victor_core.Command` written as a pydantic model: a request body as is."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)
    timestamp: datetime = Field(default_factory=utc_now)


class QueryModel(BaseModel, Query[T]):
    """A :class:`~victor_core.Query` written as a pydantic model: ``QueryModel[ResultType]``.

    Frozen and compared by value, so equal questions share a cached answer.
    """

    model_config = ConfigDict(frozen=True)
