"""The cattrs converter every backend stores values through.

Everything victor persists (event payloads, entities, snapshots) goes through one converter
that produces JSON-compatible data. The in-memory backend uses it too, so a value that would
not survive a database does not survive memory either: tests on ``memory://`` catch it.
"""

from __future__ import annotations

import dataclasses
import decimal
import inspect
import uuid
import weakref
from collections.abc import Callable
from datetime import datetime
from keyword import iskeyword
from typing import Any, cast

import attrs
from cattrs.fns import identity
from cattrs.preconf.json import JsonConverter
from cattrs.preconf.json import make_converter as make_json_converter

from victor_core._records import RecordField, init_name, is_pydantic_model, record_fields


def make_converter() -> JsonConverter:
    """A fresh converter with victor's hooks, for users who need to register their own."""
    conv = make_json_converter()
    conv.register_unstructure_hook(uuid.UUID, str)
    conv.register_structure_hook(uuid.UUID, lambda value, _: uuid.UUID(str(value)))
    # A Decimal goes out as a string: a float would lose exactly what Decimal is for.
    conv.register_unstructure_hook(decimal.Decimal, str)
    conv.register_structure_hook(decimal.Decimal, _structure_decimal)
    # The same as the JSON converter's own hooks, under names the generated functions
    # recognise, so that they call isoformat and fromisoformat directly.
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_unstructure_hook_factory(_is_dual_record, lambda cls: _unstructurer(conv, cls))
    conv.register_structure_hook_factory(_is_dual_record, lambda cls: _structurer(conv, cls))
    # Pydantic models go through the same field hooks, so a Decimal or a nested attrs class
    # is stored exactly as in a dataclass; building the model validates what was read.
    conv.register_unstructure_hook_factory(is_pydantic_model, lambda cls: _unstructurer(conv, cls))
    conv.register_structure_hook_factory(is_pydantic_model, lambda cls: _structurer(conv, cls))
    return conv


def _structure_decimal(value: Any, _: type) -> decimal.Decimal:
    if isinstance(value, float):
        # JSON numbers that were written as text by another tool: keep their shortest form.
        return decimal.Decimal(repr(value))
    return decimal.Decimal(value)


def _unstructure_datetime(value: datetime) -> str:
    return value.isoformat()


def _structure_datetime(value: Any, _: type) -> datetime:
    return datetime.fromisoformat(value)


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
    """One function for *cls*: a dict display of its fields, each through its field's hook.

    Generated once per class (cattrs caches hook factories, and drops them when a hook is
    registered), so that serializing an event costs one call and one dict, not a loop over
    fields; a field whose hook returns its value unchanged is read without calling it.
    """
    names: dict[str, Any] = {}
    items = []
    plan: list[UnstructuredField] = []
    for n, field in enumerate(record_fields(cls)):
        hook = conv.get_unstructure_hook(field.type)
        read = f"value.{field.name}"
        if hook is _unstructure_datetime:
            read = f"{read}.isoformat()"
            plan.append(UnstructuredField(field.name, ISOFORMAT, None))
        elif hook is not identity:
            names[f"_h{n}"] = hook
            read = f"_h{n}({read})"
            plan.append(UnstructuredField(field.name, CALLED, hook))
        else:
            plan.append(UnstructuredField(field.name, AS_IS, None))
        items.append(f"{field.name!r}: {read}")
    source = f"def unstructure(value):\n    return {{{', '.join(items)}}}\n"
    exec(compile(source, f"<victor unstructure {cls.__qualname__}>", "exec"), names)
    unstructure = cast(Callable[[Any], dict[str, Any]], names["unstructure"])
    # How each field is read, for the serializer's JSON writer (EventSerializer). Kept
    # apart from the function, so that a wrapper of it (functools.wraps copies attributes)
    # is not taken for it.
    _GENERATED[unstructure] = tuple(plan)
    return unstructure


