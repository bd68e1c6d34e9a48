"""SQLiteRepository against raw aiosqlite on the same data, in the same run.

Run with ``python benchmarks/bench_repository.py`` (``--count 20000`` for a quicker run).
Each repository operation is measured beside the hand-written aiosqlite code it replaces:

- ``add_many`` of every entity in one batch, against ``executemany`` of JSON documents;
- ``get`` by id, against ``SELECT document ... WHERE id = ?``;
- ``find`` on an indexed attribute, against the same SELECT on an expression index;
- ``find`` on an attribute without an index (a full scan), against the same raw scan.

The baselines do not decode what they read, so the ratios include all of victor's work:
compiling the specification and turning rows back into entities. Absolute numbers depend on
the machine; the ratios hold anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from victor_core import AttributeSpecification, Entity
from victor_sqlite import SQLiteRepository


@dataclass
class User(Entity):
    name: str = ""
    email: str = ""
    age: int = 0
    active: bool = True
    city: str = ""


def users(count: int) -> list[User]:
    return [
        User(
            id=f"user-{n:07}",
            name=f"name-{n}",
            email=f"user{n}@example.com",
            age=n % 90,
            active=n % 3 != 0,
            city=f"city-{n % 100}",
        )
        for n in range(count)
    ]


async def seconds_per_op(
    operation: Callable[[int], Awaitable[object]], number: int, repeat: int
) -> float:
    """The median over *repeat* runs of the time per call of ``operation(i)``."""
    for i in range(max(1, number // 10)):  # warm up caches, connections, the interpreter
        await operation(i)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(number):
            await operation(i)
        runs.append((time.perf_counter() - started) / number)
    return statistics.median(runs)


async def timed(operation: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await operation()
    return time.perf_counter() - started


def document(user: User) -> str:
    return json.dumps(
        {
            "id": user.id,
            "created_at": user.created_at.isoformat(),
            "updated_at": user.updated_at.isoformat(),
            "name": user.name,
            "email": user.email,
            "age": user.age,
            "active": user.active,
            "city": user.city,
        },
        separators=(",", ":"),
    )


async def main(count: int, lookups: int, scans: int, repeat: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="victor-bench-"))
    population = users(count)
    picks = [random.Random(7).randrange(count) for _ in range(lookups)]

    repo = SQLiteRepository(User, workdir / "victor.db", indexes=["email"])
    raw = await aiosqlite.connect(workdir / "raw.db", isolation_level=None)
    await raw.execute("PRAGMA journal_mode = WAL")
    await raw.execute("PRAGMA synchronous = FULL")
    await raw.execute("CREATE TABLE raw (id TEXT PRIMARY KEY, document TEXT NOT NULL)")
    await raw.execute("CREATE INDEX raw_email ON raw (json_extract(document, '$.email'))")

    async def raw_bulk_insert() -> None:
        await raw.execute("BEGIN IMMEDIATE")
        await raw.executemany(
            "INSERT INTO raw (id, document) VALUES (?, ?)",
            [(user.id, document(user)) for user in population],
        )
        await raw.execute("COMMIT")

    add_raw = await timed(raw_bulk_insert)
    add_victor = await timed(lambda: repo.add_many(population))

    async def raw_get(i: int) -> object:
        sql = "SELECT document FROM raw WHERE id = ?"
        async with raw.execute(sql, (population[picks[i]].id,)) as cursor:
            return await cursor.fetchone()

    async def victor_get(i: int) -> object:
        return await repo.get(population[picks[i]].id)

    async def raw_find_email(i: int) -> object:
        sql = "SELECT id, document FROM raw WHERE json_extract(document, '$.email') = ?"
        async with raw.execute(sql, (population[picks[i]].email,)) as cursor:
            return await cursor.fetchall()

    async def victor_find_email(i: int) -> object:
        return await repo.find(AttributeSpecification("email", population[picks[i]].email))

    async def raw_find_name(i: int) -> object:
        sql = "SELECT id, document FROM raw WHERE json_extract(document, '$.name') = ?"
        async with raw.execute(sql, (population[picks[i]].name,)) as cursor:
            return await cursor.fetchall()

    async def victor_find_name(i: int) -> object:
        return await repo.find(AttributeSpecification("name", population[picks[i]].name))

    rows = [
        (f"add_many, {count:,} entities (s)", add_victor, add_raw, 1.0),
        (
            "get by id (µs)",
            await seconds_per_op(victor_get, lookups, repeat),
            await seconds_per_op(raw_get, lookups, repeat),
            1e6,
        ),
        (
            "find, indexed attribute (µs)",
            await seconds_per_op(victor_find_email, lookups, repeat),
            await seconds_per_op(raw_find_email, lookups, repeat),
            1e6,
        ),
        (
            "find, no index: full scan (ms)",
            await seconds_per_op(victor_find_name, scans, repeat),
            await seconds_per_op(raw_find_name, scans, repeat),
            1e3,
        ),
    ]
    await repo.close()
    await raw.close()

    print(f"SQLiteRepository vs raw aiosqlite, {count:,} entities, WAL, synchronous=FULL")
    print(f"{'operation':<34} {'victor':>12} {'raw':>12} {'ratio':>8}")
    for name, ours, theirs, unit in rows:
        print(f"{name:<34} {ours * unit:>12.2f} {theirs * unit:>12.2f} {ours / theirs:>7.2f}x")
    indexed, scanned = rows[2][1], rows[3][1]
    print(f"an indexed find takes 1/{scanned / indexed:,.0f} of the time of a full scan")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="entities stored")
    parser.add_argument("--lookups", type=int, default=2_000, help="gets and indexed finds")
    parser.add_argument("--scans", type=int, default=5, help="unindexed finds (full scans)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    return parser.parse_args()


if __name__ == "__main__":
    options = arguments()
    asyncio.run(main(options.count, options.lookups, options.scans, options.repeat))
