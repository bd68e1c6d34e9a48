"""Telling what happens: numbered steps, indented details, specifications in plain words."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from victor_core import AttributeSpecification, BaseSpecification
from victor_core.repository import AndSpecification, NotSpecification, OrSpecification

Say = Callable[[str], None]


class Narrator:
    """Numbers the steps of the story and indents what belongs to each."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.steps = 0

    def step(self, text: str) -> None:
        self.steps += 1
        self.say(f"{self.steps}. {text}")

    def detail(self, text: str) -> None:
        self.say(f"   {text}")


def spec_text(spec: BaseSpecification[Any]) -> str:
    """A specification as the expression that builds it, in short: ``team == 'a' & active``."""
    return _text(spec).removeprefix("(").removesuffix(")") if _is_pair(spec) else _text(spec)


def _is_pair(spec: BaseSpecification[Any]) -> bool:
    return isinstance(spec, AndSpecification | OrSpecification)


def _text(spec: BaseSpecification[Any]) -> str:
    if isinstance(spec, AttributeSpecification):
        return f"{spec.attr} {spec.op.value} {spec.value!r}"
    if isinstance(spec, AndSpecification):
        return f"({_text(spec.left)} & {_text(spec.right)})"
    if isinstance(spec, OrSpecification):
        return f"({_text(spec.left)} | {_text(spec.right)})"
    if isinstance(spec, NotSpecification):
        inner = _text(spec.inner)
        return f"~{inner}" if _is_pair(spec.inner) else f"~({inner})"
    return type(spec).__name__


def names(items: Sequence[Any]) -> str:
    """``Ada, Grace``: the ``name`` of each item, or ``nobody``."""
    return ", ".join(item.name for item in items) or "nobody"


def board_lines(columns: Mapping[str, Sequence[str]]) -> list[str]:
    """One line per column of the board: ``Grace: Fix the login bug, Plan the sprint``."""
    if not columns:
        return ["(no open tasks)"]
    return [f"{holder}: {', '.join(titles)}" for holder, titles in columns.items()]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 event``, ``2 events``; *nouns* when adding an s is wrong (``queries``)."""
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"
