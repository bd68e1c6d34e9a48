"""``order_by``: which attributes sort query results, and sorting by them in Python."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from victor_core.errors import ConfigurationError
from victor_core.repository.attributes import check_path, read_path, sort_key

T = TypeVar("T")


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
