"""Entities to JSON documents and back, through the shared converter."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Generic, TypeVar

from cattrs.errors import BaseValidationError
from cattrs.preconf.json import JsonConverter

from victor_core.errors import SerializationError
from victor_core.eventsourcing.serializer import NotUnicodeText, as_utc, dumps
from victor_core.repository.entity import Entity
from victor_core.serialization import converter as default_converter

E = TypeVar("E", bound=Entity)

#: Types every backend may hold as plain JSON.
_SUPPORTED = (
    "Fields must be JSON-friendly values (str, numbers, bool, None, datetime, date, UUID, "
    "Decimal, enums, lists, dicts, tuples, sets, nested dataclasses or attrs classes) or have "
    "a hook registered on victor_core.serialization.converter"
)


class EntityCodec(Generic[E]):
    """Encodes entities of one class as JSON text, with their timestamps in UTC.

    Storing the timestamps in UTC lets engines compare and sort them as text.
    """

    def __init__(self, entity_type: type[E], converter: JsonConverter | None = None) -> None:
        self.entity_type = entity_type
        self.converter = converter if converter is not None else default_converter

    def encode(self, entity: E, **overrides: Any) -> str:
        """JSON text for *entity*, with the fields in *overrides* replaced."""
        try:
            payload: dict[str, Any] = self.converter.unstructure(entity, self.entity_type)
            for name, value in overrides.items():
                payload[name] = value
            for name in ("created_at", "updated_at"):
                moment = overrides.get(name, getattr(entity, name))
                if isinstance(moment, datetime):
                    payload[name] = self.converter.unstructure(as_utc(moment), datetime)
            return dumps(payload)
        except NotUnicodeText as exc:
            raise SerializationError(
                f"cannot store {self.entity_type.__qualname__} {entity.id!r}: {exc}"
            ) from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(
                f"cannot store {self.entity_type.__qualname__} {entity.id!r}: {exc}. {_SUPPORTED}"
            ) from exc

    def decode(self, document: str, entity_id: str | None = None) -> E:
        """The entity stored as *document*."""
        try:
            entity: E = self.converter.structure(json.loads(document), self.entity_type)
        except (BaseValidationError, TypeError, ValueError, KeyError) as exc:
            raise SerializationError(
                f"stored {self.entity_type.__qualname__} {entity_id!r} does not fit the class "
                f"{self.entity_type.__module__}.{self.entity_type.__qualname__}: {exc}"
            ) from exc
        return entity
