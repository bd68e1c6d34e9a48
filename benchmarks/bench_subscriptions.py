"""Subscriptions: append-to-handled latency beside the raw wake-up, and catch-up throughput.

Latency, at a steady append rate, of an event from the moment its append returned to the
moment a subscriber in the same process holds it, on memory and on SQLite, beside the raw
mechanism measured in the same run: an ``asyncio.Event`` set and awaited across tasks,
its wake-ups taken between the appends so that both see the same load on the machine.
Across processes (SQLite), a child process appends at the same rate and stamps each event
with the wall-clock time before its append; the subscriber notices through ``PRAGMA
data_version`` at the poll interval, which is the baseline there.

On PostgreSQL (when a server answers at ``VICTOR_POSTGRES_URL``, by default the local one),
in a database this script creates and drops: a subscription of the same process, woken
through ``LISTEN``, beside the raw mechanism measured in the same run, a ``NOTIFY`` sent on
one connection (committed without waiting for the disk, as victor announces appends) until
a second connection listening on the channel hears it.

Catch-up: the time a fresh subscription takes to deliver a log of EVENTS events, against
iterating ``read_all`` over the same log, taking turns for a few rounds (the ratio is the
best subscription round / the best read_all round).

Run ``python benchmarks/bench_subscriptions.py [--events N] [--rate HZ] [--samples N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg

from victor_core import Event, EventStore
from victor_memory import InMemoryEventStore
from victor_postgres import PostgresEventStore
from victor_postgres.provisioning import create_database, database_url, drop_database, unique_name
from victor_sqlite import SQLiteEventStore

POLL = 0.05
#: Catch-up rounds, taking turns; a figure is the best round (the first warms the caches).
ROUNDS = 3


@dataclasses.dataclass
class Ticked(Event):
    __event_type__ = "bench.Ticked"
    sent: float = 0.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def paired_latency(
    store: EventStore,
    samples: int,
    rate: float,
    raw_read: Callable[[], object] | None = None,
) -> tuple[list[float], list[float]]:
    """Append-to-handled latency in one process, beside the floor measured between its ticks.

    The floor: one task sets an ``asyncio.Event``, another wakes on it. Its samples are
    taken between the appends, at the same rate, while the subscriber waits too: so both
    series see the same machine, which a p99 on a shared machine needs more than anything.
    With *raw_read*, the floor also reads what a subscriber must read once woken, with
    the raw driver. An event handled before its append returned (an append that yields
    after its commit, as PostgreSQL's does to announce it) counts as 0.
    """
    raw: list[float] = []
    signal = asyncio.Event()
    set_at = 0.0

    async def raw_waiter() -> None:
        for _ in range(samples):
            await signal.wait()
            signal.clear()
            if raw_read is not None:
                raw_read()
            raw.append(time.perf_counter() - set_at)

    returned: dict[int, float] = {}
    handled: dict[int, float] = {}
    start = await store.last_position() + 1  # past any event appended to set the store up

    async def subscriber() -> None:
        async with store.subscribe(start, poll_interval=POLL) as subscription:
            async for recorded in subscription:
                handled[recorded.position] = time.perf_counter()
                if len(handled) == samples:
                    return

    tasks = [asyncio.create_task(subscriber()), asyncio.create_task(raw_waiter())]
    await asyncio.sleep(0.05)
    for _ in range(samples):
        await asyncio.sleep(0.5 / rate)
        set_at = time.perf_counter()
        signal.set()
        await asyncio.sleep(0.5 / rate)
        result = await store.append("ticks", Ticked())
        returned[result.positions[-1]] = time.perf_counter()
    await asyncio.gather(*tasks)
    return raw, [max(0.0, handled[position] - at) for position, at in returned.items()]


_CHILD = """
import asyncio, sys, time
sys.path[:0] = {path!r}
from bench_subscriptions import Ticked
from victor_sqlite import SQLiteEventStore

async def main():
    store = SQLiteEventStore({db!r})
    for _ in range({samples}):
        await asyncio.sleep(1 / {rate})
        await store.append("ticks", Ticked(sent=time.time()))
    await store.close()

asyncio.run(main())
"""


async def cross_process_latency(path: Path, samples: int, rate: float) -> list[float]:
    """From just before a child process's append to a subscriber here holding the event."""
    store = SQLiteEventStore(path)
    await store.append("setup", Ticked())
    latencies: list[float] = []
    code = _CHILD.format(
        path=[str(Path(__file__).parent), *sys.path], db=str(path), samples=samples, rate=rate
    )
    async with store.subscribe(2, poll_interval=POLL) as subscription:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, env=dict(os.environ)
        )
        async for recorded in subscription:
            event = recorded.event
            assert isinstance(event, Ticked)
            latencies.append(time.time() - event.sent)
            if len(latencies) == samples:
                break
    await child.wait()
    await store.close()
    return latencies


