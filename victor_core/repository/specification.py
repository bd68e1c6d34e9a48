"""What a specification means, once for every backend: its rules, paths, comparisons and order.

A specification answers :meth:`~BaseSpecification.is_satisfied_by` for one entity, and
combines with ``&``, ``|`` and ``~``. The building blocks here also form the expression tree
backends compile to their own query language (see :mod:`victor_core.repository.expressions`);
a subclass that overrides ``is_satisfied_by`` is opaque to compilers: repositories still
honour it, by evaluating it in Python, with the same results.

An :class:`AttributeSpecification` names an attribute by a dotted path (``"address.city"``)
and compares its value with an operator; ``order_by`` names attributes the same way. Backends
that compile specifications must give exactly the results of the Python meaning defined here,
so it is deliberately plain:

* a path walks only data (see :data:`PATH_RULE`): the entity's declared fields and, below
  them, keys of mappings and fields of nested dataclass, attrs and pydantic values; ``None``
  or a missing mapping key on the way gives ``None``; anything else (a typo, a method, a
  property, a class attribute, a name starting with ``_``) is a :class:`ConfigurationError`;
* ``==`` with ``None`` is "is none"; ``!=`` is the negation of ``==``;
* ``<``, ``<=``, ``>``, ``>=`` hold only between numbers (``bool`` counts as a number, as in
  Python), between strings, or between values of another type that orders itself; with
  ``None`` or with values that cannot be compared they are false, never an error;
  datetimes without a time zone are taken to be in UTC;
* ``in`` holds when the value equals one of the given values;
* ``contains`` holds when a list, tuple or set has an item equal to the value, or when a
  string has the value as a substring;
* ``order_by`` sorts by :func:`sort_key`: ``None`` first, then numbers, then strings, ties
  broken by ascending id.
"""

from __future__ import annotations

import enum
import functools
import inspect
import keyword
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar, Union
from uuid import UUID

import attrs

from victor_core._records import is_record_class, record_fields
from victor_core.errors import ConfigurationError
from victor_core.eventsourcing.serializer import as_utc
from victor_core.serialization.text import is_unicode

T = TypeVar("T")


#: What an attribute path may contain, as errors and the docs state it. A path is written by
#: whoever builds the specification, sometimes from a request's parameters, so it must never
#: reach past the stored data into methods, properties, classes or a module's globals.
PATH_RULE = (
    "a path names one of the entity's declared fields and, below it, only plain data: keys "
    "of mappings and fields of nested dataclass, attrs or pydantic values, joined by dots; "
    "no part may start with '_' or name a method, property, class attribute or anything "
    "else that is not a stored field"
)


