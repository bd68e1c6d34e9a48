"""Entities to JSON documents and back, through the shared converter."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Generic, TypeVar

from cattrs.errors import BaseValidationError
from cattrs.preconf.json import JsonConverter

from victor_core._records import required_field_names
from victor_core.errors import CorruptEntity, SerializationError
from victor_core.eventsourcing.serializer import (
    TOO_DEEP,
    NotUnicodeText,
    as_utc,
    dumps,
    json_kind,
    why_not,
)
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
        except RecursionError:
            raise SerializationError(
                f"cannot store {self.entity_type.__qualname__} {entity.id!r}: {TOO_DEEP}"
            ) from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(
                f"cannot store {self.entity_type.__qualname__} {entity.id!r}: {exc}. {_SUPPORTED}"
            ) from exc

    def decode(self, document: str, entity_id: str | None = None) -> E:
        """The entity stored as *document*."""
        try:
            payload = json.loads(document)
            # What encode() writes, always: without it the entity would be made up of
            # defaults, with a new id (a damaged document, not an entity).
            if (
                type(payload) is not dict
                or "id" not in payload
                or (entity_id is not None and payload["id"] != entity_id)
                or "created_at" not in payload
                or "updated_at" not in payload
            ):
                raise self._corrupt(entity_id, payload)
            entity: E = self.converter.structure(payload, self.entity_type)
        except CorruptEntity:
            raise
        except (BaseValidationError, TypeError, ValueError, KeyError) as exc:
            raise self._corrupt(entity_id, None, exc) from exc
        return entity

    def _corrupt(
        self, entity_id: str | None, payload: Any, error: Exception | None = None
    ) -> CorruptEntity:
        cls = self.entity_type
        if isinstance(error, json.JSONDecodeError):
            problem = f"it is not JSON ({error})"
        elif error is not None:
            problem = (
                f"it does not fit the class {cls.__module__}.{cls.__qualname__} ({why_not(error)})"
            )
        elif not isinstance(payload, dict):
            problem = f"it is {json_kind(payload)}, not an object"
        elif "id" in payload and entity_id is not None and payload["id"] != entity_id:
            problem = (
                f"it holds the id {payload['id']!r}, so it belongs to another entity than the "
                "one stored under its id"
            )
        else:
            missing = [name for name in _STORED_FIELDS if name not in payload]
            problem = f"it has no {', '.join(missing)}"
        required = [name for name in required_field_names(cls) if name not in _STORED_FIELDS]
        expected = "the fields id (the id it is stored under), created_at and updated_at"
        if required:
            expected += (
                f", and {cls.__qualname__}'s fields without a default: {', '.join(required)}"
            )
        return CorruptEntity(
            entity_type=cls.__qualname__, entity_id=entity_id, problem=problem, expected=expected
        )


#: The fields every stored document holds, whatever the entity's class (see encode).
_STORED_FIELDS = ("id", "created_at", "updated_at")
