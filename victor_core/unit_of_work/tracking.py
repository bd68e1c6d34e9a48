"""What a unit of work remembers about each object: what it will do with it, and how it looked.

Dirty checking compares the object's serialized form now with the one taken when it was
attached (or last committed), through the same converter the repository stores it with,
so a change counts exactly when it would change what is stored. Rollback puts the fields
back from that same serialized form.
"""

from __future__ import annotations

import enum
import json
from typing import TYPE_CHECKING, Any

import attrs
from cattrs.preconf.json import JsonConverter

from victor_core._records import record_fields
from victor_core.errors import SerializationError
from victor_core.eventsourcing.serializer import dumps

if TYPE_CHECKING:
    from victor_core.unit_of_work.participants import Participant


class EntityState(enum.StrEnum):
    """The state of a tracked object, and so what ``commit`` writes for it."""

    #: Registered with ``register_new``: inserted at commit.
    NEW = "new"
    #: Registered with ``register_modified``, or attached and changed since: updated at commit.
    MODIFIED = "modified"
    #: Registered with ``register_deleted``: deleted at commit.
    DELETED = "deleted"
    #: Attached, loaded or committed, and unchanged since: nothing to write.
    CLEAN = "clean"


@attrs.define(eq=False)
class Tracked:
    """One object in the identity map."""

    obj: Any
    participant: Participant
    state: EntityState
    #: Serialized state when attached or last committed; None when never seen stored.
    snapshot: str | None = None


def serialized(obj: Any, converter: JsonConverter) -> str:
    """The object's state as canonical JSON text, for comparing and restoring."""
    try:
        return dumps(converter.unstructure(obj, type(obj)))
    except (TypeError, ValueError, AttributeError) as exc:
        raise SerializationError(
            f"cannot track {type(obj).__qualname__} {getattr(obj, 'id', '')!r}: its state "
            f"cannot be serialized ({exc}), so it could not be stored either. Fields must be "
            "values victor_core.converter can store"
        ) from exc


def restore(obj: Any, snapshot: str, converter: JsonConverter) -> None:
    """Put the fields of *obj* back as they were when *snapshot* was taken."""
    cls = type(obj)
    before = converter.structure(json.loads(snapshot), cls)
    for field in record_fields(cls):
        value = getattr(before, field.name)
        if getattr(obj, field.name, None) != value:
            # object.__setattr__: frozen classes cannot change in place, but slotted and
            # validated ones must not refuse being put back.
            object.__setattr__(obj, field.name, value)