class Operator(enum.StrEnum):
    """How an :class:`~victor_core.AttributeSpecification` compares its attribute."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    CONTAINS = "contains"


def operator_from(op: object) -> Operator:
    """The :class:`Operator` written as *op* (``">="``, ``"in"``, ``Operator.GE``)."""
    try:
        return Operator(str(op)) if isinstance(op, str) else Operator(op)  # type: ignore[arg-type]
    except ValueError:
        accepted = ", ".join(repr(o.value) for o in Operator)
        raise ConfigurationError(f"unknown comparison {op!r}; use one of {accepted}") from None


def check_path(path: object) -> tuple[str, ...]:
    """The segments of the dotted attribute *path*: identifiers that do not start with ``_``.

    Names are checked before anything else happens with them, so a hostile name such as
    ``"x') OR 1=1 --"`` or ``"__init__.__globals__"`` is refused here and never reaches a
    query or an object. Whether the names are fields is checked where the entity class is
    known (:func:`check_declared_path`) and again as values are read (:func:`read_path`).
    """
    if not isinstance(path, str) or not path:
        raise ConfigurationError(
            f"an attribute path is a non-empty string such as 'email' or 'address.city', "
            f"got {path!r}"
        )
    segments = tuple(path.split("."))
    for segment in segments:
        if not segment.isidentifier() or keyword.iskeyword(segment):
            raise ConfigurationError(
                f"{path!r} is not an attribute path: each part between dots must be a Python "
                f"identifier (letters, digits and '_'), and {segment!r} is not"
            )
        if segment.startswith("_"):
            raise ConfigurationError(
                f"{path!r} is refused: {segment!r} starts with '_'; {PATH_RULE}"
            )
    return segments


@functools.lru_cache(maxsize=1024)
def declared_fields(cls: type) -> dict[str, Any] | None:
    """The declared fields of the record class *cls* and their types; None for other types."""
    if not is_record_class(cls):
        return None
    return {field.name: field.type for field in record_fields(cls)}


def check_declared_path(record_type: type, segments: tuple[str, ...]) -> None:
    """Refuse *segments* unless they follow :data:`PATH_RULE` through *record_type*'s types.

    Where the declared types stop saying what a value is (``Any``, a union of records, a
    name that cannot be resolved), the rest of the path is checked by :func:`read_path` on
    the values themselves.
    """
    current: Any = record_type
    for depth, segment in enumerate(segments):
        if segment.startswith("_"):
            raise ConfigurationError(
                f"{'.'.join(segments)!r} is refused: {segment!r} starts with '_'; {PATH_RULE}"
            )
        current = without_none(current)
        fields = declared_fields(current) if isinstance(current, type) else None
        if fields is not None:
            if segment not in fields:
                raise _not_a_field(segments, depth, current)
            current = fields[segment]
            continue
        origin = typing.get_origin(current)
        container = origin if origin is not None else current
        if isinstance(container, type) and issubclass(container, Mapping):
            arguments = typing.get_args(current)
            current = arguments[1] if len(arguments) == 2 else Any
            continue
        if isinstance(container, type) and container not in (object, Any, types.UnionType):
            where = ".".join(segments[:depth])
            raise ConfigurationError(
                f"{'.'.join(segments)!r} is refused: {where!r} holds a "
                f"{_type_name(current)} (as declared), which has no fields to read "
                f"{segment!r} from; {PATH_RULE}"
            )
        return  # the declared type does not say; read_path checks the values


def read_path(value: Any, segments: tuple[str, ...]) -> Any:
    """The value at *segments* inside *value*, reading only what :data:`PATH_RULE` allows."""
    for depth, segment in enumerate(segments):
        if value is None:
            return None
        if segment.startswith("_"):
            raise ConfigurationError(
                f"{'.'.join(segments)!r} is refused: {segment!r} starts with '_'; {PATH_RULE}"
            )
        if isinstance(value, Mapping):
            value = value.get(segment)
            continue
        kind: type = type(value)
        fields = declared_fields(kind)
        if fields is None:
            where = ".".join(segments[:depth])
            raise ConfigurationError(
                f"{'.'.join(segments)!r} is refused: {where!r} holds a "
                f"{type(value).__qualname__}, which has no fields to read {segment!r} from; "
                f"{PATH_RULE}"
            )
        if segment not in fields:
            raise _not_a_field(segments, depth, type(value))
        value = getattr(value, segment)
    return value


def _not_a_field(segments: tuple[str, ...], depth: int, record_type: type) -> ConfigurationError:
    segment = segments[depth]
    where = ".".join(segments[:depth]) or "the entity"
    found = inspect.getattr_static(record_type, segment, _ABSENT)
    if isinstance(found, property | functools.cached_property):
        what = f"{segment!r} is a property, not a field"
    elif inspect.isroutine(found) or isinstance(found, classmethod | staticmethod):
        what = f"{segment!r} is a method, not a field"
    elif found is not _ABSENT:
        what = f"{segment!r} is a class attribute, not a field"
    else:
        what = f"it has no field {segment!r} (check the spelling)"
    return ConfigurationError(
        f"{'.'.join(segments)!r} is refused: {where} ({record_type.__qualname__}) is read "
        f"by its fields and {what}; {PATH_RULE}"
    )


_ABSENT = object()


def _type_name(declared: Any) -> str:
    return declared.__qualname__ if isinstance(declared, type) else repr(declared)


def without_none(declared: Any) -> Any:
    """``X`` for ``X | None`` (``Optional[X]``); *declared* itself otherwise."""
    if typing.get_origin(declared) in (Union, types.UnionType):
        rest = [arg for arg in typing.get_args(declared) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return declared


def _normalized(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value)
    return value


def equals(actual: Any, expected: Any) -> bool:
    """``==`` as specifications mean it."""
    if expected is None:
        return actual is None
    if actual is None:
        return False
    return bool(_normalized(actual) == _normalized(expected))


def orders(op: Operator, actual: Any, expected: Any) -> bool:
    """``<``, ``<=``, ``>``, ``>=`` as specifications mean them: false when incomparable."""
    if actual is None or expected is None:
        return False
    left, right = _normalized(actual), _normalized(expected)
    if isinstance(left, str) != isinstance(right, str):
        return False
    try:
        if op is Operator.LT:
            return bool(left < right)
        if op is Operator.LE:
            return bool(left <= right)
        if op is Operator.GT:
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


def contains(actual: Any, item: Any) -> bool:
    """``contains`` as specifications mean it."""
    if isinstance(actual, str):
        return isinstance(item, str) and item in actual
    if isinstance(actual, list | tuple | set | frozenset):
        return any(equals(each, item) for each in actual)
    return False


def compare(op: Operator, actual: Any, expected: Any) -> bool:
    """Whether *actual* (an attribute's value) relates to *expected* by *op*."""
    if op is Operator.EQ:
        return equals(actual, expected)
    if op is Operator.NE:
        return not equals(actual, expected)
    if op is Operator.IN:
        return any(equals(actual, each) for each in expected)
    if op is Operator.CONTAINS:
        return contains(actual, expected)
    return orders(op, actual, expected)


def sort_key(value: Any) -> tuple[int, Any]:
    """A key that orders attribute values: None first, then numbers, then strings.

    This is the order SQL databases give JSON values, so backends can sort in the engine
    and agree with Python. Values of other types sort among themselves.
    """
    if value is None:
        return (0, 0)
    if isinstance(value, enum.Enum):
        return sort_key(value.value)
    if isinstance(value, bool | int | float | Decimal):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, UUID):
        return (2, str(value))
    if isinstance(value, datetime):
        return (3, as_utc(value))
    if isinstance(value, date):
        return (4, value)
    raise ConfigurationError(
        f"cannot order by a value of type {type(value).__qualname__}; order by attributes "
        "holding numbers, strings, UUIDs, enums, dates or datetimes"
    )


