"""PostgresEventStore against eventsourcing's PostgreSQL module and raw asyncpg, in one run.

Two parts, each contender in a database of its own on the same server (``VICTOR_POSTGRES_URL``,
by default the local one), created and dropped by this script:

1. **save and load**: AGGREGATES aggregates of EVENTS events, each saved with one save (one
   transaction), then each loaded. Contenders: victor (``AggregateRepository`` over
   ``PostgresEventStore``: events serialized through cattrs, rebuilt into aggregates),
   eventsourcing 9's ``Application`` on its ``eventsourcing.postgres`` persistence module
   (psycopg 3), and raw asyncpg running victor's own SQL (imported from
   ``victor_postgres.event_log``) on asyncpg's own pool, with plain JSON encoding and no
   event classes: what a store written straight on asyncpg would pay. The work is cut into
   slices that the contenders take in turns (the first one rotates), so that a slow spell
   of the shared machine falls on all of them alike.
2. **concurrent appends to different streams** at 1, 8 and 32 writers (a pool of that many
   connections), appends per second, for the ordering designs considered for global
   positions (see docs/postgres.md): victor's (positions from transaction ids, one
   ``INSERT`` per append; with and without ``NOTIFY``), a commit-ordered counter (a row
   lock on one counter, taken in every appending transaction), and a table lock (``LOCK
   TABLE ... IN EXCLUSIVE MODE``, as eventsourcing does).

Run ``python benchmarks/bench_postgres.py [--aggregates N] [--events N] [--appends N]
[--repeat N]``; with ``--repeat 3`` it also prints the median of the three runs, the figure
that docs/postgres.md quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg

from victor_core import Aggregate, AggregateRepository, Event
from victor_postgres import PostgresEventStore
from victor_postgres.event_log import _APPEND as APPEND
from victor_postgres.event_log import _READ_STREAM as READ_STREAM
from victor_postgres.event_log import EVENTS
from victor_postgres.provisioning import create_database, database_url, drop_database, unique_name

SLICE = 100
LARGEST = 2**63 - 1
WRITERS = (1, 8, 32)


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

    def add(self, sku: str, quantity: int) -> None:
        self.apply(ItemAdded(sku=sku, quantity=quantity, note="bench"))

    def _apply_ItemAdded(self, event: ItemAdded) -> None:
        self.items[event.sku] = self.items.get(event.sku, 0) + event.quantity


# Part 1: save and load. ----------------------------------------------------------------------


class Victor:
    name = "victor"

    async def open(self, url: str) -> None:
        self.store = PostgresEventStore(url, notify=False)
        self.repository = AggregateRepository(self.store, Cart)

    async def save(self, ids: list[str], events: int) -> None:
        for cart_id in ids:
            cart = Cart()
            cart.id = cart_id
            for e in range(events):
                cart.add(f"sku-{e}", e + 1)
            await self.repository.save(cart)

    async def load(self, ids: list[str], events: int) -> None:
        for cart_id in ids:
            cart = await self.repository.load(cart_id)
            assert cart.version == events

    async def close(self) -> None:
        await self.store.close()


JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


async def _no_reset(connection: Any) -> None:
    """As victor's pool: no reset statement when a connection is returned."""


class RawAsyncpg:
    """victor's SQL on asyncpg's pool, with plain JSON in and out: a store straight on asyncpg."""

    name = "raw asyncpg"

    async def open(self, url: str) -> None:
        self.pool = await asyncpg.create_pool(url, min_size=1, max_size=2, reset=_no_reset)
        async with self.pool.acquire() as connection:
            for statement in EVENTS.statements:
                await connection.execute(statement)

    async def save(self, ids: list[str], events: int) -> None:
        for cart_id in ids:
            async with self.pool.acquire() as connection:  # one borrow per operation, as a store
                columns: tuple[list[Any], ...] = ([], [], [], [], [])
                for e in range(events):
                    event = ItemAdded(sku=f"sku-{e}", quantity=e + 1, note="bench")
                    columns[0].append(event.id)
                    columns[1].append("bench.ItemAdded")
                    columns[2].append(1)
                    payload = {
                        "id": event.id,
                        "timestamp": event.timestamp.isoformat(),
                        "aggregate_id": cart_id,
                        "sku": event.sku,
                        "quantity": event.quantity,
                        "note": event.note,
                    }
                    columns[3].append(JSON.encode(payload))
                    columns[4].append(event.timestamp)
                row = await connection.fetchrow(APPEND, cart_id, -2, *columns, False)
                assert row is not None
                assert row[3] == events

    async def load(self, ids: list[str], events: int) -> None:
        for cart_id in ids:
            async with self.pool.acquire() as connection:
                rows = await connection.fetch(READ_STREAM, cart_id, 1, LARGEST, None)
                items: dict[str, int] = {}
                for row in rows:
                    data = json.loads(row[6])
                    items[data["sku"]] = items.get(data["sku"], 0) + data["quantity"]
                assert len(rows) == events

    async def close(self) -> None:
        await self.pool.close()


