"""A child process for the multi-process and crash tests: appends numbered batches.

``python postgres_appender.py URL WRITER BATCHES [hold]`` appends BATCHES batches (0: no
end) to the database at URL, printing each batch number once its append has returned. Batch
``n`` holds ``1 + n % 5`` events recording the writer, ``n`` and the size, alternately in the
writer's own stream and in a stream all writers share. With ``hold``, it then appends one
more batch inside a transaction that it never commits, prints ``holding`` and waits to be
killed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import sys

from victor_core import Event
from victor_core.backend import StreamState
from victor_postgres import PostgresEventStore, append_in
from victor_postgres.database import Connection


@dataclasses.dataclass
class BatchEvent(Event):
    __event_type__ = "victor.test.postgres.BatchEvent"
    writer: str = ""
    batch: int = 0
    index: int = 0
    size: int = 0


def batch_events(writer: str, batch: int) -> list[BatchEvent]:
    size = 1 + batch % 5
    return [BatchEvent(writer=writer, batch=batch, index=i, size=size) for i in range(size)]


async def main(url: str, writer: str, batches: int, hold: bool) -> None:
    store = PostgresEventStore(url, max_size=2)
    numbers = range(batches) if batches else itertools.count()
    for batch in numbers:
        stream = writer if batch % 2 else "shared"
        await store.append(stream, batch_events(writer, batch))
        sys.stdout.write(f"{batch}\n")
        sys.stdout.flush()
    if hold:

        async def never_commit(connection: Connection) -> None:
            events = batch_events(writer, batches)
            records = [store.serializer.serialize(e, writer) for e in events]
            await append_in(connection, writer, records, StreamState.ANY)
            sys.stdout.write("holding\n")
            sys.stdout.flush()
            await asyncio.Event().wait()

        await store.database.write(never_commit)
    await store.close()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    asyncio.run(main(arguments[0], arguments[1], int(arguments[2]), "hold" in arguments[3:]))