#: How the generated unstructure function reads a field: the value as it is, its
#: ``isoformat()`` (a datetime), or the value passed through the field type's hook.
AS_IS, ISOFORMAT, CALLED = "as is", "isoformat", "called"


@attrs.frozen
class UnstructuredField:
    """One field as :func:`_unstructurer` reads it: its name, how, and the hook it calls."""

    name: str
    how: str
    hook: Callable[[Any], Any] | None


#: The unstructure functions :func:`_unstructurer` made, with how each reads its fields.
_GENERATED: weakref.WeakKeyDictionary[Callable[..., Any], tuple[UnstructuredField, ...]] = (
    weakref.WeakKeyDictionary()
)


def generated_fields(hook: Callable[..., Any]) -> tuple[UnstructuredField, ...] | None:
    """How *hook* reads each field, if it is a function victor generated; else None."""
    try:
        return _GENERATED.get(hook)
    except TypeError:  # not weakly referenceable: not one of ours
        return None


#: Types whose cattrs structure hook is a call of the type itself, done inline.
_CALLED = (str, int, float, bool)


def _structurer(conv: JsonConverter, cls: type) -> Callable[[Any, type], Any]:
    """One function for *cls* that builds an instance from its stored fields.

    A field missing from *data* was written before the field existed: the class default
    applies. Generated once per class, like :func:`_unstructurer`. Reading events is what
    replays, projections and catch-up subscriptions spend their time on, so the common case,
    a payload holding every field, is one call of the class with every value read straight
    from *data*; anything else (a missing field, a payload that is not a mapping) takes the
    field-by-field path, which decides it exactly as before.
    """
    careful = _careful_structurer(conv, cls)
    fields = record_fields(cls)
    if not any(field.init for field in fields):
        return careful
    if _builds_plainly(cls, fields):
        return _plain_structurer(conv, cls, fields, careful)
    names: dict[str, Any] = {
        "_cls": cls,
        "_setattr": object.__setattr__,
        "_careful": careful,
        "_fromisoformat": datetime.fromisoformat,
    }
    arguments, late = [], []
    for n, field in enumerate(fields):
        value = _field_value(conv, field, n, names)
        if field.init:
            keyword = init_name(field, cls)
            if not keyword.isidentifier() or iskeyword(keyword):
                return careful  # an alias that cannot be written as a keyword argument
            arguments.append(f"{keyword}={value}")
        else:
            late.append((field.name, value))
    lines = [
        "def structure(data, _):",
        "    try:",
        f"        instance = _cls({', '.join(arguments)})",
        "    except (KeyError, TypeError):",
        "        return _careful(data, _)",
    ]
    for name, value in late:
        lines.append(f"    if {name!r} in data:")
        lines.append(f"        _setattr(instance, {name!r}, {value})")
    lines.append("    return instance")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<victor structure {cls.__qualname__}>", "exec"), names)
    return cast(Callable[[Any, type], Any], names["structure"])


def _builds_plainly(cls: type, fields: tuple[RecordField, ...]) -> bool:
    """True when an instance of *cls* with every field given is just those attributes set.

    That holds for a dataclass whose ``__init__`` is the one ``@dataclass`` wrote (its
    parameters are exactly the fields, none ``InitVar``), with no ``__post_init__``, no
    ``__new__`` or ``__setattr__`` of its own, no metaclass that changes what calling the
    class does, and not frozen: calling it would assign each field and do nothing else.
    Anything that might do more (validation in a pydantic dataclass, a frozen class's
    guard, a hand-written ``__init__``) is called as usual. Where this cannot tell, it says
    no: such a class is only read a little slower.
    """
    if not dataclasses.is_dataclass(cls) or "__dataclass_fields__" not in cls.__dict__:
        return False
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if (
        init is None
        or code is None
        or code.co_filename != "<string>"  # where @dataclass compiles the __init__ it writes
        or hasattr(cls, "__post_init__")
        or hasattr(cls, "__pydantic_fields__")
        or hasattr(cls, "__pydantic_validator__")
        or cls.__new__ is not object.__new__
        or type(cls).__call__ is not type.__call__
        or cls.__setattr__ is not object.__setattr__
        or cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    ):
        return False
    # Keyword-only fields come last among the parameters, so compare them as sets.
    parameters = list(inspect.signature(init).parameters)[1:]
    names = {field.name for field in fields}
    return (
        len(parameters) == len(names) == len(fields)
        and set(parameters) == names
        and all(field.init for field in fields)
    )


