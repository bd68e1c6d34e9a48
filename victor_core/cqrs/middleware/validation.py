"""Refuse invalid commands before they reach their handler."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from victor_core.cqrs.messages import Command, CommandResult
from victor_core.cqrs.middleware.chain import NextCommand


def problems_of(command: object) -> list[str]:
    """Everything wrong with *command*, from its attrs validators and its ``validate()``.

    attrs validators normally run when a command is built, but not when validation was
    disabled or a field was changed without ``on_setattr`` validation; running them again
    here is the last check before the handler. All of them run, so the caller sees every
    problem at once rather than one per attempt.

    ``validate()``, when the command has one, returns the problems it finds (a string, an
    iterable of strings, or None when there are none) or raises ``ValueError`` with one.
    """
    problems: list[str] = []
    cls = type(command)
    for field in _validated_fields(cls):
        try:
            field.validator(command, field, getattr(command, field.name))  # type: ignore[misc]
        except (ValueError, TypeError) as exc:
            problems.append(f"{field.name}: {exc}")
    validate = getattr(command, "validate", None)
    if validate is not None and callable(validate):
        try:
            found = validate()
        except ValueError as exc:
            problems.append(str(exc))
        else:
            problems.extend(_as_problems(found, cls))
    return problems


_validated: dict[type, tuple[attrs.Attribute[Any], ...]] = {}


def _validated_fields(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    try:
        return _validated[cls]
    except KeyError:
        pass
    found = tuple(f for f in attrs.fields(cls) if f.validator is not None) if attrs.has(cls) else ()
    _validated[cls] = found
    return found


def _as_problems(found: object, cls: type) -> list[str]:
    if found is None or found is True:
        return []
    if isinstance(found, str):
        return [found]
    if isinstance(found, Iterable):
        return [str(each) for each in found]
    raise TypeError(
        f"{cls.__qualname__}.validate() returned {found!r}; it must return the problems it "
        "found (a string, a list of strings, or None when the command is valid) or raise "
        "ValueError"
    )


class ValidationCommandMiddleware:
    """Answers an invalid command with an unsuccessful ``CommandResult``; never calls its
    handler.

    The result's ``problems`` lists each problem and ``error`` joins them into one line.
    Checks come from attrs validators and from a ``validate()`` method on the command; see
    :func:`problems_of`.
    """

    async def __call__(self, message: Command, next: NextCommand) -> CommandResult:
        problems = problems_of(message)
        if problems:
            return CommandResult(
                success=False,
                error=f"{type(message).__qualname__} is invalid: {'; '.join(problems)}",
                problems=tuple(problems),
            )
        return await next(message)
