"""SQLiteEventStore throughput, as ratios to raw drivers doing the same SQL in the same run.

Three workloads, each file with the same durability (WAL, synchronous=FULL):

- append: STREAMS streams of EVENTS events, one append (one transaction) per stream;
- load: every aggregate rebuilt from its stream;
- read_all: the whole log in global order, in pages of PAGE records.

The baselines run the store's own SQL (BEGIN IMMEDIATE, the version and position check, one
executemany, COMMIT; the same SELECTs) and do the least a hand-written store must do with the
rows: encode the payload as JSON on the way in, decode it on the way out.

- ``sqlite3``: the driver called directly, blocking the event loop while it waits on disk.
- ``one hop``: the same functions of a ``sqlite3.Connection``, each operation run in one
  call on aiosqlite's worker thread: the least any store on aiosqlite can pay.
- ``aiosqlite``: one ``await`` per statement, the way aiosqlite's API invites.

victor's figures include everything a user gets: event classes serialized through cattrs,
one thread hop per operation, events deserialized into their classes and applied to
aggregates. Run ``python benchmarks/bench_event_store.py [--streams N] [--events N]
[--rounds N]``; each figure is the best of ``--rounds`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

from victor_core import Aggregate, AggregateRepository, Event
from victor_sqlite import SQLiteEventStore
from victor_sqlite.event_log import EVENTS

PAGE = 500
PRAGMAS = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA busy_timeout = 10000")
COLUMNS = "position, stream_id, version, event_id, type_name, schema_version, data, timestamp"
HEAD = (
    "SELECT (SELECT MAX(version) FROM victor_events WHERE stream_id = ?),"
    " (SELECT MAX(position) FROM victor_events)"
)
INSERT = f"INSERT INTO victor_events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
READ_STREAM = (
    f"SELECT {COLUMNS} FROM victor_events WHERE stream_id = ? AND version BETWEEN ? AND ?"
    " ORDER BY version LIMIT ?"
)
READ_ALL = f"SELECT {COLUMNS} FROM victor_events WHERE position >= ? ORDER BY position LIMIT ?"
KINDS = ("victor", "sqlite3", "one hop", "aiosqlite")

Work = list[tuple[str, list["ItemAdded"]]]
Row = tuple[Any, ...]


@dataclasses.dataclass
class ItemAdded(Event):
    __event_type__ = "bench.ItemAdded"
    sku: str = ""
    quantity: int = 0
    note: str = ""


class Cart(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, int] = {}

    def _apply_ItemAdded(self, event: ItemAdded) -> None:
        self.id = event.aggregate_id
        self.items[event.sku] = self.items.get(event.sku, 0) + event.quantity


def workload(streams: int, events: int) -> Work:
    return [
        (
            f"cart-{s}",
            [ItemAdded(sku=f"sku-{e}", quantity=e + 1, note="bench") for e in range(events)],
        )
        for s in range(streams)
    ]


# What a hand-written store does: plain functions of a sqlite3 connection. -----------------


def encode(stream_id: str, events: list[ItemAdded]) -> list[Row]:
    """The rows to insert, positions and versions still to be filled in: payloads as JSON."""
    return [
        (
            stream_id,
            event.id,
            "bench.ItemAdded",
            1,
            json.dumps(
                {
                    "id": event.id,
                    "timestamp": event.timestamp.isoformat(),
                    "aggregate_id": stream_id,
                    "sku": event.sku,
                    "quantity": event.quantity,
                    "note": event.note,
                }
            ),
            event.timestamp.isoformat(timespec="microseconds"),
        )
        for event in events
    ]


def append_txn(connection: sqlite3.Connection, stream_id: str, rows: list[Row]) -> None:
    connection.execute("BEGIN IMMEDIATE")
    version, position = connection.execute(HEAD, (stream_id,)).fetchone()
    if version:
        raise AssertionError("the stream already exists")
    first = (position or 0) + 1
    connection.executemany(
        INSERT, [(first + i, row[0], 1 + i, *row[1:]) for i, row in enumerate(rows)]
    )
    connection.execute("COMMIT")


def read_stream_rows(connection: sqlite3.Connection, stream_id: str) -> list[Row]:
    return connection.execute(READ_STREAM, (stream_id, 1, 2**63 - 1, -1)).fetchall()


def read_page_rows(connection: sqlite3.Connection, position: int) -> list[Row]:
    return connection.execute(READ_ALL, (position, PAGE)).fetchall()


def decode(rows: list[Row]) -> None:
    for row in rows:
        json.loads(row[6])


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        connection.execute(pragma)
    return connection


def create_schema(path: Path) -> None:
    connection = connect(path)
    for statement in EVENTS.statements:
        connection.execute(statement)
    connection.close()


# The four ways of doing each workload. ------------------------------------------------------


async def append_with(kind: str, path: Path, work: Work) -> None:
    if kind == "victor":
        async with SQLiteEventStore(path) as store:
            for stream_id, events in work:
                await store.append(stream_id, events, expected_version=0)
        return
    create_schema(path)
    if kind == "sqlite3":
        connection = connect(path)
        for stream_id, events in work:
            append_txn(connection, stream_id, encode(stream_id, events))
        connection.close()
        return
    async with aiosqlite.connect(path, isolation_level=None) as db:
        for pragma in PRAGMAS:
            await db.execute(pragma)
        for stream_id, events in work:
            rows = encode(stream_id, events)
            if kind == "one hop":
                await db._execute(append_txn, db._conn, stream_id, rows)
                continue
            await db.execute("BEGIN IMMEDIATE")
            async with db.execute(HEAD, (stream_id,)) as cursor:
                head = await cursor.fetchone()
            assert head is not None
            first = (head[1] or 0) + 1
            await db.executemany(
                INSERT, [(first + i, row[0], 1 + i, *row[1:]) for i, row in enumerate(rows)]
            )
            await db.execute("COMMIT")


async def load_with(kind: str, path: Path, stream_ids: list[str]) -> None:
    if kind == "victor":
        async with SQLiteEventStore(path) as store:
            repository = AggregateRepository(store, Cart)
            for stream_id in stream_ids:
                await repository.load(stream_id)
    elif kind == "sqlite3":
        connection = connect(path)
        for stream_id in stream_ids:
            decode(read_stream_rows(connection, stream_id))
        connection.close()
    else:
        async with aiosqlite.connect(path, isolation_level=None) as db:
            for stream_id in stream_ids:
                if kind == "one hop":
                    decode(await db._execute(read_stream_rows, db._conn, stream_id))
                else:
                    decode(
                        list(await db.execute_fetchall(READ_STREAM, (stream_id, 1, 2**63 - 1, -1)))
                    )


async def read_all_with(kind: str, path: Path) -> int:
    if kind == "victor":
        async with SQLiteEventStore(path) as store:
            return len([r async for r in store.read_all(page_size=PAGE)])
    if kind == "sqlite3":
        connection = connect(path)

        async def page_sqlite3(position: int) -> list[Row]:
            return read_page_rows(connection, position)

        try:
            return await count_pages(page_sqlite3)
        finally:
            connection.close()
    async with aiosqlite.connect(path, isolation_level=None) as db:

        async def page_aiosqlite(position: int) -> list[Row]:
            if kind == "one hop":
                rows: list[Row] = await db._execute(read_page_rows, db._conn, position)
                return rows
            return list(await db.execute_fetchall(READ_ALL, (position, PAGE)))

        return await count_pages(page_aiosqlite)


async def count_pages(fetch: Callable[[int], Awaitable[list[Row]]]) -> int:
    count, position = 0, 1
    while True:
        rows = await fetch(position)
        decode(rows)
        count += len(rows)
        if len(rows) < PAGE:
            return count
        position = rows[-1][0] + 1


# Measuring. -----------------------------------------------------------------------------------


def seconds(action: Callable[[], Awaitable[object]]) -> float:
    async def measure() -> float:
        start = time.perf_counter()
        await action()
        return time.perf_counter() - start

    return asyncio.run(measure())


def best_of(rounds: int, measure: Callable[[str], Awaitable[object]]) -> dict[str, float]:
    """The fastest of *rounds* runs of each kind; rounds alternate kinds, so a slow spell of
    the machine (a busy disk, another process) does not fall on one kind only."""
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(rounds):
        for kind in KINDS:
            timings[kind].append(seconds(lambda kind=kind: measure(kind)))
    return {kind: min(values) for kind, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    arguments, _ = parser.parse_known_args()
    streams, per_stream, rounds = arguments.streams, arguments.events, arguments.rounds
    work = workload(streams, per_stream)
    stream_ids = [stream_id for stream_id, _ in work]
    total = streams * per_stream

    with tempfile.TemporaryDirectory(prefix="victor-bench-") as scratch:
        files = (Path(scratch) / f"bench-{n}.db" for n in range(10**6))
        append = best_of(rounds, lambda kind: append_with(kind, next(files), work))
        shared = next(files)  # written by the store, read by everyone
        asyncio.run(append_with("victor", shared, work))
        counts = {kind: asyncio.run(read_all_with(kind, shared)) for kind in KINDS}
        if set(counts.values()) != {total}:
            raise AssertionError(f"read_all found different numbers of events: {counts}")
        load = best_of(rounds, lambda kind: load_with(kind, shared, stream_ids))
        read_all = best_of(rounds, lambda kind: read_all_with(kind, shared))

    table = [
        (f"append {streams} streams x {per_stream} events", "appends/s", streams, append),
        (f"load {streams} aggregates of {per_stream} events", "loads/s", streams, load),
        (f"read_all {total} events, pages of {PAGE}", "events/s", total, read_all),
    ]
    print(
        f"SQLiteEventStore vs the same SQL on raw drivers (WAL, synchronous=FULL, best of {rounds})"
    )
    header = f"{'workload':<38} {'unit':<9} {'victor':>8}" + "".join(
        f" {kind:>10} {'ratio':>6}" for kind in KINDS[1:]
    )
    print(header)
    print("-" * len(header))
    for name, unit, count, timing in table:
        rate = {kind: count / timing[kind] for kind in KINDS}
        cells = "".join(
            f" {rate[kind]:>10,.0f} {rate['victor'] / rate[kind]:>5.2f}x" for kind in KINDS[1:]
        )
        print(f"{name:<38} {unit:<9} {rate['victor']:>8,.0f}{cells}")
    ratio = append["sqlite3"] / append["victor"]
    floor = append["sqlite3"] / append["one hop"]
    verdict = "met" if ratio >= 0.7 else "not met"
    print(
        f"\nappend: {ratio:.2f}x raw sqlite3 (target 0.70x: {verdict}); the same SQL with one "
        f"thread hop per append and no victor code at all: {floor:.2f}x on this machine"
    )


if __name__ == "__main__":
    main()
