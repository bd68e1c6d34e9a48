"""A child process for the subscription tests: appends numbered batches.

``python sqlite_appender.py DB WRITER BATCHES`` appends BATCHES batches (0 for no end) to
the SQLite file DB, printing each batch number once its append has returned. Batch ``n`` of
writer ``w`` holds ``1 + n % 5`` events, each of which records ``w``, ``n`` and the size, so
a reader can tell a whole batch from part of one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import sys

from victor_core import Event
from victor_sqlite import SQLiteEventStore


@dataclasses.dataclass
class BatchEvent(Event):
    __event_type__ = "victor.test.BatchEvent"
    writer: str = ""
    batch: int = 0
    index: int = 0
    size: int = 0


def batch_events(writer: str, batch: int) -> list[BatchEvent]:
    size = 1 + batch % 5
    return [BatchEvent(writer=writer, batch=batch, index=i, size=size) for i in range(size)]


async def main(path: str, writer: str, batches: int) -> None:
    store = SQLiteEventStore(path, busy_timeout=30)
    numbers = itertools.count() if batches == 0 else range(batches)
    for batch in numbers:
        await store.append(f"stream-{batch % 7}", batch_events(writer, batch))
        sys.stdout.write(f"{batch}\n")
        sys.stdout.flush()
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