def _es_cart_class() -> Any:
    from eventsourcing.domain import Aggregate as EsAggregate
    from eventsourcing.domain import event

    class EsCart(EsAggregate):  # type: ignore[misc]
        def __init__(self, name: str) -> None:
            self.items: dict[str, int] = {}

        @staticmethod
        def create_id(name: str) -> UUID:
            return uuid5(NAMESPACE_URL, f"/carts/{name}")

        @event("ItemAdded")  # type: ignore[misc]
        def add(self, sku: str, quantity: int, note: str) -> None:
            self.items[sku] = self.items.get(sku, 0) + quantity

    return EsCart


class EventSourcing:
    """eventsourcing's Application on its PostgreSQL module (blocking psycopg, in a thread)."""

    name = "eventsourcing"

    #: The aggregate class, made once: eventsourcing refuses a second class for its topic.
    cart_class: Any = None

    async def open(self, url: str) -> None:
        from eventsourcing.application import Application

        if EventSourcing.cart_class is None:
            EventSourcing.cart_class = _es_cart_class()
        authority = url.split("://", 1)[1].split("/", 1)[0]
        user, _, hostport = authority.rpartition("@")
        host, _, port = hostport.partition(":")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.rsplit("/", 1)[1],
            "POSTGRES_HOST": host,
            "POSTGRES_PORT": port or "5432",
            "POSTGRES_USER": user or "postgres",
            "POSTGRES_PASSWORD": "",
        }
        self.app = await asyncio.to_thread(Application, env=env)

    async def save(self, ids: list[str], events: int) -> None:
        def work() -> None:
            for name in ids:
                cart = self.cart_class(name)
                for e in range(events - 1):  # the created event is the first of EVENTS
                    cart.add(f"sku-{e}", e + 1, "bench")
                self.app.save(cart)

        await asyncio.to_thread(work)

    async def load(self, ids: list[str], events: int) -> None:
        def work() -> None:
            for name in ids:
                cart = self.app.repository.get(self.cart_class.create_id(name))
                assert cart.version == events

        await asyncio.to_thread(work)

    async def close(self) -> None:
        await asyncio.to_thread(self.app.close)


async def save_and_load(server: str, aggregates: int, events: int) -> dict[str, dict[str, float]]:
    contenders = [Victor(), EventSourcing(), RawAsyncpg()]
    names = [unique_name("victor_bench") for _ in contenders]
    for name in names:
        await create_database(name, server)
    timings = {c.name: {"save": 0.0, "load": 0.0} for c in contenders}
    try:
        for contender, name in zip(contenders, names, strict=True):
            await contender.open(database_url(name, server))
        ids = [f"cart-{n}" for n in range(aggregates)]
        slices = [ids[i : i + SLICE] for i in range(0, len(ids), SLICE)]
        for phase in ("save", "load"):
            for turn, chunk in enumerate(slices):
                order = contenders[turn % len(contenders) :] + contenders[: turn % len(contenders)]
                for contender in order:
                    started = time.perf_counter()
                    await getattr(contender, phase)(chunk, events)
                    timings[contender.name][phase] += time.perf_counter() - started
        for contender in contenders:
            await contender.close()
    finally:
        for name in names:
            await drop_database(name, server)
    return timings


# Part 2: concurrent appends to different streams. --------------------------------------------

COUNTER_SCHEMA = (
    "CREATE TABLE bench_events (position bigint PRIMARY KEY, stream_id text NOT NULL,"
    " version bigint NOT NULL, data json NOT NULL, UNIQUE (stream_id, version))",
    "CREATE TABLE bench_counter (n bigint NOT NULL)",
    "INSERT INTO bench_counter VALUES (0)",
)
COUNTER_APPEND = (
    "WITH c AS (UPDATE bench_counter SET n = n + 1 RETURNING n)"
    " INSERT INTO bench_events SELECT c.n, $1, $2, $3::json FROM c"
)
TABLE_LOCK_APPEND = (
    "INSERT INTO bench_events SELECT coalesce(max(position), 0) + 1, $1, $2, $3::json"
    " FROM bench_events"
)

