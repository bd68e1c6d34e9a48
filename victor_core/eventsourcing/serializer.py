"""Turning events into stored records and back, the same way for every backend."""

from __future__ import annotations

import json
import json.scanner
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cattrs import transform_error
from cattrs.errors import BaseValidationError
from cattrs.preconf.json import JsonConverter

from victor_core._records import required_field_names
from victor_core.errors import CorruptEvent, SerializationError
from victor_core.eventsourcing.event_types import EventTypeRegistry, event_types
from victor_core.eventsourcing.events import Event
from victor_core.eventsourcing.records import NewEventRecord, StoredEventRecord
from victor_core.eventsourcing.upcasting import UpcasterRegistry, schema_version_of
from victor_core.eventsourcing.upcasting import upcasters as _default_upcasters
from victor_core.serialization import converter as default_converter
from victor_core.serialization import is_unicode
from victor_core.serialization.converter import AS_IS, CALLED, ISOFORMAT, generated_fields

try:
    from _json import encode_basestring as _c_encode_basestring
    from _json import make_encoder as _c_make_encoder
except ImportError:  # pragma: no cover - interpreters without json's C accelerator
    _c_make_encoder = None  # type: ignore[assignment, misc]


def as_utc(moment: datetime) -> datetime:
    """*moment* in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


#: Builds a named tuple (a NewEventRecord) from a tuple of its fields, without the frame
#: that calling the class costs: every append builds one for each event.
_new_tuple = tuple.__new__

# One encoder for every call: json.dumps builds a new one whenever options are given.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


#: Why a value nested deeper than Python can walk is refused, for the person who made it.
TOO_DEEP = (
    "a value is nested deeper than Python can convert (lists or dicts inside each other "
    "hundreds of levels deep, or a value that contains itself); store such data flattened, "
    "or as JSON text in a str field"
)


class NotUnicodeText(ValueError):
    """A value holds a ``str`` with a lone surrogate, which is not text any database stores.

    Python lets a ``str`` hold one (``"\\ud800"``, or what ``errors="surrogateescape"``
    leaves of bytes that are not UTF-8); drivers then fail with their own
    ``UnicodeEncodeError`` in the middle of a write, and the memory backend would keep it.
    The message names where in the value the text is.
    """


def _c_encoder() -> Callable[[Any, int], list[str]] | None:
    """json's C encoder with ``_ENCODER``'s options and no circular check; None without it."""
    if _c_make_encoder is None:  # pragma: no cover - interpreters without the accelerator
        return None
    encode: Callable[[Any, int], list[str]] = _c_make_encoder(
        None, _ENCODER.default, _c_encode_basestring, None, ":", ",", False, False, False
    )
    return encode


def _make_dumps() -> Callable[[Any], str]:
    """``_ENCODER.encode``, minus the Python that runs around its C core on every call.

    ``JSONEncoder.encode`` builds a fresh C encoder for each payload, which costs as much as
    encoding a small event does. This one is built once, with the same options, and without
    the check for circular references: payloads come fresh from the converter, and the rare
    one that recurses too deep is encoded again by ``_ENCODER``, which reports it the same way
    as before.

    Every value victor stores passes through here as JSON text, so this is where text that
    is not Unicode is refused, for every backend. The check costs nothing for ASCII text
    (CPython knows whether a ``str`` is ASCII without reading it) and one UTF-8 encoding in
    C otherwise, against the Python walk over the value that a separate check would take.
    """
    encode = _c_encoder()

    def dumps(payload: Any) -> str:
        if encode is None:  # pragma: no cover - interpreters without the accelerator
            text = _ENCODER.encode(payload)
        else:
            try:
                text = "".join(encode(payload, 0))
            except RecursionError:
                text = _ENCODER.encode(payload)
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise NotUnicodeText(_not_unicode(payload)) from None
        return text

    return dumps


def _make_loads() -> Callable[[str], Any]:
    """``json.loads``, minus the Python around its C scanner for text without padding.

    ``json.loads`` matches a regular expression at each end of the text to skip whitespace,
    which victor never writes; those two matches cost about as much as decoding a small
    event. Text the scanner does not consume whole (padding, trailing data, invalid JSON,
    bytes) goes to ``json.loads``, which decides it, and words its error, as ever.
    """
    # None on interpreters without json's C accelerator.
    make_scanner: Callable[[json.JSONDecoder], Any] | None = getattr(
        json.scanner, "c_make_scanner", None
    )
    scan = make_scanner(json.JSONDecoder()) if make_scanner is not None else None

    def loads(text: str) -> Any:
        if scan is not None:
            try:
                value, end = scan(text, 0)
            except Exception:  # json.loads below raises the proper error
                pass
            else:
                if end == len(text):
                    return value
        return json.loads(text)

    return loads


#: JSON text to values, as ``json.loads`` does it.
loads = _make_loads()


#: Compact JSON; NaN and infinities are refused because databases disagree about them, and
#: so is text that is not Unicode (:class:`NotUnicodeText`).
dumps = _make_dumps()


#: An event and its stream id to the JSON text of its payload (see :func:`_json_writer`).
_Writer = Callable[[Any, str], str]


def _json_writer(unstructure: Callable[[Any], Any]) -> _Writer | None:
    """A function that writes an event's payload as JSON text in one go, or None.

    Serializing an event was two steps: the converter's function for its class makes a dict
    of its fields, and :data:`dumps` encodes the dict. For a class whose function victor
    generated (``converter._unstructurer``), this reads each field once, exactly as that
    function does (in order, through the same hooks), and writes the text directly: each
    key is known in advance, ``str`` and ``int`` values are encoded by the C functions
    ``json`` itself calls for them, and any other value by ``json``'s encoder, as it would
    be inside the dict. When that fails, or gives text that is not Unicode, the values it
    read are put in a dict and given to :data:`dumps`, which writes or refuses them as the
    two steps did: the text is the same, byte for byte, and so is every error (the tests
    hold them to it), and no field is read twice.

    Generated once per unstructure function: cattrs makes a new one when a hook changes,
    so a writer never outlives the hooks it was made from. None for a function of someone
    else's (a wrapper of victor's included), or one without an ``aggregate_id`` read as it
    is.
    """
    try:
        cached = _WRITERS.get(unstructure)
    except TypeError:  # not weakly referenceable: not one of victor's
        return None
    if cached is not None:
        return cached
    fields = generated_fields(unstructure)
    if fields is None or not any(f.name == "aggregate_id" and f.how == AS_IS for f in fields):
        return None
    encode = _c_encoder()
    if encode is None:  # pragma: no cover - interpreters without json's C accelerator
        return None
    names: dict[str, Any] = {
        "_str": _c_encode_basestring,
        "_int": int.__repr__,
        # One value's JSON text, as dumps writes it inside a payload, unchecked.
        "_raw": lambda value: "".join(encode(value, 0)),
        "_dumps": dumps,
        "_is_unicode": is_unicode,
    }
    lines = ["def write(value, stream_id):"]
    pieces, items = [], []
    for n, field in enumerate(fields):
        read = f"value.{field.name}"
        if field.how == CALLED:
            names[f"_h{n}"] = field.hook
            read = f"_h{n}({read})"
        elif field.how == ISOFORMAT:
            read += ".isoformat()"
        lines.append(f"    v{n} = {read}")
        if field.name == "aggregate_id":
            lines += [f"    if not v{n}:", f"        v{n} = stream_id"]
        # Keys are field names: their JSON text, braces doubled for the f-string below.
        key = ("{" if n == 0 else ",") + _c_encode_basestring(field.name) + ":"
        value = (
            f"_str(v{n}) if type(v{n}) is str else _int(v{n}) if type(v{n}) is int else _raw(v{n})"
        )
        pieces.append(key.replace("{", "{{").replace("}", "}}") + "{" + value + "}")
        items.append(f"{field.name!r}: v{n}")
    text = "".join(pieces) + "}}"
    lines += [
        "    try:",
        f"        text = f{text!r}",
        "    except Exception:",  # NaN, a value json refuses, nesting too deep: _dumps says
        "        text = None",
        "    if text is None or not (text.isascii() or _is_unicode(text)):",
        f"        return _dumps({{{', '.join(items)}}})",
        "    return text",
    ]
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<victor event JSON writer>", "exec"), names)
    writer: _Writer = names["write"]
    _WRITERS[unstructure] = writer
    return writer


#: The writer made for each unstructure function (see :func:`_json_writer`).
_WRITERS: weakref.WeakKeyDictionary[Callable[..., Any], _Writer] = weakref.WeakKeyDictionary()


def _not_unicode(payload: Any) -> str:
    """Where in *payload* the text that is not Unicode is, said for the person who passed it."""
    found = _find_not_unicode(payload, "")
    where, text = found if found is not None else ("a value", "")
    return (
        f"{where} holds text with a lone surrogate ({glimpse(text)}), which is not valid "
        "Unicode and which no database stores; remove it, or decode the bytes it came from as "
        "what they are "
        "(bytes.decode(..., errors='replace') puts U+FFFD where they cannot be decoded)"
    )


def _find_not_unicode(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        return (f"field {path!r}", value) if not is_unicode(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not is_unicode(key):
                return (f"a key of {path!r}" if path else "a field name", key)
            found = _find_not_unicode(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_not_unicode(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class EventSerializer:
    """Serializes events through one cattrs converter and one type-name registry.

    Each record keeps the schema version of its class (``__schema_version__``); reading a
    record of an older version runs the upcasters registered for the class first.
    """

    def __init__(
        self,
        registry: EventTypeRegistry | None = None,
        converter: JsonConverter | None = None,
        upcasters: UpcasterRegistry | None = None,
    ) -> None:
        self.registry = registry if registry is not None else event_types
        self.converter = converter if converter is not None else default_converter
        self.upcasters = upcasters if upcasters is not None else _default_upcasters

    def serialize(self, event: Event, stream_id: str) -> NewEventRecord:
        """The record to store for *event* appended to *stream_id*."""
        return self._encoder()(event, stream_id)

    def _batch_encoder(self) -> Callable[[Event, str], NewEventRecord]:
        """:meth:`serialize`, for the events of one append: each class looked up once.

        Use a fresh one for each append, so that classes registered, and hooks changed, in
        between are seen. A subclass that overrides :meth:`serialize` gets its own method.
        """
        if type(self).serialize is not EventSerializer.serialize:
            return self.serialize
        return self._encoder()

    def _encoder(self) -> Callable[[Event, str], NewEventRecord]:
        get_hook = self.converter.get_unstructure_hook
        name_of = self.registry.name_of
        #: class -> (its unstructure hook, its stored name, its schema version, its writer)
        known: dict[type[Event], tuple[Callable[[Any], Any], str, int, _Writer | None]] = {}

        def serialize(event: Event, stream_id: str) -> NewEventRecord:
            if not isinstance(event, Event):
                raise SerializationError(
                    f"cannot append {type(event).__qualname__} {glimpse(event)}: events must "
                    "derive from victor_core.Event (use @dataclass or @attrs.define on the "
                    "subclass)"
                )
            cls = type(event)
            event_id = event.id
            if type(event_id) is not str or not event_id:
                raise SerializationError(
                    f"cannot append {cls.__qualname__}: its id is {event_id!r}; an event id is a "
                    "non-empty str (leave it to Event, which makes one, or give each event "
                    "a str id of its own)"
                )
            entry = known.get(cls)
            try:
                if entry is None:
                    hook = get_hook(cls)
                    writer = _json_writer(hook)
                else:
                    hook, writer = entry[0], entry[3]
                if writer is not None:
                    data = writer(event, stream_id)
                else:
                    payload = hook(event)
                    if not payload.get("aggregate_id"):
                        payload["aggregate_id"] = stream_id
                    data = dumps(payload)
            except NotUnicodeText as exc:
                raise SerializationError(f"cannot serialize {cls.__qualname__}: {exc}") from None
            except RecursionError:
                raise SerializationError(
                    f"cannot serialize {cls.__qualname__}: {TOO_DEEP}"
                ) from None
            except (TypeError, ValueError) as exc:
                raise SerializationError(
                    f"cannot serialize {cls.__qualname__}: {exc}. Fields must be JSON-friendly "
                    "values (str, numbers, bool, None, datetime, date, UUID, Decimal, enums, "
                    "lists, dicts, tuples, sets, nested dataclasses or attrs classes) or have a "
                    "hook registered on victor_core.serialization.converter"
                ) from exc
            if entry is None:
                entry = known[cls] = (hook, name_of(cls), schema_version_of(cls), writer)
            timestamp = event.timestamp
            # A named tuple, built as a tuple of its fields in order: calling the class
            # costs a frame more per event.
            return _new_tuple(
                NewEventRecord,
                (
                    event_id,
                    entry[1],
                    entry[2],
                    data,
                    timestamp if timestamp.tzinfo is UTC else as_utc(timestamp),
                ),
            )

        return serialize

    def deserialize(self, record: StoredEventRecord) -> Event:
        """The event a stored record holds, as an instance of its registered class."""
        return self._decoder()(record)

    def _page_decoder(self) -> Callable[[StoredEventRecord], Event]:
        """:meth:`deserialize`, for reading many records in a row (a page, a stream).

        It looks each type name up once, with its class's schema version and structure
        hook, so use a fresh one for each read: classes registered, and hooks changed, in
        between are seen by the next read. A subclass that overrides :meth:`deserialize`
        gets its own method back.
        """
        if type(self).deserialize is not EventSerializer.deserialize:
            return self.deserialize
        return self._decoder()

    def _decoder(self) -> Callable[[StoredEventRecord], Event]:
        resolve = self.registry.resolve
        get_hook = self.converter.get_structure_hook
        upcast = self.upcasters.upcast
        #: type name -> (class, its schema version, its structure hook)
        known: dict[str, tuple[type[Event], int, Callable[[Any, Any], Any]]] = {}

        def deserialize(record: StoredEventRecord) -> Event:
            type_name = record.type_name
            entry = known.get(type_name)
            cls = resolve(type_name) if entry is None else entry[0]
            try:
                if entry is None:
                    entry = known[type_name] = (cls, schema_version_of(cls), get_hook(cls))
                _, version, hook = entry
                payload = loads(record.data)
                # What serialize() writes, always: without it the event would be made up of
                # defaults, with a new id and the current time (a damaged row, not an event).
                if (
                    type(payload) is not dict
                    or payload.get("id") != record.event_id
                    or "timestamp" not in payload
                    or "aggregate_id" not in payload
                ):
                    raise corrupt_event(record, cls, payload)
                if record.schema_version != version:
                    payload = upcast(cls, payload, record.schema_version)
                event = hook(payload, cls)
            except CorruptEvent:
                raise
            except SerializationError as exc:
                raise SerializationError(f"cannot read {_describe(record)}: {exc}") from exc
            except (BaseValidationError, TypeError, ValueError, KeyError) as exc:
                raise corrupt_event(record, cls, None, exc) from exc
            if not isinstance(event, Event):  # pragma: no cover - structure() returns cls
                raise SerializationError(f"{cls.__qualname__} is not an Event subclass")
            return event

        return deserialize


def glimpse(value: object) -> str:
    """A short, printable glimpse of a value passed where an event belongs, for messages."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _describe(record: StoredEventRecord) -> str:
    return (
        f"stored event {record.event_id} (type {record.type_name!r} schema version "
        f"{record.schema_version}, stream {record.stream_id!r} version {record.version})"
    )


