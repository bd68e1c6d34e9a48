"""Specifications: composable rules that say which entities a query wants.

A specification answers :meth:`~BaseSpecification.is_satisfied_by` for one entity, and
combines with ``&``, ``|`` and ``~``. The classes here also form an expression tree that
backends compile to their own query language (see :mod:`victor_core.repository.expressions`).
A subclass that overrides ``is_satisfied_by`` is opaque to compilers: repositories still
honour it, by evaluating it in Python, with the same results.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from victor_core.errors import ConfigurationError
from victor_core.repository.attributes import (
    Operator,
    check_path,
    compare,
    operator_from,
    read_path,
)

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
    :mod:`victor_core.repository.attributes` for exactly what each means.
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
        self.value = value

    def is_satisfied_by(self, candidate: Any) -> bool:
        return compare(self.op, read_path(candidate, self.path), self.value)

    def __repr__(self) -> str:
        if self.op is Operator.EQ:
            return f"AttributeSpecification({self.attr!r}, {self.value!r})"
        return f"AttributeSpecification({self.attr!r}, {self.value!r}, op={self.op.value!r})"


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
