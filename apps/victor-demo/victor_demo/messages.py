"""What the tracker can be asked: commands that change it and the query that reads it.

Each command checks its own shape in ``validate()``, which
:class:`~victor_core.ValidationCommandMiddleware` calls before the handler runs, so a
malformed command never reaches the domain. Rules that need stored state (is this member
active?) are the domain's business, checked by the handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from victor_core import Command, Query

#: Titles longer than this do not fit on the board.
MAX_TITLE = 60


def _problems_with_title(title: str) -> list[str]:
    if not title.strip():
        return ["title: must not be empty"]
    if len(title) > MAX_TITLE:
        return [f"title: {len(title)} characters, more than the {MAX_TITLE} allowed"]
    return []


def _problems_with_id(name: str, value: str) -> list[str]:
    return [] if value.strip() else [f"{name}: must not be empty"]


@dataclass
class OpenTask(Command):
    task_id: str = ""
    title: str = ""

    def validate(self) -> list[str]:
        return _problems_with_id("task_id", self.task_id) + _problems_with_title(self.title)


@dataclass
class AssignTask(Command):
    task_id: str = ""
    member_id: str = ""

    def validate(self) -> list[str]:
        return _problems_with_id("task_id", self.task_id) + _problems_with_id(
            "member_id", self.member_id
        )


@dataclass
class RenameTask(Command):
    task_id: str = ""
    title: str = ""

    def validate(self) -> list[str]:
        return _problems_with_id("task_id", self.task_id) + _problems_with_title(self.title)


@dataclass
class CompleteTask(Command):
    task_id: str = ""

    def validate(self) -> list[str]:
        return _problems_with_id("task_id", self.task_id)


@dataclass
class ShowBoard(Query[dict[str, list[str]]]):
    """The open tasks per member; ``team`` narrows the board to one team's members."""

    team: str | None = None