async def raw_notify_latency(url: str, samples: int, rate: float) -> list[float]:
    """The floor on PostgreSQL: from sending a NOTIFY to another connection hearing it."""
    sender = await asyncpg.connect(url)
    listener = await asyncpg.connect(url)
    await sender.execute("SET synchronous_commit = off")
    sent: dict[int, float] = {}
    heard: list[float] = []
    done = asyncio.Event()

    def on_notification(connection: object, pid: int, channel: str, payload: object) -> None:
        heard.append(time.perf_counter() - sent[int(str(payload))])
        if len(heard) == samples:
            done.set()

    await listener.add_listener("victor_bench_raw", on_notification)
    for n in range(samples):
        await asyncio.sleep(1 / rate)
        sent[n] = time.perf_counter()
        await sender.execute(f"NOTIFY victor_bench_raw, '{n}'")
    await asyncio.wait_for(done.wait(), 30)
    await listener.close()
    await sender.close()
    return heard


async def postgres_latency(samples: int, rate: float) -> None:
    server = (
        os.environ.get("VICTOR_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = unique_name("victor_bench")
    try:
        await create_database(name, server)
    except Exception as exc:  # no server here: the other backends' figures still stand
        print(f"  PostgreSQL skipped ({type(exc).__name__}: {exc})")
        return
    try:
        url = database_url(name, server)
        raw = await raw_notify_latency(url, samples, rate)
        raw_p = percentiles(raw)
        print(row("NOTIFY round trip (raw, PostgreSQL)", raw, None))
        store = PostgresEventStore(url)
        await store.append("setup", Ticked())  # tables created, the pool warm
        _, subscribed = await paired_latency(store, samples, rate)
        print(row("PostgreSQL subscription (LISTEN)", subscribed, raw_p))
        await store.close()
    finally:
        await drop_database(name, server)


async def catch_up(store: EventStore, events: int) -> tuple[float, float]:
    """Events per second: read_all, then a fresh subscription, over the same log."""
    started = time.perf_counter()
    count = sum([1 async for _ in store.read_all()])
    read_all = count / (time.perf_counter() - started)
    started = time.perf_counter()
    seen = 0
    async with store.subscribe() as subscription:
        async for _ in subscription:
            seen += 1
            if seen == events:
                break
    return read_all, seen / (time.perf_counter() - started)


async def fill(store: EventStore, events: int) -> None:
    for start in range(0, events, 500):
        await store.append("log", [Ticked() for _ in range(min(500, events - start))])


def read_newest(connection: sqlite3.Connection) -> list[object]:
    """What a hand-written subscriber reads once woken: the newest event, decoded."""
    rows = connection.execute(
        "SELECT position, stream_id, version, event_id, type_name, schema_version, data,"
        " timestamp FROM victor_events WHERE position >= (SELECT max(position) FROM"
        " victor_events) ORDER BY position LIMIT 1000"
    ).fetchall()
    return [json.loads(row[6]) for row in rows]


def print_pair(name: str, raw: list[float], subscribed: list[float]) -> None:
    print(row("  asyncio.Event (raw, interleaved)", raw, None))
    print(row(name, subscribed, percentiles(raw)))


def row(name: str, samples: list[float], baseline: tuple[float, float] | None) -> str:
    p50, p99 = percentiles(samples)
    text = f"  {name:<34} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms"
    if baseline is not None:
        text += f"   p99 / raw p99 {p99 / baseline[1]:7.1f}x"
    return text


async def main(events: int, rate: float, samples: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory)
        print(
            f"append-to-handled latency, {samples} events at {rate:g}/s, each beside "
            "asyncio.Event wake-ups taken between its appends"
        )
        print_pair(
            "memory subscription", *await paired_latency(InMemoryEventStore(), samples, rate)
        )
        async with SQLiteEventStore(base / "latency.db") as sqlite_store:
            raw, subscribed = await paired_latency(sqlite_store, samples, rate)
            print_pair("SQLite subscription (same process)", raw, subscribed)
            reader = sqlite3.connect(base / "latency.db", isolation_level=None)
            raw_read = await paired_latency(
                sqlite_store, samples, rate, lambda: read_newest(reader)
            )
            print(row("  asyncio.Event + raw sqlite3 read", raw_read[0], None))
            print(row("SQLite subscription (same process)", raw_read[1], percentiles(raw_read[0])))
            reader.close()
        across = await cross_process_latency(base / "across.db", samples, rate)
        _, p99 = percentiles(across)
        print(
            row("SQLite subscription (other process)", across, None)
            + f"   poll interval {POLL * 1000:.0f} ms, p99 - poll {p99 - POLL * 1000:.1f} ms"
        )

        await postgres_latency(samples, rate)

        print(f"catch-up over {events} events (events/s)")
        memory = InMemoryEventStore()
        await fill(memory, events)
        sqlite_store = SQLiteEventStore(base / "catch_up.db")
        await fill(sqlite_store, events)
        for name, store in (("memory", memory), ("SQLite", sqlite_store)):
            rounds = [await catch_up(store, events) for _ in range(ROUNDS)]
            read_all = max(r for r, _ in rounds)
            subscribed = max(s for _, s in rounds)
            print(
                f"  {name:<8} read_all {read_all:10.0f}   subscribe {subscribed:10.0f}   "
                f"subscribe / read_all {subscribed / read_all:5.2f}"
            )
        await sqlite_store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--samples", type=int, default=1000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.rate, arguments.samples))
