"""The read side: a board of open tasks per member, kept up to date from the events.

Queries never load aggregates; they read this projection, which a
:class:`~victor_core.ProjectionRunner` feeds from the store's global order and whose
position it checkpoints, so the board only ever reads the events it has not seen yet.
"""

from __future__ import annotations

from victor_core import Projection
from victor_core.backend import CheckpointStore
from victor_demo.domain import TaskAssigned, TaskCompleted, TaskOpened, TaskRenamed

#: The column of tasks nobody holds yet.
UNASSIGNED = "(unassigned)"


class TaskBoard(Projection):
    """Open tasks by the name of the member holding them, plus how many are done."""

    __projection_name__ = "victor.demo.task-board"

    def __init__(self) -> None:
        self.titles: dict[str, str] = {}
        self.holders: dict[str, str] = {}
        self.done: set[str] = set()

    async def reset(self) -> None:
        self.titles.clear()
        self.holders.clear()
        self.done.clear()

    def columns(self) -> dict[str, list[str]]:
        """Member name (or :data:`UNASSIGNED`) -> titles of their open tasks, sorted."""
        board: dict[str, list[str]] = {}
        for task_id, title in self.titles.items():
            if task_id not in self.done:
                board.setdefault(self.holders.get(task_id, UNASSIGNED), []).append(title)
        return {holder: sorted(titles) for holder, titles in sorted(board.items())}

    def handle_TaskOpened(self, event: TaskOpened) -> None:
        self.titles[event.aggregate_id] = event.title

    def handle_TaskAssigned(self, event: TaskAssigned) -> None:
        self.holders[event.aggregate_id] = event.member_name

    def handle_TaskRenamed(self, event: TaskRenamed) -> None:
        self.titles[event.aggregate_id] = event.title

    def handle_TaskCompleted(self, event: TaskCompleted) -> None:
        self.done.add(event.aggregate_id)


class CheckpointsInProcess(CheckpointStore):
    """Checkpoints for a backend that keeps none: held by this process, lost with it.

    Enough for a board that is itself rebuilt in memory at every start.
    """

    def __init__(self) -> None:
        self._positions: dict[str, int] = {}
        self._leases: dict[str, tuple[str, float]] = {}

    async def read_checkpoint(self, name: str) -> int | None:
        return self._positions.get(name)

    async def write_checkpoint(self, name: str, position: int) -> None:
        self._positions[name] = position

    async def read_checkpoints(self) -> dict[str, int]:
        return dict(self._positions)

    async def swap_checkpoint(self, name: str, expected: int, position: int) -> int | None:
        found = self._positions.get(name, 0)
        if found != expected:
            return found
        self._positions[name] = position
        return None

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        holder = self._leases.get(name)
        if holder is not None and holder[0] != owner and holder[1] > now:
            return False
        self._leases[name] = (owner, until)
        return True

    async def drop_lease(self, name: str, owner: str) -> None:
        if self._leases.get(name, ("", 0.0))[0] == owner:
            del self._leases[name]
