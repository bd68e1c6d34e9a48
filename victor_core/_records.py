"""Base classes that both ``@dataclass`` and ``@attrs.define`` subclasses can extend.

Users write events, entities and commands the way their codebase already writes value
objects: some with :mod:`dataclasses`, some with :mod:`attrs`. Each library only collects
fields from bases it recognises, so a base that is just one of the two would lose its own
fields (``id``, ``timestamp``...) in subclasses of the other kind. The bases here are
dataclasses that also carry equivalent attrs metadata, so either kind of subclass inherits
the base fields as keyword-only arguments.

Because such a class answers to both ``dataclasses.is_dataclass`` and ``attrs.has``,
generic tools cannot tell which one defined a subclass; :func:`record_fields` can.

Pydantic models are records too: a subclass of the pydantic bases in
:mod:`victor_core.pydantic` inherits the dataclass and attrs metadata of its victor base, but
its fields are the model's. They are recognised by the ``__pydantic_fields__`` pydantic puts
on every model class, so the kernel needs no import of pydantic to read them.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

_T = TypeVar("_T", bound=type)

__all__ = ["RecordField", "accept_attrs_subclasses", "attrs_compatible", "record_fields"]


def accept_attrs_subclasses(cls: _T) -> _T:
    """Give the dataclass *cls* attrs metadata describing the same keyword-only fields."""
    these: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.default_factory is not dataclasses.MISSING:
            these[field.name] = attrs.field(factory=field.default_factory, kw_only=True)
        elif field.default is not dataclasses.MISSING:
            these[field.name] = attrs.field(default=field.default, kw_only=True)
        else:
            these[field.name] = attrs.field(kw_only=True)
    # init/repr/eq stay the dataclass ones; attrs only records the attributes.
    attrs.define(
        these=these, slots=False, init=False, repr=False, eq=False, order=False, hash=False
    )(cls)
    return cls


if TYPE_CHECKING:
    # Type checkers see the base as an attrs class too, so they know that attrs subclasses
    # inherit its keyword-only fields. Spell it exactly as in the runtime branch's docstring.
    from attrs import define as attrs_compatible
else:

    def attrs_compatible(**_how_type_checkers_see_it: object) -> Any:
        """Decorate a kw_only dataclass so that attrs subclasses inherit its fields.

        Use as ``@attrs_compatible(kw_only=True, slots=False, init=False)`` above
        ``@dataclasses.dataclass(kw_only=True)``. The arguments tell type checkers how attrs
        sees the class; at run time the attrs metadata is derived from the dataclass fields.
        """
        return accept_attrs_subclasses


@attrs.frozen
class RecordField:
    """One field of a record class, whichever library declared it."""

    name: str
    type: Any
    init: bool


def _defining_library(cls: type) -> str:
    for klass in cls.__mro__:
        # A pydantic dataclass is a dataclass first: its dataclass fields are its fields.
        if "__dataclass_fields__" in klass.__dict__:
            return "dataclasses"
        if "__attrs_attrs__" in klass.__dict__:
            return "attrs"
        if "__pydantic_fields__" in klass.__dict__:
            return "pydantic"
    raise TypeError(f"{cls.__qualname__} is neither a dataclass, an attrs class nor a model")


def is_pydantic_model(cls: Any) -> bool:
    """True for pydantic ``BaseModel`` subclasses (v2), pydantic dataclasses excepted."""
    if not isinstance(cls, type):
        return False
    try:
        return _defining_library(cls) == "pydantic"
    except TypeError:
        return False


def is_record_class(cls: Any) -> bool:
    """True for dataclasses, attrs classes and pydantic models."""
    return isinstance(cls, type) and (
        dataclasses.is_dataclass(cls) or attrs.has(cls) or is_pydantic_model(cls)
    )


def record_fields(cls: type) -> tuple[RecordField, ...]:
    """The fields of *cls*, taken from the library that actually defined *cls*."""
    library = _defining_library(cls)
    if library == "pydantic":
        model_fields: dict[str, Any] = cls.__pydantic_fields__  # type: ignore[attr-defined]
        return tuple(RecordField(name, f.annotation, True) for name, f in model_fields.items())
    hints = _type_hints(cls)
    if library == "dataclasses":
        return tuple(
            RecordField(f.name, hints.get(f.name, f.type), f.init) for f in dataclasses.fields(cls)
        )
    return tuple(RecordField(a.name, hints.get(a.name, a.type), a.init) for a in attrs.fields(cls))


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        # Annotations referring to names local to a function cannot be resolved later;
        # fall back to whatever the decorators recorded.
        return {}


def init_name(field: RecordField, cls: type) -> str:
    """The keyword under which ``cls.__init__`` accepts *field* (attrs strips a leading ``_``)."""
    library = _defining_library(cls)
    if library == "pydantic":
        alias = cls.__pydantic_fields__[field.name].alias  # type: ignore[attr-defined]
        return alias if isinstance(alias, str) else field.name
    if library == "attrs":
        alias = attrs.fields_dict(cls)[field.name].alias
        return alias if alias is not None else field.name
    return field.name


def required_field_names(cls: type) -> list[str]:
    """The fields of *cls* without a default: those a stored payload of it must hold.

    For error messages only; a class no library defined has none.
    """
    try:
        library = _defining_library(cls)
    except TypeError:
        return []
    if library == "pydantic":
        model_fields: dict[str, Any] = cls.__pydantic_fields__  # type: ignore[attr-defined]
        return [name for name, f in model_fields.items() if f.is_required()]
    if library == "dataclasses":
        return [
            f.name
            for f in dataclasses.fields(cls)
            if f.init
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
    return [a.name for a in attrs.fields(cls) if a.init and a.default is attrs.NOTHING]
