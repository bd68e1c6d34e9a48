"""Concurrent single-event appends on one SQLite file, against raw sqlite3 in the same run.

At ``synchronous=FULL`` each commit waits for the disk. Raw sqlite3 committing one
transaction per append pays that wait on every append, however many callers there are;
victor's :class:`~victor_sqlite.SQLiteDatabase` commits appends that arrive together in one
transaction (group commit), so concurrent appenders share the wait.

Contenders, each on its own file with WAL and synchronous=FULL, taking turns round by round
so that a slow spell of the shared machine falls on all of them alike:

- ``sqlite3``: one connection, one ``BEGIN IMMEDIATE`` ... ``COMMIT`` per append, the
  store's own SQL (imported from ``victor_sqlite.event_log``), blocking the loop;
- ``one hop``: the same, each append one call on aiosqlite's worker thread (what any store on
  aiosqlite that commits each append on its own pays);
- ``victor xN``: ``SQLiteEventStore.append`` from N concurrent tasks (1, 8 and 64), each
  appending one event at a time to its own stream.

Every contender makes APPENDS appends per round; a figure is the best round's appends per
second. Run ``python benchmarks/bench_group_commit.py [--appends N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite

from victor_core import Event
from victor_sqlite import SQLiteEventStore
from victor_sqlite.event_log import _HEAD as HEAD
from victor_sqlite.event_log import _INSERT as INSERT
from victor_sqlite.event_log import EVENTS

PRAGMAS = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA busy_timeout = 10000")
WRITERS = (1, 8, 64)
TARGET = 3.0  # issue 16: 64 writers at least 3x raw sqlite3's one transaction per append


@dataclasses.dataclass
class Pinged(Event):
    __event_type__ = "bench.Pinged"
    note: str = "bench"


def _append_one(connection: sqlite3.Connection, stream_id: str, row: tuple[object, ...]) -> None:
    connection.execute("BEGIN IMMEDIATE")
    version, position = connection.execute(HEAD, (stream_id,)).fetchone()
    connection.execute(INSERT, ((position or 0) + 1, stream_id, (version or 0) + 1, *row))
    connection.execute("COMMIT")


def _row() -> tuple[object, ...]:
    event = Pinged()
    payload = f'{{"id":"{event.id}","timestamp":"{event.timestamp.isoformat()}","note":"bench"}}'
    return (event.id, "bench.Pinged", 1, payload, event.timestamp.isoformat())


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        connection.execute(pragma)
    for statement in EVENTS.statements:
        connection.execute(statement)
    return connection


async def raw_sqlite(path: Path, appends: int) -> None:
    connection = _connect(path)
    for n in range(appends):
        _append_one(connection, f"s-{n % 64}", _row())
    connection.close()


async def one_hop(path: Path, appends: int) -> None:
    _connect(path).close()
    async with aiosqlite.connect(path, isolation_level=None) as db:
        for pragma in PRAGMAS:
            await db.execute(pragma)
        for n in range(appends):
            await db._execute(_append_one, db._conn, f"s-{n % 64}", _row())


def victor(writers: int) -> Callable[[Path, int], Awaitable[None]]:
    async def run(path: Path, appends: int) -> None:
        store = SQLiteEventStore(path)
        await store.append("warm-up", Pinged())  # opens the file and creates the table

        async def writer(w: int) -> None:
            for _ in range(appends // writers):
                await store.append(f"s-{w}", Pinged())

        await asyncio.gather(*(writer(w) for w in range(writers)))
        await store.close()

    return run


async def measure(appends: int, rounds: int) -> None:
    contenders: dict[str, Callable[[Path, int], Awaitable[None]]] = {
        "sqlite3": raw_sqlite,
        "one hop": one_hop,
        **{f"victor x{w}": victor(w) for w in WRITERS},
    }
    best: dict[str, float] = dict.fromkeys(contenders, float("inf"))
    with tempfile.TemporaryDirectory(prefix="victor-bench-group-") as scratch:
        for round_ in range(rounds):
            names = list(contenders)
            names = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in names:
                path = Path(scratch) / f"{name.replace(' ', '-')}-{round_}.db"
                started = time.perf_counter()
                await contenders[name](path, appends)
                best[name] = min(best[name], time.perf_counter() - started)
    rate = {name: appends / seconds for name, seconds in best.items()}
    print(f"Concurrent single-event appends, synchronous=FULL, {appends} appends, best of {rounds}")
    print(f"{'contender':<12} {'appends/s':>10} {'vs sqlite3':>11} {'vs one hop':>11}")
    for name, value in rate.items():
        print(
            f"{name:<12} {value:>10,.0f} {value / rate['sqlite3']:>10.2f}x "
            f"{value / rate['one hop']:>10.2f}x"
        )
    ratio = rate["victor x64"] / rate["sqlite3"]
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"64 writers: {ratio:.2f}x raw sqlite3 ({verdict} the {TARGET:.1f}x target)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(measure(args.appends, args.rounds))


if __name__ == "__main__":
    main()