@attrs.frozen
class OrderKey:
    """Sort by the attribute at ``path``, descending when ``descending``."""

    path: tuple[str, ...]
    descending: bool = False

    @property
    def attr(self) -> str:
        """The dotted path as written."""
        return ".".join(self.path)


def order_from(order_by: str | Sequence[str] | None) -> tuple[OrderKey, ...]:
    """The keys ``order_by`` names: ``"name"``, ``"-age"`` or a sequence of them."""
    if order_by is None:
        return ()
    names = [order_by] if isinstance(order_by, str) else order_by
    if not isinstance(names, Sequence) or not names:
        raise ConfigurationError(
            f"order_by takes an attribute name ('name', '-age' for descending) or a list of "
            f"them, got {order_by!r}"
        )
    keys = []
    for name in names:
        if not isinstance(name, str):
            raise ConfigurationError(f"order_by names attributes as strings, got {name!r}")
        descending = name.startswith("-")
        keys.append(OrderKey(check_path(name[1:] if descending else name), descending))
    return tuple(keys)


def sort_in_python(
    items: list[T],
    keys: Sequence[OrderKey],
    *,
    value: Callable[[T], Any],
    ident: Callable[[T], str],
) -> None:
    """Sort *items* in place by *keys*, ties broken by ascending id, as engines do.

    *value* gives the object whose attributes the keys name; *ident* the id of an item.
    """
    items.sort(key=ident)
    for key in reversed(keys):

        def by_key(item: T, path: tuple[str, ...] = key.path) -> tuple[int, Any]:
            return sort_key(read_path(value(item), path))

        items.sort(key=by_key, reverse=key.descending)


# -- the specifications ------------------------------------------------------------------

T_contra = TypeVar("T_contra", contravariant=True)


class BaseSpecification(ABC, Generic[T_contra]):
    """A rule an entity satisfies or not; derive and implement :meth:`is_satisfied_by`::

        class ActiveSpec(BaseSpecification[User]):
            def is_satisfied_by(self, candidate: User) -> bool:
                return candidate.active

    A specification must not modify the entity it inspects.
    """

    @abstractmethod
    def is_satisfied_by(self, candidate: T_contra) -> bool:
        """True when *candidate* meets this specification."""

    def __and__(self, other: BaseSpecification[T_contra]) -> AndSpecification[T_contra]:
        return AndSpecification(self, _checked(other, "&"))

    def __or__(self, other: BaseSpecification[T_contra]) -> OrSpecification[T_contra]:
        return OrSpecification(self, _checked(other, "|"))

    def __invert__(self) -> NotSpecification[T_contra]:
        return NotSpecification(self)


#: Another name for :class:`BaseSpecification`.
Specification = BaseSpecification


def _checked(other: object, symbol: str) -> Any:
    if not isinstance(other, BaseSpecification):
        raise ConfigurationError(
            f"cannot combine a specification with {type(other).__qualname__} using "
            f"{symbol!r}; both sides must be specifications"
        )
    return other


