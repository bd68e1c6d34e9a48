"""The task tracker's domain: tasks are event-sourced, members are plain entities.

A task's history matters (who had it, what it was called, when it was done), so a
:class:`Task` is an aggregate rebuilt from its events. A :class:`Member` is only ever needed
as it is now, so it is an entity in a repository; it counts the open tasks it holds, which
is what ties the two together: assigning a task changes both, and the unit of work commits
both at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from victor_core import Aggregate, Entity, Event

#: The most open tasks one member may hold; assigning one more is refused.
WORKLOAD_LIMIT = 2


class TaskRuleBroken(ValueError):
    """A command asked a task (or a member) for something the rules forbid."""


# Event type names are namespaced so that they never clash with an application's own
# ``TaskOpened`` registered in the same process.
@dataclass
class TaskOpened(Event):
    __event_type__ = "victor.demo.TaskOpened"
    title: str = ""


@dataclass
class TaskAssigned(Event):
    __event_type__ = "victor.demo.TaskAssigned"
    member_id: str = ""
    #: The member's name when the task was given to them: history keeps what was true then.
    member_name: str = ""


@dataclass
class TaskRenamed(Event):
    __event_type__ = "victor.demo.TaskRenamed"
    title: str = ""


@dataclass
class TaskCompleted(Event):
    __event_type__ = "victor.demo.TaskCompleted"


@dataclass
class Member(Entity):
    """Someone tasks can be given to; ``version`` turns on optimistic locking."""

    name: str = ""
    email: str = ""
    team: str = ""
    active: bool = True
    open_tasks: int = 0
    version: int = 0


class Task(Aggregate):
    """A piece of work: opened, given to a member, perhaps renamed, and completed."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.assignee_id = ""
        self.assignee_name = ""
        self.done = False

    def open(self, task_id: str, title: str) -> None:
        self.apply(TaskOpened(aggregate_id=task_id, title=title))

    def assign(self, member: Member) -> None:
        self._check_not_done()
        if not member.active:
            raise TaskRuleBroken(f"{member.name} is not an active member")
        if member.id == self.assignee_id:
            raise TaskRuleBroken(f"{self.id} is already assigned to {member.name}")
        if member.open_tasks >= WORKLOAD_LIMIT:
            raise TaskRuleBroken(
                f"{member.name} already holds {member.open_tasks} open tasks "
                f"(the limit is {WORKLOAD_LIMIT})"
            )
        self.apply(TaskAssigned(member_id=member.id, member_name=member.name))

    def rename(self, title: str) -> None:
        self._check_not_done()
        self.apply(TaskRenamed(title=title))

    def complete(self) -> None:
        self._check_not_done()
        self.apply(TaskCompleted())

    def describe(self) -> str:
        """One line saying what the task is and where it stands."""
        holder = self.assignee_name or "nobody"
        state = "done" if self.done else "open"
        return f"{self.title!r}, {state}, assigned to {holder} (version {self.version})"

    def _check_not_done(self) -> None:
        if self.done:
            raise TaskRuleBroken(f"{self.id} is completed, and a completed task stays as it is")

    def _apply_TaskOpened(self, event: TaskOpened) -> None:
        self.id = event.aggregate_id
        self.title = event.title

    def _apply_TaskAssigned(self, event: TaskAssigned) -> None:
        self.assignee_id = event.member_id
        self.assignee_name = event.member_name

    def _apply_TaskRenamed(self, event: TaskRenamed) -> None:
        self.title = event.title

    def _apply_TaskCompleted(self, event: TaskCompleted) -> None:
        self.done = True


def hand_over(task: Task, member: Member, holder: Member | None) -> None:
    """Assign *task* to *member*, moving it from the count of its current *holder*.

    Three objects change together, which is why the handlers commit them in one unit of work.
    """
    task.assign(member)
    member.open_tasks += 1
    if holder is not None:
        holder.open_tasks -= 1
