"""How a command's changes are committed: a task's new events and the members they affect.

Assigning a task appends an event to the task and changes the member's count of open tasks;
both must be stored, or neither. A :class:`~victor_core.UnitOfWork` does that in one
transaction when the event store and the member repository share one transactional
resource (one SQLite file, the process's memory, a MongoDB replica set). Where they do not,
the tracker says so once, and commits what it can:

- separate resources: the unit of work commits each in its own transaction
  (``best_effort=True``);
- a backend that has no transactions at all (a standalone MongoDB server): each object is
  saved through its own repository, one after the other, the task first, so that a stale
  task is refused before any member changes (:class:`SavedOneByOne`).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from victor_core import AggregateRepository, Backend, Repository, UnitOfWork
from victor_core.backend import Capability
from victor_core.unit_of_work import find_transaction_manager
from victor_demo.domain import Member, Task, TaskRuleBroken

T = TypeVar("T")


class Changes(Protocol):
    """What a command handler needs from a unit of work: load objects, add new ones."""

    async def get(self, entity_type: type[T], entity_id: str) -> T | None: ...

    def register_new(self, entity: Any) -> None: ...


async def task_in(changes: Changes, task_id: str) -> Task:
    """The task *task_id*, loaded into *changes*; a broken rule when there is none."""
    task = await changes.get(Task, task_id)
    if task is None:
        raise TaskRuleBroken(f"there is no task {task_id!r}")
    return task


async def member_in(changes: Changes, member_id: str) -> Member:
    """The member *member_id*, loaded into *changes*; a broken rule when there is none."""
    member = await changes.get(Member, member_id)
    if member is None:
        raise TaskRuleBroken(f"there is no member {member_id!r}")
    return member


class UnitsOfWork:
    """Starts one unit of work per command, as atomic as the backend allows."""

    def __init__(
        self, backend: Backend, tasks: AggregateRepository[Task], members: Repository[Member]
    ) -> None:
        self.tasks = tasks
        self.members = members
        #: False on a backend without transactions: objects are then saved one by one.
        self.transactional = backend.info.supports(Capability.TRANSACTIONS)
        #: True when a task's events and its members commit in one transaction.
        self.atomic = False
        #: How commits go, in one sentence, for the narration.
        self.explanation = (
            f"the {backend.name} backend declares no transactions here, so the task's events "
            "and each member are saved one after the other, not atomically"
        )
        if self.transactional:
            events = find_transaction_manager(tasks.store)
            people = find_transaction_manager(members)
            if events is not None and people is not None and events.key == people.key:
                self.atomic = True
                self.explanation = (
                    f"a task's events and its members commit in one transaction on {events.key}"
                )
            else:
                places = ", ".join(str(m.key) for m in (events, people) if m is not None)
                self.explanation = (
                    "the event store and the member repository are not on one transactional "
                    f"resource ({places or 'no transaction manager'}), so each commits in its "
                    "own transaction (best effort), not atomically"
                )

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Changes]:
        """Changes made inside are committed when the block ends, and dropped if it raises."""
        if not self.transactional:
            async with SavedOneByOne(self.tasks, self.members) as one_by_one:
                yield one_by_one
            return
        async with UnitOfWork(best_effort=not self.atomic) as uow:
            uow.register_repository(self.tasks, Task)
            uow.register_repository(self.members, Member)
            yield uow


class SavedOneByOne:
    """The same calls as a unit of work, saving each object by itself: no atomicity.

    Only for backends without transactions; a failure between two saves leaves the first
    one stored.
    """

    def __init__(self, tasks: AggregateRepository[Task], members: Repository[Member]) -> None:
        self.tasks = tasks
        self.members = members
        self._tasks: dict[str, Task] = {}
        self._members: dict[str, tuple[Member, Member]] = {}

    async def get(self, entity_type: type[T], entity_id: str) -> T | None:
        found: Any
        if entity_type is Task:
            found = self._tasks.get(entity_id)
            if found is None and await self.tasks.exists(entity_id):
                found = self._tasks[entity_id] = await self.tasks.load(entity_id)
        else:
            known = self._members.get(entity_id)
            found = known[0] if known is not None else await self.members.get(entity_id)
            if known is None and found is not None:
                self._members[entity_id] = (found, copy.copy(found))
        return found  # type: ignore[no-any-return]

    def register_new(self, entity: Any) -> None:
        self._tasks[entity.id] = entity

    async def __aenter__(self) -> SavedOneByOne:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            return
        for task in self._tasks.values():
            await self.tasks.save(task)
        for member, loaded in self._members.values():
            if member != loaded:
                await self.members.update(member)
