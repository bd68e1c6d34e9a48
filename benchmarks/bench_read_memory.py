"""Peak memory of reading a long SQLite log in pages: it must not grow with the log.

``EventStore.read_all`` asks the backend for one page at a time and hands out each event as
it is decoded, so reading a log of any length should take the memory of one page, however
many events came before. This benchmark writes EVENTS events (1,000,000 by default) and reads
them all back with ``read_all`` in a fresh interpreter, which reports its peak resident set
size (``ru_maxrss``) after each tenth of the log. A flat column is the pass: the peak after
the whole log is within ALLOWANCE of the peak after its first tenth.

The log is written through the store for its first event (so that the file is victor's,
with its schema) and then with ``executemany`` on raw sqlite3, in the store's own SQL
(imported from ``victor_sqlite.event_log``) and with payloads the store's serializer made:
the rows are those the store would have written, in a fraction of the time. Run ``python
benchmarks/bench_read_memory.py [--events N] [--page N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from victor_core import Event
from victor_sqlite import SQLiteEventStore
from victor_sqlite.event_log import _INSERT as INSERT
from victor_sqlite.event_log import timestamp_text

STREAM_LENGTH = 100  # events per stream
BATCH = 50_000  # rows per executemany
ALLOWANCE_MB = 8.0  # what the peak may grow by between a tenth of the log and all of it
#: Compact JSON, as the store writes it; one encoder for every row.
JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@dataclasses.dataclass
class ItemAdded(Event):
    __event_type__ = "bench.memory.ItemAdded"
    sku: str = ""
    quantity: int = 0
    note: str = ""


async def write_log(path: Path, events: int) -> None:
    """*events* events in streams of STREAM_LENGTH, as the store writes them."""
    async with SQLiteEventStore(path) as store:
        first = ItemAdded(sku="sku-0", quantity=1, note="bench", aggregate_id="cart-0")
        await store.append("cart-0", first, expected_version=0)
        template = store.serializer.serialize(first, "cart-0")
    payload = json.loads(template.data)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")  # building the fixture, not measuring it
    type_name, schema_version = template.type_name, template.schema_version
    moment = timestamp_text(template.timestamp)
    for start in range(2, events + 1, BATCH):
        rows = []
        for position in range(start, min(start + BATCH, events + 1)):
            index = position - 1
            stream_id = f"cart-{index // STREAM_LENGTH}"
            event_id = f"00000000-0000-4000-8000-{index:012d}"
            payload["id"], payload["aggregate_id"] = event_id, stream_id
            payload["sku"], payload["quantity"] = f"sku-{index % 7}", index % 5 + 1
            data = JSON.encode(payload)
            version = index % STREAM_LENGTH + 1
            rows.append(
                (position, stream_id, version, event_id, type_name, schema_version, data, moment)
            )
        connection.execute("BEGIN")
        connection.executemany(INSERT, rows)
        connection.execute("COMMIT")
    connection.close()


def peak_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    """This process's resident set size now, in MB; 0 where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * resource.getpagesize() / 2**20


async def read_log(path: Path, events: int, page: int) -> None:
    """Read the whole log, printing the peak RSS after each tenth as one JSON line each."""
    tenth = max(events // 10, 1)
    read = 0
    started = time.perf_counter()
    async with SQLiteEventStore(path) as store:
        await store.stream_version("warm-up")  # connects before the first figure
        figures = {"read": 0, "peak_mb": peak_mb(), "now_mb": current_mb(), "seconds": 0.0}
        print(json.dumps(figures), flush=True)
        async for recorded in store.read_all(page_size=page):
            read += 1
            if read % tenth == 0 or read == events:
                assert isinstance(recorded.event, ItemAdded)
                seconds = time.perf_counter() - started
                figures = {
                    "read": read,
                    "peak_mb": peak_mb(),
                    "now_mb": current_mb(),
                    "seconds": seconds,
                }
                print(json.dumps(figures), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--read", metavar="PATH", help=argparse.SUPPRESS)
    arguments, _ = parser.parse_known_args()
    if arguments.read:
        asyncio.run(read_log(Path(arguments.read), arguments.events, arguments.page))
        return
    with tempfile.TemporaryDirectory(prefix="victor-bench-memory-") as scratch:
        path = Path(scratch) / "log.db"
        started = time.perf_counter()
        asyncio.run(write_log(path, arguments.events))
        written = time.perf_counter() - started
        command = [sys.executable, __file__, "--read", str(path)]
        command += ["--events", str(arguments.events), "--page", str(arguments.page)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    samples = [json.loads(line) for line in output.splitlines()]
    print(
        f"read_all over {arguments.events:,} events in pages of {arguments.page}, in a fresh "
        f"interpreter (log written in {written:.1f}s)"
    )
    print(f"{'events read':>12} {'peak RSS MB':>12} {'RSS now MB':>11} {'events/s':>10}")
    for sample in samples:
        rate = sample["read"] / sample["seconds"] if sample["seconds"] else 0.0
        cells = f"{sample['peak_mb']:>12.1f} {sample['now_mb']:>11.1f} {rate:>10,.0f}"
        print(f"{sample['read']:>12,} {cells}")
    if samples[-1]["read"] != arguments.events:
        raise AssertionError(f"read {samples[-1]['read']} events of {arguments.events}")
    first_tenth = samples[1]["peak_mb"]
    growth = samples[-1]["peak_mb"] - first_tenth
    verdict = "flat" if growth <= ALLOWANCE_MB else "NOT flat"
    print(
        f"peak after the whole log - peak after its first tenth: {growth:+.1f} MB "
        f"({verdict}; allowance {ALLOWANCE_MB:.0f} MB)"
    )


if __name__ == "__main__":
    main()
