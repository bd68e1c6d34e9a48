"""A child process for the exactly-once crash test: a projection with its read model in SQLite.

``python sqlite_tally_runner.py DB`` follows the log of the SQLite file DB with a runner
whose projection keeps a ``Tally`` entity in the same file; each batch's entity update and
checkpoint commit in one transaction. After each committed batch it prints the checkpoint
(one position a line), so that the test can kill it at a point of its progress rather than
of the clock. It runs until killed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys

from victor_core import Entity, Projection, ProjectionProgress, ProjectionRunner, UnitOfWork
from victor_sqlite import SQLiteDatabase, SQLiteEventStore, SQLiteRepository

PROJECTION = "tally"


@dataclasses.dataclass
class Tally(Entity):
    __entity_name__ = "test_tally"
    positions: list[int] = dataclasses.field(default_factory=list)


class Tallying(Projection):
    __projection_name__ = PROJECTION

    async def handle(self, event: object) -> None:
        uow = self.unit_of_work
        assert uow is not None
        tally = await uow.get(Tally, "tally")
        if tally is None:
            tally = Tally(id="tally")
            uow.register_new(tally)
        tally.positions.append(event.batch)
        await asyncio.sleep(0.005)  # slow enough for a kill to land inside a batch


async def main(path: str) -> None:
    database = SQLiteDatabase(path, busy_timeout=30)
    store = SQLiteEventStore(database)
    tallies = SQLiteRepository(Tally, database)

    def unit_of_work() -> UnitOfWork:
        uow = UnitOfWork()
        uow.register_repository(tallies, Tally)
        return uow

    from sqlite_appender import BatchEvent  # noqa: F401 - registers the event type

    def report(progress: ProjectionProgress) -> None:
        sys.stdout.write(f"{progress.position}\n")
        sys.stdout.flush()

    runner = ProjectionRunner(
        store,
        Tallying(),
        unit_of_work=unit_of_work,
        batch_size=4,
        poll_interval=0.05,
        on_progress=report,
    )
    await runner.run_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