#: The fields every payload holds, whatever the event's class (see EventSerializer.serialize).
_STORED_FIELDS = ("id", "timestamp", "aggregate_id")


def corrupt_event(
    record: StoredEventRecord,
    cls: type,
    payload: Any,
    error: Exception | None = None,
) -> CorruptEvent:
    """The error for *record*, whose payload (or, with *error*, its structuring) is damaged.

    Only ever called once something is wrong, so it may take its time to say what.
    """
    if isinstance(error, json.JSONDecodeError):
        problem = f"its payload is not JSON ({error})"
    elif error is not None:
        problem = (
            f"its payload does not fit {cls.__module__}.{cls.__qualname__} ({why_not(error)}); "
            "if the class changed incompatibly, raise its __schema_version__ and register an "
            "upcaster from the stored version"
        )
    elif not isinstance(payload, dict):
        problem = f"its payload is {json_kind(payload)}, not an object"
    elif "id" in payload and payload["id"] != record.event_id:
        problem = (
            f"its payload holds the event id {payload['id']!r}, not the row's "
            f"{record.event_id!r}, so it belongs to another event"
        )
    else:
        missing = ", ".join(name for name in _STORED_FIELDS if name not in payload)
        problem = f"its payload has no {missing}"
    required = [name for name in required_field_names(cls) if name not in _STORED_FIELDS]
    expected = "the fields id (the row's event id), timestamp and aggregate_id"
    if required:
        expected += f", and {cls.__qualname__}'s fields without a default: {', '.join(required)}"
    return CorruptEvent(
        stream_id=record.stream_id,
        version=record.version,
        position=record.position,
        type_name=record.type_name,
        event_id=record.event_id,
        problem=problem,
        expected=expected,
    )


def json_kind(value: Any) -> str:
    """What JSON *value* is, for messages: ``"a JSON array"``, ``"JSON null"``..."""
    if value is None:
        return "JSON null"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, str):
        return f"a JSON string ({glimpse(value)})"
    if isinstance(value, list):
        return "a JSON array"
    return "a JSON object"


def why_not(error: Exception) -> str:
    """The reasons cattrs gives for *error*, one per field, rather than its summary line."""
    if isinstance(error, BaseValidationError):
        return "; ".join(transform_error(error)) or str(error)
    return f"{type(error).__name__}: {error}"
