"""Turning an aggregate's state into a snapshot and back, and knowing when one no longer fits.

An aggregate's state is its instance attributes (``id``, ``version`` and the pending events
aside). Attributes annotated on the class go through the converter with that type; others
must hold plain JSON values (str, int, float, bool, None, lists and str-keyed dicts of them),
because nothing else could be restored without knowing its type. A snapshot is only written
when every attribute survives the round trip, so a snapshot can never restore wrongly.

Each snapshot carries a *fingerprint* of the class's state shape: the aggregate's stored
name, its declared attributes (those a new instance has and those annotated on the class),
their declared types (nested dataclasses and attrs classes included; for an attribute
without an annotation, the kind of value a new instance starts with: list, dict, int...)
and ``__snapshot_version__``. When the class changes shape, old snapshots stop matching and the
aggregate is rebuilt from its events instead. State the class does not declare (an attribute
only an event handler sets, without an annotation) is refused, because the fingerprint could
not notice when the class starts or stops setting it. Raise ``__snapshot_version__`` when
the *meaning* of the state changes without its shape changing.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import typing
from datetime import datetime
from typing import Any, Generic, TypeVar

from cattrs.preconf.json import JsonConverter

from victor_core._records import is_record_class, record_fields
from victor_core.errors import ConfigurationError, SerializationError
from victor_core.eventsourcing.aggregate import Aggregate
from victor_core.eventsourcing.serializer import dumps, json_kind
from victor_core.eventsourcing.snapshots import SnapshotRecord
from victor_core.serialization import converter as default_converter

A = TypeVar("A", bound=Aggregate)

logger = logging.getLogger("victor_core.eventsourcing")

#: Attributes of every aggregate that the snapshot record holds in its own columns.
_BASE_ATTRIBUTES = frozenset({"id", "version", "_pending"})
_JSON_SCALARS = (str, int, float, bool, type(None))


def aggregate_type_name(aggregate_type: type[Aggregate]) -> str:
    """The name snapshots of *aggregate_type* are stored under (``__aggregate_type__``)."""
    explicit = aggregate_type.__dict__.get("__aggregate_type__")
    return explicit if isinstance(explicit, str) and explicit else aggregate_type.__name__


class SnapshotCodec(Generic[A]):
    """Captures and restores the state of one aggregate class."""

    def __init__(self, aggregate_type: type[A], converter: JsonConverter | None = None) -> None:
        self.aggregate_type = aggregate_type
        self.converter = converter if converter is not None else default_converter
        self.type_name = aggregate_type_name(aggregate_type)
        self._hints = _type_hints(aggregate_type)
        self._initial = self._initial_state()
        #: The state attributes the class declares: set by ``__init__`` or annotated.
        self.declared = frozenset(self._initial.keys() | self._hints.keys())
        self.fingerprint = self._fingerprint()

    def capture(self, aggregate: A, taken_at: datetime) -> SnapshotRecord:
        """A snapshot of *aggregate* as it is now; raises when some state would not restore."""
        cls = type(aggregate).__qualname__
        state: dict[str, Any] = {}
        for name, value in vars(aggregate).items():
            if name in _BASE_ATTRIBUTES:
                continue
            if name not in self.declared:
                raise SerializationError(
                    f"cannot snapshot {cls}: attribute {name!r} is neither set by "
                    f"{cls}.__init__ nor annotated on the class, so a snapshot could not tell "
                    f"when the class starts or stops having it; set it in __init__ (e.g. "
                    f"`self.{name} = ...`) or annotate it (`{name}: "
                    f"{type(value).__qualname__}`)"
                )
            hint = self._hints.get(name)
            if hint is None:
                if not _is_plain_json(value):
                    raise SerializationError(
                        f"cannot snapshot {cls}: attribute {name!r} holds a "
                        f"{type(value).__qualname__}, which cannot be restored without its "
                        f"type; annotate it on the class (e.g. `{name}: "
                        f"{type(value).__qualname__}`)"
                    )
                state[name] = value
            else:
                state[name] = self._round_trip(cls, name, value, hint)
        try:
            text = dumps(state)
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"cannot snapshot {cls}: {exc}") from exc
        return SnapshotRecord(
            stream_id=aggregate.id,
            version=aggregate.version,
            aggregate_type=self.type_name,
            fingerprint=self.fingerprint,
            state=text,
            taken_at=taken_at,
        )

    def restore(self, record: SnapshotRecord) -> A | None:
        """The aggregate *record* holds, or ``None`` when it does not fit the class any more."""
        if record.aggregate_type != self.type_name or record.fingerprint != self.fingerprint:
            logger.debug(
                "ignoring the snapshot of %r at version %d: it was taken from another shape "
                "of %s; replaying the events instead",
                record.stream_id,
                record.version,
                self.type_name,
            )
            return None
        try:
            state = json.loads(record.state)
            if not isinstance(state, dict):
                raise ValueError(f"its state is {json_kind(state)}, not an object")
            # Every snapshot holds what a new instance has; one without it would restore
            # the aggregate's initial state at the snapshot's version.
            absent = sorted(self._initial.keys() - state.keys())
            if absent:
                raise ValueError(f"its state lacks attributes the class sets: {absent}")
            undeclared = sorted(set(state) - self.declared)
            if undeclared:
                # Taken before such state was refused: its shape cannot be vouched for.
                raise ValueError(f"it holds attributes the class does not declare: {undeclared}")
            aggregate = self.aggregate_type()
            for name, data in state.items():
                hint = self._hints.get(name)
                value = data if hint is None else self.converter.structure(data, hint)
                setattr(aggregate, name, value)
        except Exception as exc:  # a snapshot is a cache: replaying is always correct
            logger.warning(
                "ignoring the snapshot of %r at version %d, which cannot be restored into "
                "%s (%s: %s); replaying the events instead",
                record.stream_id,
                record.version,
                self.type_name,
                type(exc).__name__,
                exc,
            )
            return None
        aggregate.id = record.stream_id
        aggregate.version = record.version
        return aggregate

    def _round_trip(self, cls: str, name: str, value: Any, hint: Any) -> Any:
        try:
            data = self.converter.unstructure(value, hint)
            restored = self.converter.structure(data, hint)
        except Exception as exc:
            raise SerializationError(
                f"cannot snapshot {cls}: attribute {name!r} does not convert as "
                f"{_shape(hint)}: {type(exc).__name__}: {exc}"
            ) from exc
        if restored != value:
            raise SerializationError(
                f"cannot snapshot {cls}: attribute {name!r} would come back as {restored!r} "
                f"instead of {value!r}; fix its annotation ({_shape(hint)})"
            )
        return data

    def _initial_state(self) -> dict[str, Any]:
        """The state attributes a new instance has, with their values."""
        try:
            fresh = self.aggregate_type()
        except TypeError as exc:
            raise ConfigurationError(
                f"{self.aggregate_type.__qualname__}() failed ({exc}); aggregates are rebuilt "
                "from their events, so they must be constructible without arguments"
            ) from exc
        return {k: v for k, v in vars(fresh).items() if k not in _BASE_ATTRIBUTES}

    def _fingerprint(self) -> str:
        shape = [
            [
                name,
                _shape(self._hints[name])
                if name in self._hints
                # Undeclared types: the kind of JSON value a new instance starts with, so
                # that, say, a list becoming a dict changes the shape.
                else f"json:{_json_kind(self._initial[name])}",
            ]
            for name in sorted(self.declared)
        ]
        version = getattr(self.aggregate_type, "__snapshot_version__", 1)
        text = json.dumps([self.type_name, version, shape], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):
        hints = dict(getattr(cls, "__annotations__", {}))
    return {
        name: hint
        for name, hint in hints.items()
        if name not in _BASE_ATTRIBUTES and typing.get_origin(hint) is not typing.ClassVar
    }


def _json_kind(value: Any) -> str:
    """``"list"``, ``"dict"``, ``"str"``...: what an undeclared attribute holds."""
    if value is None:
        return "null"
    return type(value).__qualname__


def _is_plain_json(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return value == value and value not in (float("inf"), float("-inf"))
    if kind in _JSON_SCALARS:
        return True
    if kind is list:
        return all(_is_plain_json(item) for item in value)
    if kind is dict:
        return all(type(k) is str and _is_plain_json(v) for k, v in value.items())
    return False


def _shape(hint: Any, seen: frozenset[type] = frozenset()) -> str:
    """A description of *hint* that changes whenever data stored with it stops fitting."""
    origin = typing.get_origin(hint)
    if origin is not None:
        arguments = ", ".join(_shape(argument, seen) for argument in typing.get_args(hint))
        return f"{_shape(origin, seen)}[{arguments}]"
    if not isinstance(hint, type):
        return repr(hint)
    name = f"{hint.__module__}.{hint.__qualname__}"
    if is_record_class(hint) and hint not in seen:
        inner = seen | {hint}
        fields = ", ".join(f"{f.name}: {_shape(f.type, inner)}" for f in record_fields(hint))
        return f"{name}({fields})"
    if issubclass(hint, enum.Enum):
        return f"{name}{sorted(repr(member.value) for member in hint)}"
    return name
