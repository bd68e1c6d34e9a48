"""The handlers: each command is one unit of work, each query reads the projection.

Handlers are objects holding what they need (repositories, the projection runner) and are
registered on the tracker's own mediator, so nothing here touches the handlers other code
declares with ``@command_handler``. A broken rule is answered with an unsuccessful
:class:`~victor_core.CommandResult`; the unit of work then rolls back, so nothing of the
command is stored.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from victor_core import (
    AttributeSpecification,
    CommandResult,
    ConcurrencyError,
    Mediator,
    ProjectionProgress,
    ProjectionRunner,
    QueryResult,
    Repository,
)
from victor_demo.board import TaskBoard
from victor_demo.domain import Member, Task, TaskRuleBroken, hand_over
from victor_demo.messages import AssignTask, CompleteTask, OpenTask, RenameTask, ShowBoard
from victor_demo.units import UnitsOfWork, member_in, task_in


class TaskCommands:
    """The write side: load, decide, commit."""

    def __init__(self, units: UnitsOfWork) -> None:
        self.units = units
        #: Handler runs per command type: what middleware let through.
        self.calls: Counter[str] = Counter()

    def register(self, mediator: Mediator) -> None:
        mediator.register_command(OpenTask, self.open_task)
        mediator.register_command(AssignTask, self.assign_task)
        mediator.register_command(RenameTask, self.rename_task)
        mediator.register_command(CompleteTask, self.complete_task)

    async def open_task(self, command: OpenTask) -> CommandResult:
        self.calls["OpenTask"] += 1
        task = Task()
        task.open(command.task_id, command.title)
        try:
            async with self.units.begin() as uow:
                uow.register_new(task)
        except ConcurrencyError:
            return _refused(f"{command.task_id} exists already")
        return _done(task)

    async def assign_task(self, command: AssignTask) -> CommandResult:
        self.calls["AssignTask"] += 1
        try:
            async with self.units.begin() as uow:
                task = await task_in(uow, command.task_id)
                member = await member_in(uow, command.member_id)
                previous = await member_in(uow, task.assignee_id) if task.assignee_id else None
                hand_over(task, member, previous)
        except TaskRuleBroken as broken:
            return _refused(str(broken))
        return _done(task, member=member, previous=previous)

    async def rename_task(self, command: RenameTask) -> CommandResult:
        self.calls["RenameTask"] += 1
        try:
            async with self.units.begin() as uow:
                task = await task_in(uow, command.task_id)
                task.rename(command.title)
        except TaskRuleBroken as broken:
            return _refused(str(broken))
        return _done(task)

    async def complete_task(self, command: CompleteTask) -> CommandResult:
        self.calls["CompleteTask"] += 1
        try:
            async with self.units.begin() as uow:
                task = await task_in(uow, command.task_id)
                task.complete()
                holder = await member_in(uow, task.assignee_id) if task.assignee_id else None
                if holder is not None:
                    holder.open_tasks -= 1
        except TaskRuleBroken as broken:
            return _refused(str(broken))
        return _done(task, member=holder)


def _done(task: Task, **members: Member | None) -> CommandResult:
    data: dict[str, Any] = {"task": task}
    data.update((role, member) for role, member in members.items() if member is not None)
    return CommandResult(success=True, data=data)


def _refused(reason: str) -> CommandResult:
    return CommandResult(success=False, error=reason)


class BoardQueries:
    """The read side: bring the board up to date, then answer from it."""

    def __init__(
        self, runner: ProjectionRunner, board: TaskBoard, members: Repository[Member]
    ) -> None:
        self.runner = runner
        self.board = board
        self.members = members
        #: Handler runs: queries the cache did not answer.
        self.calls = 0
        #: What the handler's last catch-up did.
        self.last_catch_up: ProjectionProgress | None = None

    def register(self, mediator: Mediator) -> None:
        mediator.register_query(ShowBoard, self.show_board)

    async def show_board(self, query: ShowBoard) -> QueryResult[dict[str, list[str]]]:
        self.calls += 1
        self.last_catch_up = await self.runner.catch_up()
        columns = self.board.columns()
        if query.team is not None:
            team = await self.members.find(AttributeSpecification("team", query.team))
            names = {member.name for member in team}
            columns = {holder: titles for holder, titles in columns.items() if holder in names}
        return QueryResult(success=True, data=columns)