def _plain_structurer(
    conv: JsonConverter,
    cls: type,
    fields: tuple[RecordField, ...],
    careful: Callable[[Any, type], Any],
) -> Callable[[Any, type], Any]:
    """:func:`_structurer` for a class that :func:`_builds_plainly`: no ``__init__`` call.

    Setting the attributes on a bare instance is what the dataclass's ``__init__`` does,
    without the cost of a call with a keyword per field, which is most of what building an
    event from its payload costs.
    """
    names: dict[str, Any] = {
        "_cls": cls,
        "_new": object.__new__,
        "_careful": careful,
        "_fromisoformat": datetime.fromisoformat,
    }
    # Every value is read before the instance exists, so that a payload without a field
    # (written before it was added) leaves no half-made instance behind.
    lines = ["def structure(data, _):", "    try:"]
    for n, field in enumerate(fields):
        lines.append(f"        v{n} = {_field_value(conv, field, n, names)}")
    lines += ["    except (KeyError, TypeError):", "        return _careful(data, _)"]
    lines.append("    instance = _new(_cls)")
    for n, field in enumerate(fields):
        lines.append(f"    instance.{field.name} = v{n}")
    lines.append("    return instance")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<victor structure {cls.__qualname__}>", "exec"), names)
    return cast(Callable[[Any, type], Any], names["structure"])


def _field_value(conv: JsonConverter, field: RecordField, n: int, names: dict[str, Any]) -> str:
    """The expression that reads *field* from ``data`` through its hook, for generated code."""
    hook = conv.get_structure_hook(field.type)
    names[f"_t{n}"] = field.type
    if field.type in _CALLED and hook == conv._structure_call:
        return f"_t{n}(data[{field.name!r}])"
    if hook is _structure_datetime:
        return f"_fromisoformat(data[{field.name!r}])"
    names[f"_h{n}"] = hook
    return f"_h{n}(data[{field.name!r}], _t{n})"


def _careful_structurer(conv: JsonConverter, cls: type) -> Callable[[Any, type], Any]:
    """The field-by-field structure function of *cls*: each field read only if present."""
    names: dict[str, Any] = {
        "_cls": cls,
        "_setattr": object.__setattr__,
        "_fromisoformat": datetime.fromisoformat,
    }
    lines = ["def structure(data, _):", "    kwargs = {}"]
    late = []
    for n, field in enumerate(record_fields(cls)):
        value = _field_value(conv, field, n, names)
        lines.append(f"    if {field.name!r} in data:")
        if field.init:
            lines.append(f"        kwargs[{init_name(field, cls)!r}] = {value}")
        else:
            lines.append(f"        _late{n} = {value}")
            late.append((n, field.name))
    lines.append("    instance = _cls(**kwargs)")
    for n, name in late:
        lines.append(f"    if {name!r} in data:")
        lines.append(f"        _setattr(instance, {name!r}, _late{n})")
    lines.append("    return instance")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<victor structure {cls.__qualname__}>", "exec"), names)
    return cast(Callable[[Any, type], Any], names["structure"])


def is_record_instance(value: object) -> bool:
    """True for instances of dataclasses, attrs classes and pydantic models."""
    return (
        dataclasses.is_dataclass(value) or attrs.has(type(value)) or is_pydantic_model(type(value))
    )


#: The converter victor uses unless told otherwise.
converter: JsonConverter = make_converter()
