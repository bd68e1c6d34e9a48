"""Whether a converter stores values of a type in the form query compilers rely on.

Backends compile a comparison only when the engine's answer is certain to be Python's, and
that rests on knowing what the converter wrote: a ``str`` as itself, an enum member as its
``value``, a UUID as its canonical text, a UTC datetime as ISO 8601 text. A converter with
hooks of its own (an enum stored by name, say) breaks that knowledge, so for such a type the
comparison is left to Python, which decodes the entity and cannot be misled.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cattrs.preconf.json import JsonConverter

from victor_core.eventsourcing.serializer import dumps

_SAMPLE_UUID = UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
_PLAIN_SAMPLES: dict[type, tuple[Any, ...]] = {
    str: ("", "text"),
    int: (0, -7),
    float: (0.5, -2.0),
    bool: (True, False),
}


def in_default_form(converter: JsonConverter, declared: Any) -> bool:
    """True when *converter* writes values of the scalar type *declared* in victor's form."""
    try:
        if declared in _PLAIN_SAMPLES:
            return all(_written_as(converter, v, declared, v) for v in _PLAIN_SAMPLES[declared])
        if declared is UUID:
            return _written_as(converter, _SAMPLE_UUID, UUID, str(_SAMPLE_UUID))
        if declared is datetime:
            return all(
                _written_as(converter, moment, datetime, moment.isoformat())
                for moment in (
                    datetime(2024, 2, 29, 12, 30, tzinfo=UTC),
                    datetime(2024, 2, 29, 12, 30, 1, 5, tzinfo=UTC),
                )
            )
        if isinstance(declared, type) and issubclass(declared, enum.Enum):
            return all(_written_as(converter, m, declared, m.value) for m in declared)
    except Exception:  # a hook that cannot write a sample is not the default one
        return False
    return False


def _written_as(converter: JsonConverter, value: Any, declared: Any, expected: Any) -> bool:
    # Compared as the JSON text stored, where an IntEnum member is its number.
    return dumps(converter.unstructure(value, declared)) == dumps(expected)
