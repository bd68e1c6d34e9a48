"""Commands, queries and their results.

Commands and queries are value objects written with ``@dataclass`` or ``@attrs.define``, the
way the rest of a codebase writes them. The bases contribute keyword-only fields, so
subclasses may declare fields with or without defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from victor_core._records import attrs_compatible
from victor_core.eventsourcing.events import new_id, utc_now

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@attrs_compatible(kw_only=True, slots=False, init=False)
@dataclasses.dataclass(kw_only=True)
class Command:
    """A request to change state; derive with ``@dataclass`` or ``@attrs.define``.

    Every command gets an ``id`` and a ``timestamp`` so it can be traced through logs and,
    when a handler stores events, correlated with what it caused.
    """

    id: str = dataclasses.field(default_factory=new_id)
    timestamp: datetime = dataclasses.field(default_factory=utc_now)


@attrs_compatible(kw_only=True, slots=False, init=False)
@dataclasses.dataclass(kw_only=True)
class Query(Generic[T]):
    """A request to read state, answered with a ``QueryResult[T]``.

    The type argument is the shape of the answer, so ``await mediator.send(query)`` is typed
    for the caller::

        @dataclass
        class GetUserQuery(Query[dict]):
            user_id: str = ""

    A query has no id or timestamp of its own: it is identified by its values alone, so
    two equal questions are equal objects and can share a cached answer.
    """


def _problem_tuple(problems: Iterable[str]) -> tuple[str, ...]:
    return tuple(problems)


@attrs.frozen
class CommandResult:
    """What a command handler reports back.

    ``data`` carries anything the caller needs from the write (typically a new id);
    ``error`` says why an unsuccessful command failed, and ``problems`` lists each reason
    one by one when there are several (as validation does).
    """

    success: bool
    data: Any = None
    error: str | None = None
    problems: tuple[str, ...] = attrs.field(default=(), converter=_problem_tuple)


@attrs.frozen
class QueryResult(Generic[T_co]):
    """The answer to a ``Query[T]``: ``data`` is the ``T`` when ``success`` is true."""

    success: bool
    data: T_co | None = None
    error: str | None = None
