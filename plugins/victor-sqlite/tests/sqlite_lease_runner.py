"""A child process for the lease tests: runs one projection with a lease until killed.

``python sqlite_lease_runner.py DB OWNER LEASE`` follows the log of the SQLite file DB with
a ProjectionRunner named "leased" holding a LEASE-second lease, printing ``handled N`` for
each event it hands over and ``committed N`` for each checkpoint it commits (after
``started 0`` once the file is open).
"""

from __future__ import annotations

import asyncio
import sys

from sqlite_appender import BatchEvent

from victor_core import Event, Projection, ProjectionProgress, ProjectionRunner
from victor_sqlite import SQLiteEventStore


class Printed(Projection):
    __projection_name__ = "leased"

    async def handle(self, event: Event) -> None:
        assert isinstance(event, BatchEvent)
        sys.stdout.write(f"handled {event.id}\n")
        sys.stdout.flush()


def committed(progress: ProjectionProgress) -> None:
    sys.stdout.write(f"committed {progress.position}\n")
    sys.stdout.flush()


async def main(path: str, owner: str, lease: float) -> None:
    store = SQLiteEventStore(path, busy_timeout=30)
    runner = ProjectionRunner(
        store,
        Printed(),
        lease=lease,
        owner=owner,
        poll_interval=0.05,
        batch_size=5,
        on_progress=committed,
    )
    await store.stream_version("s")  # opened: the parent may start appending
    sys.stdout.write("started 0\n")
    sys.stdout.flush()
    await runner.run_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