Append = Callable[[int, int], Awaitable[None]]


async def victor_appender(url: str, writers: int, notify: bool) -> tuple[Append, Any]:
    store = PostgresEventStore(url, max_size=writers, min_size=writers, notify=notify)

    async def append(writer: int, n: int) -> None:
        await store.append(f"w{writer}-{n}", ItemAdded(sku="s", quantity=n), expected_version=0)

    return append, store.close


async def raw_appender(url: str, writers: int, design: str) -> tuple[Append, Any]:
    pool = await asyncpg.create_pool(url, min_size=writers, max_size=writers)
    async with pool.acquire() as connection:
        for statement in COUNTER_SCHEMA:
            await connection.execute(statement)
    payload = JSON.encode({"sku": "s", "quantity": 1})

    async def append(writer: int, n: int) -> None:
        async with pool.acquire() as connection, connection.transaction():
            if design == "counter":
                await connection.execute(COUNTER_APPEND, f"w{writer}-{n}", 1, payload)
            else:
                await connection.execute("LOCK TABLE bench_events IN EXCLUSIVE MODE")
                await connection.execute(TABLE_LOCK_APPEND, f"w{writer}-{n}", 1, payload)

    return append, pool.close


async def concurrent_appends(server: str, appends: int) -> dict[str, dict[int, float]]:
    designs: dict[str, Callable[[str, int], Awaitable[tuple[Append, Any]]]] = {
        "victor (xid positions)": lambda url, w: victor_appender(url, w, False),
        "victor + NOTIFY": lambda url, w: victor_appender(url, w, True),
        "commit-ordered counter": lambda url, w: raw_appender(url, w, "counter"),
        "table lock": lambda url, w: raw_appender(url, w, "lock"),
    }
    results: dict[str, dict[int, float]] = {name: {} for name in designs}
    for writers in WRITERS:
        for name, make in designs.items():
            database = unique_name("victor_bench")
            await create_database(database, server)
            try:
                append, close = await make(database_url(database, server), writers)
                await append(-1, 0)  # tables created, connections warm
                each = max(1, appends // writers)

                async def writer(number: int, append: Append = append, each: int = each) -> None:
                    for n in range(each):
                        await append(number, n)

                started = time.perf_counter()
                await asyncio.gather(*(writer(w) for w in range(writers)))
                results[name][writers] = each * writers / (time.perf_counter() - started)
                await close()
            finally:
                await drop_database(database, server)
    return results


def median(values: list[float]) -> float:
    return statistics.median(values)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aggregates", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument(
        "--repeat", type=int, default=1, help="run everything N times; print each and the median"
    )
    arguments = parser.parse_args()
    server = (
        os.environ.get("VICTOR_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    )

    runs: list[dict[str, dict[str, float]]] = []
    rates: list[dict[str, dict[int, float]]] = []
    for run in range(arguments.repeat):
        timings = await save_and_load(server, arguments.aggregates, arguments.events)
        runs.append(timings)
        print(
            f"PostgreSQL, run {run + 1}: {arguments.aggregates} aggregates of "
            f"{arguments.events} events, one save each, then one load each "
            "(seconds; ratio = other's time / victor's)"
        )
        mine = timings["victor"]
        for name, phases in timings.items():
            ratios = "  ".join(
                f"{phase} {seconds:7.3f}s (x{seconds / mine[phase]:.2f})"
                for phase, seconds in phases.items()
            )
            print(f"  {name:14} {ratios}")
        rates.append(await concurrent_appends(server, arguments.appends))
        print(f"Concurrent appends to different streams, run {run + 1} (appends/s)")
        print_rates(rates[-1])

    print(f"\nMedian of {len(runs)} run(s)")
    for other, target in (("eventsourcing", 1.5), ("raw asyncpg", 0.7)):
        speed = "  ".join(
            f"{phase} x{median([t[other][phase] / t['victor'][phase] for t in runs]):.2f}"
            for phase in ("save", "load")
        )
        print(f"  victor speed vs {other} (target >= {target}): {speed}")
    print(f"Concurrent appends to different streams ({arguments.appends} per run, appends/s)")
    print_rates(
        {name: {w: median([r[name][w] for r in rates]) for w in WRITERS} for name in rates[0]}
    )


def print_rates(results: dict[str, dict[int, float]]) -> None:
    print("  design                   " + "".join(f"{w:>10} writers" for w in WRITERS))
    for name, by_writers in results.items():
        print(f"  {name:24} " + "".join(f"{by_writers[w]:18.0f}" for w in WRITERS))


if __name__ == "__main__":
    asyncio.run(main())
