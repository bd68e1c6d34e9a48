"""The cattrs converter every backend stores values through.

Everything victor persists (event payloads, entities, snapshots) goes through one converter
that produces JSON-compatible data. The in-memory backend uses it too, so a value that would
not survive a database does not survive memory either: tests on ``memory://`` catch it.
"""

from __future__ import annotations

import dataclasses
import decimal
import uuid
from collections.abc import Callable
from typing import Any

import attrs
from cattrs.preconf.json import JsonConverter
from cattrs.preconf.json import make_converter as make_json_converter

from victor_core._records import init_name, record_fields


def make_converter() -> JsonConverter:
    """A fresh converter with victor's hooks, for users who need to register their own."""
    conv = make_json_converter()
    conv.register_unstructure_hook(uuid.UUID, str)
    conv.register_structure_hook(uuid.UUID, lambda value, _: uuid.UUID(str(value)))
    # A Decimal goes out as a string: a float would lose exactly what Decimal is for.
    conv.register_unstructure_hook(decimal.Decimal, str)
    conv.register_structure_hook(decimal.Decimal, _structure_decimal)
    conv.register_unstructure_hook_factory(_is_dual_record, lambda cls: _unstructurer(conv, cls))
    conv.register_structure_hook_factory(_is_dual_record, lambda cls: _structurer(conv, cls))
    return conv


def _structure_decimal(value: Any, _: type) -> decimal.Decimal:
    if isinstance(value, float):
        # JSON numbers that were written as text by another tool: keep their shortest form.
        return decimal.Decimal(repr(value))
    return decimal.Decimal(value)


def _is_dual_record(cls: Any) -> bool:
    """Subclasses of victor's bases answer to both attrs and dataclasses.

    cattrs would pick the dataclass fields for them and silently drop the fields of an
    attrs subclass, so these classes get hooks built from the fields that really exist.
    """
    return (
        isinstance(cls, type)
        and hasattr(cls, "__attrs_attrs__")
        and hasattr(cls, "__dataclass_fields__")
    )


def _unstructurer(conv: JsonConverter, cls: type) -> Callable[[Any], dict[str, Any]]:
    fields = [(f.name, conv.get_unstructure_hook(f.type)) for f in record_fields(cls)]

    def unstructure(value: Any) -> dict[str, Any]:
        return {name: hook(getattr(value, name)) for name, hook in fields}

    return unstructure


def _structurer(conv: JsonConverter, cls: type) -> Callable[[Any, type], Any]:
    fields = [
        (f.name, init_name(f, cls), f.init, f.type, conv.get_structure_hook(f.type))
        for f in record_fields(cls)
    ]

    def structure(data: Any, _: type) -> Any:
        kwargs: dict[str, Any] = {}
        late: dict[str, Any] = {}
        for name, keyword, in_init, field_type, hook in fields:
            if name not in data:
                continue  # written before the field existed: the class default applies
            value = hook(data[name], field_type)
            if in_init:
                kwargs[keyword] = value
            else:
                late[name] = value
        instance = cls(**kwargs)
        for name, value in late.items():
            object.__setattr__(instance, name, value)
        return instance

    return structure


def is_record_instance(value: object) -> bool:
    """True for instances of dataclasses and attrs classes."""
    return dataclasses.is_dataclass(value) or attrs.has(type(value))


#: The converter victor uses unless told otherwise.
converter: JsonConverter = make_converter()