class AndSpecification(BaseSpecification[T_contra]):
    """Satisfied when both parts are."""

    def __init__(self, left: BaseSpecification[T_contra], right: BaseSpecification[T_contra]):
        self.left = left
        self.right = right

    def is_satisfied_by(self, candidate: T_contra) -> bool:
        return self.left.is_satisfied_by(candidate) and self.right.is_satisfied_by(candidate)

    def __repr__(self) -> str:
        return f"({self.left!r} & {self.right!r})"


class OrSpecification(BaseSpecification[T_contra]):
    """Satisfied when either part is."""

    def __init__(self, left: BaseSpecification[T_contra], right: BaseSpecification[T_contra]):
        self.left = left
        self.right = right

    def is_satisfied_by(self, candidate: T_contra) -> bool:
        return self.left.is_satisfied_by(candidate) or self.right.is_satisfied_by(candidate)

    def __repr__(self) -> str:
        return f"({self.left!r} | {self.right!r})"


class NotSpecification(BaseSpecification[T_contra]):
    """Satisfied when its part is not."""

    def __init__(self, inner: BaseSpecification[T_contra]):
        self.inner = inner

    def is_satisfied_by(self, candidate: T_contra) -> bool:
        return not self.inner.is_satisfied_by(candidate)

    def __repr__(self) -> str:
        return f"~{self.inner!r}"


class AttributeSpecification(BaseSpecification[Any]):
    """Compares one attribute, by dotted path, with a value.

    ``AttributeSpecification("active", True)`` matches entities whose ``active`` equals
    ``True``; ``AttributeSpecification("age", 18, op=">=")`` compares with ``>=``;
    ``AttributeSpecification("address.city", ["Paris", "Lyon"], op="in")`` looks into a
    nested value. Operators: ``==`` (the default; with ``None`` it means "is none"),
    ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in`` and ``contains``; see
    :mod:`victor_core.repository.specification` for exactly what each means.
    """

    def __init__(self, attr: str, value: Any = None, *, op: Operator | str = Operator.EQ):
        self.attr = attr
        self.path = check_path(attr)
        self.op = operator_from(op)
        if self.op is Operator.IN:
            value = _collection(value, attr)
        elif isinstance(value, BaseSpecification):
            raise ConfigurationError(
                f"AttributeSpecification({attr!r}, ...) compares with a value, not a "
                "specification; combine specifications with &, | and ~"
            )
        try:
            _check_text(value, attr)
        except RecursionError:
            raise ConfigurationError(
                f"AttributeSpecification({attr!r}, ...) compares with a value nested deeper "
                "than Python can walk (or one that contains itself); compare with plain data"
            ) from None
        self.value = value

    def is_satisfied_by(self, candidate: Any) -> bool:
        return compare(self.op, read_path(candidate, self.path), self.value)

    def __repr__(self) -> str:
        if self.op is Operator.EQ:
            return f"AttributeSpecification({self.attr!r}, {self.value!r})"
        return f"AttributeSpecification({self.attr!r}, {self.value!r}, op={self.op.value!r})"


def _check_text(value: object, attr: str) -> None:
    """Refuse a value holding a lone surrogate: no entity can hold one to compare it with.

    Engines would fail to encode it mid-query, each in its own way; refused here, every
    backend answers alike.
    """
    if isinstance(value, str):
        if not value.isascii() and not is_unicode(value):
            raise ConfigurationError(
                f"AttributeSpecification({attr!r}, {value!r}) compares with text holding a "
                "lone surrogate, which is not valid Unicode and which no entity stores; "
                "remove it, or decode the bytes it came from as what they are"
            )
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_text(item, attr)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, attr)
            _check_text(item, attr)


def _collection(value: object, attr: str) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ConfigurationError(
            f"AttributeSpecification({attr!r}, ..., op='in') needs a list, tuple or set of "
            f"values, got {value!r}"
        )
    return tuple(value)


def is_opaque(spec: BaseSpecification[Any]) -> bool:
    """True when *spec*'s class decides by its own code, which only Python can run.

    The building blocks above are transparent; a subclass that overrides
    ``is_satisfied_by`` is not, even when it derives from one of them.
    """
    own = type(spec).is_satisfied_by
    return own not in _TRANSPARENT


_TRANSPARENT = {
    AndSpecification.is_satisfied_by,
    OrSpecification.is_satisfied_by,
    NotSpecification.is_satisfied_by,
    AttributeSpecification.is_satisfied_by,
}
