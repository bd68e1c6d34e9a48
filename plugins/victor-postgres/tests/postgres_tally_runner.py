"""A child process for the exactly-once crash test: a projection with its read model in PostgreSQL.

``python postgres_tally_runner.py URL`` follows the log at URL with a runner whose projection
keeps a ``Tally`` entity in the same database; each batch's entity update and checkpoint
commit in one transaction. After each committed batch it prints the checkpoint (one
position a line), so that the test can kill it at a point of its progress rather than of
the clock. It runs until killed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys

from postgres_appender import BatchEvent

from victor_core import Entity, Projection, ProjectionProgress, ProjectionRunner, UnitOfWork
from victor_postgres import PostgresEventStore, PostgresRepository

PROJECTION = "tally"


@dataclasses.dataclass
class Tally(Entity):
    __entity_name__ = "test_tally"
    batches: list[int] = dataclasses.field(default_factory=list)


class Tallying(Projection):
    __projection_name__ = PROJECTION

    async def handle(self, event: object) -> None:
        assert isinstance(event, BatchEvent)
        uow = self.unit_of_work
        assert uow is not None
        tally = await uow.get(Tally, "tally")
        if tally is None:
            tally = Tally(id="tally")
            uow.register_new(tally)
        tally.batches.append(event.batch)
        await asyncio.sleep(0.005)  # slow enough for a kill to land inside a batch


async def main(url: str) -> None:
    store = PostgresEventStore(url, max_size=2)
    tallies = PostgresRepository(Tally, url, max_size=2)

    def unit_of_work() -> UnitOfWork:
        uow = UnitOfWork()
        uow.register_repository(tallies, Tally)
        return uow

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
