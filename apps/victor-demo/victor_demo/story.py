"""The demo's story: one method per step, each using the tracker as an application would.

Read it top to bottom: members are added and queried by specification, tasks are opened
and assigned through the mediator (validation, units of work, a retried outage), the board
projection catches up, cached queries are answered and invalidated, a task is rebuilt as it
was earlier, and a stale write is refused.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from victor_core import (
    AttributeSpecification,
    Command,
    CommandResult,
    ConcurrencyError,
    ConfigurationError,
)
from victor_demo.app import TaskTracker
from victor_demo.domain import Member, hand_over
from victor_demo.messages import AssignTask, CompleteTask, OpenTask, RenameTask, ShowBoard
from victor_demo.narration import Narrator, board_lines, names, plural, spec_text
from victor_demo.summary import DemoSummary
from victor_demo.units import member_in, task_in


def founding_members() -> list[Member]:
    """The people of the story; Linus has left, so he is inactive."""
    return [
        Member(id="ada", name="Ada", email="ada@example.com", team="platform"),
        Member(id="grace", name="Grace", email="grace@example.com", team="platform"),
        Member(id="linus", name="Linus", email="linus@example.com", team="platform", active=False),
        Member(id="margaret", name="Margaret", email="margaret@example.com", team="flight"),
        Member(id="katherine", name="Katherine", email="katherine@example.com", team="flight"),
    ]


class Story:
    """The steps, told by *narrator*, acted out on *tracker*."""

    def __init__(self, tracker: TaskTracker, narrator: Narrator) -> None:
        self.tracker = tracker
        self.narrator = narrator
        self.started = time.perf_counter()
        self.results: list[CommandResult] = []
        self.command_seconds = 0.0
        self.catch_up_seconds = 0.0
        self.queries = 0
        self.conflicts = 0
        #: When task-2 was with Ada, for the time-travel step.
        self.moment: datetime | None = None

    async def check_storage_is_empty(self) -> None:
        """Refuse to run over an earlier run's data, which would make the story wrong."""
        tracker = self.tracker
        events = [recorded async for recorded in tracker.store.read_all(limit=1)]
        if events or await tracker.members.count():
            raise ConfigurationError(
                f"the demo starts from empty storage, and {tracker.backend.name} storage at "
                "this URL already holds events or members (an earlier demo run?); run it "
                "with another --directory or --url, or delete the demo's database"
            )

    async def send(self, command: Command) -> CommandResult:
        started = time.perf_counter()
        result = await self.tracker.mediator.send(command)
        self.command_seconds += time.perf_counter() - started
        self.results.append(result)
        return result

    # -- the steps ------------------------------------------------------------------------

    def opened(self, shown_url: str) -> None:
        tracker = self.tracker
        backend = tracker.backend
        where = (
            "with checkpoints for the board"
            if tracker.checkpoints is tracker.store.checkpoints
            else "with the board's checkpoints in this process (the backend keeps none)"
        )
        self.narrator.step(
            f"Opened the task tracker on {shown_url} ({backend.entry.distribution} "
            f"{backend.info.version}): an event store for tasks, {where}, and a repository "
            "of members."
        )
        self.narrator.detail(f"Unit of work: {tracker.units.explanation}.")

    async def members_by_specification(self) -> None:
        members = self.tracker.members
        await members.add_many(founding_members())
        self.narrator.step(
            f"Added {await members.count()} members in one add_many; specifications select them:"
        )
        team = AttributeSpecification("team", "platform")
        active = AttributeSpecification("active", True)
        flight = AttributeSpecification("team", "flight")
        for spec in (team & active, flight | ~active):
            found = await members.find(spec, order_by="name")
            self.narrator.detail(f"{spec_text(spec)}  ->  {names(found)}")

    async def commands_with_validation(self) -> None:
        self.narrator.step(
            "Commands go through the mediator: validation, then retries, then the handler."
        )
        for task_id, title in [
            ("task-1", "Write the release notes"),
            ("task-2", "Plan the sprint"),
            ("task-3", "Fix the login bug"),
            ("task-4", "Check the flight plan"),
        ]:
            result = await self.send(OpenTask(task_id=task_id, title=title))
            self.narrator.detail(f"OpenTask {task_id} {title!r}: {self._outcome(result)}")
        result = await self.send(OpenTask(task_id="task-5", title=""))
        runs = self.tracker.commands.calls["OpenTask"]
        self.narrator.detail(
            f"OpenTask task-5 '': rejected before its handler ({result.error}); the handler "
            f"ran {runs} times for 5 commands"
        )

    async def assignments_in_units_of_work(self) -> None:
        together = (
            "one unit of work commits them in one transaction, or not at all"
            if self.tracker.units.atomic
            else "they are committed together, but not atomically here (see step 1)"
        )
        self.narrator.step(f"Assigning a task changes the task and its members; {together}:")
        for task_id, member_id in [
            ("task-1", "ada"),
            ("task-2", "ada"),
            ("task-3", "ada"),
            ("task-3", "linus"),
            ("task-3", "grace"),
            ("task-4", "katherine"),
        ]:
            await self._assign(task_id, member_id)
        self.moment = await self._last_event_time("task-2")
        await self._assign("task-2", "grace")

    async def retried_outage(self) -> None:
        tracker = self.tracker
        tracker.outage.fail_next()
        result = await self.send(CompleteTask(task_id="task-1"))
        attempts = tracker.outage.failures + tracker.commands.calls["CompleteTask"]
        self.narrator.step(
            "CompleteTask task-1 found the storage busy (a simulated TransientError); "
            f"RetryCommandMiddleware ran it again: {self._outcome(result)} after "
            f"{attempts} attempts{self._holders(result)}."
        )

    async def board_catches_up(self) -> None:
        runner = self.tracker.runner
        before = await runner.position()
        started = time.perf_counter()
        progress = await runner.catch_up()
        self.catch_up_seconds = time.perf_counter() - started
        self.narrator.step(
            f"ProjectionRunner fed the board from checkpoint {before}: "
            f"{plural(progress.events, 'event')} handled, checkpoint saved at position "
            f"{progress.position}. The board of open tasks:"
        )
        for line in board_lines(self.tracker.board.columns()):
            self.narrator.detail(line)
        again = await runner.catch_up()
        self.narrator.detail(
            f"Catching up again found {plural(again.events, 'new event')}; the checkpoint "
            f"stays at {again.position}."
        )

    async def cached_queries(self) -> None:
        tracker = self.tracker
        self.narrator.step("Queries go through the query bus, behind CachingQueryMiddleware:")
        await self._ask(ShowBoard())
        await self._ask(ShowBoard())
        await self._ask(ShowBoard(team="flight"))
        result = await self.send(RenameTask(task_id="task-2", title="Plan the 0.2 sprint"))
        self.narrator.detail(
            f"RenameTask task-2 'Plan the 0.2 sprint': {self._outcome(result)}; the write "
            f"invalidated {plural(tracker.invalidation.last_dropped, 'cached answer')}"
        )
        await self._ask(ShowBoard())

    async def time_travel(self) -> None:
        tasks = self.tracker.tasks
        self.narrator.step("task-2 as it was, rebuilt from its own events:")
        then = await tasks.load("task-2", at_version=1)
        self.narrator.detail(f"at version 1: {then.describe()}")
        if self.moment is not None:
            earlier = await tasks.load("task-2", as_of=self.moment)
            shown = self.moment.strftime("%H:%M:%S.%f UTC")
            self.narrator.detail(f"as of {shown}: {earlier.describe()}")
        now = await tasks.load("task-2")
        self.narrator.detail(f"now: {now.describe()}")

    async def stale_save_refused(self) -> None:
        tracker = self.tracker
        self.narrator.step("Two units of work load task-3 at the same version and change it:")
        try:
            async with tracker.units.begin() as mine:
                # Members first: their updates come before the append in the commit, so
                # the refused append has to undo writes already made in the transaction.
                grace = await member_in(mine, "grace")
                margaret = await member_in(mine, "margaret")
                task = await task_in(mine, "task-3")
                async with tracker.units.begin() as theirs:
                    their_copy = await task_in(theirs, "task-3")
                    their_copy.rename("Fix the login bug (urgent)")
                self.narrator.detail(
                    f"both loaded version {task.version}; the other one renames it and "
                    f"commits first: version {their_copy.version}"
                )
                hand_over(task, margaret, grace)
        except ConcurrencyError as conflict:
            self.conflicts += 1
            self.narrator.detail(
                f"this one hands it to Margaret: two member updates and an event in one "
                f"commit, which is refused: stream {conflict.stream_id!r} is at version "
                f"{conflict.actual}, the commit expected {conflict.expected}"
            )
        counts = [await tracker.members.get(name) for name in ("grace", "margaret")]
        task = await tracker.tasks.load("task-3")
        self.narrator.detail(
            f"none of it was written: {task.describe()}; "
            + ", ".join(f"{m.name} holds {plural(m.open_tasks, 'open task')}" for m in counts if m)
        )
        progress = await tracker.runner.catch_up()
        board = "; ".join(board_lines(tracker.board.columns()))
        self.narrator.detail(
            f"the board catches up with {plural(progress.events, 'new event')}: {board}"
        )

    async def summary(self) -> DemoSummary:
        tracker = self.tracker
        streams: set[str] = set()
        events = last_position = 0
        async for recorded in tracker.store.read_all():
            streams.add(recorded.stream_id)
            events += 1
            last_position = recorded.position
        results = self.results
        return DemoSummary(
            backend=tracker.backend.name,
            events=events,
            streams=len(streams),
            members=await tracker.members.count(),
            checkpoint=await tracker.runner.position(),
            last_position=last_position,
            commands=len(results),
            succeeded=sum(1 for r in results if r.success),
            rejected=sum(1 for r in results if r.problems),
            refused=sum(1 for r in results if not r.success and not r.problems),
            retried=tracker.outage.failures,
            queries=self.queries,
            cached=self.queries - tracker.queries.calls,
            conflicts=self.conflicts,
            seconds=time.perf_counter() - self.started,
            command_seconds=self.command_seconds,
            catch_up_seconds=self.catch_up_seconds,
        )

    # -- helpers ----------------------------------------------------------------------------

    async def _assign(self, task_id: str, member_id: str) -> None:
        result = await self.send(AssignTask(task_id=task_id, member_id=member_id))
        text = f"AssignTask {task_id} -> {member_id}: {self._outcome(result)}"
        if result.success:
            text += self._holders(result)
        else:
            version = await self.tracker.store.stream_version(task_id)
            text += f"; nothing was written, {task_id} stays at version {version}"
        self.narrator.detail(text)

    async def _ask(self, query: ShowBoard) -> None:
        queries = self.tracker.queries
        runs = queries.calls
        result = await self.tracker.mediator.send(query)
        self.queries += 1
        shown = "ShowBoard()" if query.team is None else f"ShowBoard(team={query.team!r})"
        if queries.calls == runs:
            how = "from the cache"
        else:
            progress = queries.last_catch_up
            caught = progress.events if progress is not None else 0
            how = f"by the handler, after catching up {plural(caught, 'new event')}"
        board = "; ".join(board_lines(result.data or {}))
        self.narrator.detail(f"{shown}: answered {how}: {board}")

    async def _last_event_time(self, task_id: str) -> datetime:
        history = await self.tracker.store.read_stream(task_id)
        return history[-1].event.timestamp

    @staticmethod
    def _holders(result: CommandResult) -> str:
        """``; Grace holds 2 open tasks, Ada holds 1 open task``: members the command changed."""
        changed = [result.data[role] for role in ("member", "previous") if role in result.data]
        return "".join(
            f"{'; ' if i == 0 else ', '}{m.name} holds {plural(m.open_tasks, 'open task')}"
            for i, m in enumerate(changed)
        )

    @staticmethod
    def _outcome(result: CommandResult) -> str:
        if not result.success:
            return f"refused: {result.error}"
        task: Any = result.data["task"]
        return f"ok, {task.id} at version {task.version}"
