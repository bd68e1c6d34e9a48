"""The field values of a message, read the same way for dataclasses and attrs classes."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from victor_core._records import record_fields

_Reader = Callable[[object], tuple[tuple[str, Any], ...]]
_readers: dict[type, _Reader | None] = {}


def _reader(cls: type) -> _Reader | None:
    # Only a class decorated itself lists all of its fields; an undecorated subclass may
    # keep more state in its instance dict.
    if not any(
        marker in cls.__dict__
        for marker in ("__dataclass_fields__", "__attrs_attrs__", "__pydantic_fields__")
    ):
        return None
    names = tuple(field.name for field in record_fields(cls))
    if not names:
        return lambda message: ()
    if len(names) == 1:
        (name,) = names
        return lambda message: ((name, getattr(message, name)),)
    get = operator.attrgetter(*names)
    return lambda message: tuple(zip(names, get(message), strict=True))


def message_values(message: object) -> tuple[tuple[str, Any], ...] | None:
    """``(name, value)`` for each field of *message*, or None when they cannot be known."""
    cls = type(message)
    try:
        read = _readers[cls]
    except KeyError:
        read = _readers[cls] = _reader(cls)
    if read is not None:
        return read(message)
    state = getattr(message, "__dict__", None)
    if state is None:
        return None
    return tuple(sorted(state.items()))
