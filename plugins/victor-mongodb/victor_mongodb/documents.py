"""Entities as MongoDB documents: the converter's JSON, stored as BSON fields that queries see.

The entity's ``id`` becomes the document's ``_id`` and the other fields stay as the shared
converter wrote them, so ``{"name": "Alice", "address": {"city": "Paris"}, ...}`` is what
MongoDB holds and what specifications are compiled against. One field is added:
``_victor_position``, the entity's place in the order of adding.

JSON can say things BSON cannot, and a document must come back exactly as it went in, so:

- a mapping key containing ``$``, ``.``, ``%`` or NUL (possible in ``dict`` fields, never in
  attribute names, which are identifiers) is stored percent-escaped, and unescaped on
  reading; a query never names such a key, so escaping changes no result;
- an integer outside MongoDB's 64 bits, or a string that is not valid Unicode, is refused
  with a :class:`~victor_core.SerializationError` before anything is written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from victor_core.backend import ConfigurationError, SerializationError, dumps

#: The field holding an entity's place in the order of adding.
POSITION = "_victor_position"
#: Fields of the stored document that are not the entity's own.
RESERVED = frozenset({"_id", POSITION})

_INT64 = (-(2**63), 2**63 - 1)
_NEEDS_ESCAPE = re.compile(r"[$.%\x00]")
_ESCAPED = re.compile(r"%(25|24|2E|00)")
_ESCAPES = {"%": "%25", "$": "%24", ".": "%2E", "\x00": "%00"}
_UNESCAPES = {"25": "%", "24": "$", "2E": ".", "00": "\x00"}


def check_field_names(entity_name: str, names: set[str]) -> None:
    """Refuse an entity class with a field the stored document uses for itself."""
    clash = sorted(names & RESERVED)
    if clash:
        raise ConfigurationError(
            f"{entity_name} declares {', '.join(clash)}, which MongoDB repositories use for "
            "the id and the order of adding; rename the field"
        )


def fields_of(text: str, what: str) -> dict[str, Any]:
    """The entity's fields, id aside, as BSON-safe values (*what* names it in errors)."""
    payload = json.loads(text)
    if "id" in payload:
        _stored(payload.pop("id"), what, "id")
    return {name: _stored(value, what, name) for name, value in payload.items()}


def from_document(document: dict[str, Any]) -> tuple[str, str, int]:
    """``(entity id, entity JSON text, position)`` for a stored *document*."""
    fields = {"id": document["_id"]}
    for name, value in document.items():
        if name not in RESERVED:
            fields[name] = _restored(value)
    return str(document["_id"]), dumps(fields), int(document.get(POSITION, 0))


def _stored(value: Any, what: str, where: str) -> Any:
    if isinstance(value, dict):
        return {
            _escape(valid_text(key, what, f"a key in {where}")): _stored(
                item, what, f"{where}.{key}"
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_stored(item, what, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise SerializationError(
                f"cannot store {what}: {where} is {value}, outside the 64-bit integers MongoDB "
                "stores; keep such numbers in a Decimal or str field"
            )
        return value
    if isinstance(value, str):
        return valid_text(value, what, where)
    raise SerializationError(  # pragma: no cover - json.loads makes nothing else
        f"cannot store {what}: {where} holds a {type(value).__qualname__}"
    )


def valid_text(value: str, what: str, where: str) -> str:
    """*value* if BSON can hold it: valid Unicode, without lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SerializationError(
            f"cannot store {what}: {where} holds text that is not valid Unicode ({exc}); "
            "MongoDB stores UTF-8, so remove the lone surrogate (decode bytes with "
            "errors='replace', or keep such data as base64 text)"
        ) from exc
    return value


def _restored(value: Any) -> Any:
    if isinstance(value, dict):
        return {_unescape(key): _restored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restored(item) for item in value]
    return value


def _escape(key: str) -> str:
    if not _NEEDS_ESCAPE.search(key):
        return key
    return _NEEDS_ESCAPE.sub(lambda match: _ESCAPES[match.group()], key)


def _unescape(key: str) -> str:
    if "%" not in key:
        return key
    return _ESCAPED.sub(lambda match: _UNESCAPES[match.group(1)], key)
