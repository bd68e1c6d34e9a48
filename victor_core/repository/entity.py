"""The base class of entities: things with an identity that outlives their changes."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import ClassVar

import attrs

from victor_core._records import _defining_library, attrs_compatible, record_fields
from victor_core.errors import ConfigurationError
from victor_core.eventsourcing.events import new_id, utc_now


@attrs_compatible(kw_only=True, slots=False, init=False)
@dataclasses.dataclass(kw_only=True)
class Entity:
    """Something identified by its ``id``; derive with ``@dataclass`` or ``@attrs.define``.

    ``id`` is generated when not given, ``created_at`` is set when the entity is made and
    ``updated_at`` moves each time a repository stores an update. Both times are
    timezone-aware and stored in UTC.

    Declare ``version: int = 0`` on a subclass to get optimistic locking: every repository
    then refuses to store an update made from a stale copy. Another field can play that part
    by naming it in ``__version_field__``; set ``__version_field__ = None`` to keep a field
    called ``version`` as plain data.
    """

    id: str = dataclasses.field(default_factory=new_id)
    created_at: datetime = dataclasses.field(default_factory=utc_now)
    updated_at: datetime = dataclasses.field(default_factory=utc_now)

    #: The name under which entities of this class are stored (table, collection);
    #: defaults to the class name.
    __entity_name__: ClassVar[str | None] = None
    #: The field that counts stored versions, when the class declares it.
    __version_field__: ClassVar[str | None] = "version"


def entity_name(entity_type: type[Entity]) -> str:
    """The storage name of *entity_type*: its ``__entity_name__`` or its class name."""
    declared = entity_type.__dict__.get("__entity_name__")
    return declared if isinstance(declared, str) and declared else entity_type.__name__


def version_field(entity_type: type[Entity]) -> str | None:
    """The field holding the stored version of *entity_type*, or None without locking."""
    name = entity_type.__version_field__
    if name is None:
        return None
    for field in record_fields(entity_type):
        if field.name == name:
            if field.type not in (int, "int"):
                raise ConfigurationError(
                    f"{entity_type.__qualname__}.{name} is the version field used for "
                    f"optimistic locking, so it must be declared `{name}: int = 0`; set "
                    "`__version_field__ = None` on the class to store it as plain data"
                )
            return name
    return None


def version_default(entity_type: type[Entity], name: str) -> int | None:
    """The plain default of the version field *name*, or None when it has none.

    It is the version of a document stored before the class declared the field: decoding
    such a document gives the default.
    """
    default: object
    library = _defining_library(entity_type)
    if library == "pydantic":
        default = entity_type.__pydantic_fields__[name].default  # type: ignore[attr-defined]
    elif library == "attrs":
        default = attrs.fields_dict(entity_type)[name].default
    else:
        default = {f.name: f.default for f in dataclasses.fields(entity_type)}[name]
    return default if isinstance(default, int) and not isinstance(default, bool) else None


def check_entity_type(entity_type: object) -> type[Entity]:
    """*entity_type* if it is an entity class, or an error saying how to make one."""
    if not (isinstance(entity_type, type) and issubclass(entity_type, Entity)):
        raise ConfigurationError(
            f"repositories store subclasses of victor_core.Entity, got {entity_type!r}; "
            "declare `@dataclass class User(Entity): ...` and pass that class"
        )
    if entity_type is Entity:
        raise ConfigurationError(
            "Entity itself has no fields of its own to store; pass a subclass such as "
            "`@dataclass class User(Entity): name: str = ''`"
        )
    return entity_type
