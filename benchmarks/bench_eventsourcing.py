"""victor against the eventsourcing library on the same domain, in the same run.

The workload, on each side: AGGREGATES carts of 10 events each (one creation event and nine
items added), each saved on its own (one append, one transaction), then each loaded back
from its events. Two pairs run it:

- in memory: victor's ``InMemoryEventStore`` against eventsourcing's POPO recorder;
- SQLite: ``SQLiteEventStore`` against ``eventsourcing.sqlite``, both on a file with WAL and
  ``synchronous=FULL`` (eventsourcing's own settings for a file, and victor's defaults).

Both sides do what an application does: aggregates built from their classes, events
serialized on save, deserialized and applied on load. eventsourcing is a benchmark-only
dependency (``pip install eventsourcing``); its calls are synchronous and victor's are
awaited, and each is timed as it is called. Contenders take turns within each round (who goes
first rotates) and a figure is the best of ``--rounds`` rounds. A ratio above 1 means victor
is faster. Run ``python benchmarks/bench_eventsourcing.py [--aggregates N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate as ESAggregate
from eventsourcing.domain import event

from victor_core import Aggregate, AggregateRepository, Event, EventStore
from victor_memory import InMemoryEventStore
from victor_sqlite import SQLiteEventStore

ITEMS = 9  # plus the creation event: 10 events per aggregate
TARGET_MEMORY = 3.0  # issue 16: the memory backend at least 3x eventsourcing's POPO store


@dataclasses.dataclass
class CartOpened(Event):
    __event_type__ = "bench.CartOpened"


@dataclasses.dataclass
class ItemAdded(Event):
    __event_type__ = "bench.es.ItemAdded"
    sku: str = ""
    quantity: int = 0
    note: str = ""


class Cart(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, int] = {}

    def _apply_CartOpened(self, event: CartOpened) -> None:
        self.id = event.aggregate_id

    def _apply_ItemAdded(self, event: ItemAdded) -> None:
        self.items[event.sku] = self.items.get(event.sku, 0) + event.quantity


class ESCart(ESAggregate):
    def __init__(self) -> None:
        self.items: dict[str, int] = {}

    @event("ItemAdded")
    def add_item(self, sku: str, quantity: int, note: str) -> None:
        self.items[sku] = self.items.get(sku, 0) + quantity


Timed = Callable[[int], Awaitable[tuple[float, float]]]


def victor(open_store: Callable[[], EventStore]) -> Timed:
    async def run(aggregates: int) -> tuple[float, float]:
        store = open_store()
        repository = AggregateRepository(store, Cart)
        await store.stream_version("warm-up")  # connects and creates the tables
        ids = [f"cart-{n}" for n in range(aggregates)]
        started = time.perf_counter()
        for cart_id in ids:
            cart = Cart()
            cart.apply(CartOpened(aggregate_id=cart_id))
            for item in range(ITEMS):
                cart.apply(ItemAdded(sku=f"sku-{item}", quantity=item + 1, note="bench"))
            await repository.save(cart)
        saved = time.perf_counter()
        for cart_id in ids:
            loaded = await repository.load(cart_id)
            assert loaded.version == ITEMS + 1
        loaded_at = time.perf_counter()
        await store.close()
        return saved - started, loaded_at - saved

    return run


def eventsourcing(env: Callable[[], dict[str, str]]) -> Timed:
    async def run(aggregates: int) -> tuple[float, float]:
        app: Application = Application(env=env())
        ids = []
        started = time.perf_counter()
        for _ in range(aggregates):
            cart = ESCart()
            for item in range(ITEMS):
                cart.add_item(f"sku-{item}", item + 1, "bench")
            app.save(cart)
            ids.append(cart.id)
        saved = time.perf_counter()
        for cart_id in ids:
            loaded = app.repository.get(cart_id)
            assert loaded.version == ITEMS + 1
        loaded_at = time.perf_counter()
        app.close()
        return saved - started, loaded_at - saved

    return run


async def measure(aggregates: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="victor-bench-es-") as scratch:
        files = iter(range(1_000_000))

        def fresh(name: str) -> str:
            return str(Path(scratch) / f"{name}-{next(files)}.db")

        pairs: dict[str, dict[str, Timed]] = {
            "memory": {
                "victor": victor(InMemoryEventStore),
                "eventsourcing": eventsourcing(dict),
            },
            "SQLite": {
                "victor": victor(lambda: SQLiteEventStore(fresh("victor"))),
                "eventsourcing": eventsourcing(
                    lambda: {
                        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                        "SQLITE_DBNAME": fresh("eventsourcing"),
                    }
                ),
            },
        }
        print(f"victor vs eventsourcing: {aggregates} aggregates of {ITEMS + 1} events, ")
        print(f"one save each, then one load each; best of {rounds} rounds")
        print(f"{'backend':<8} {'':<14} {'save/s':>9} {'load/s':>9}")
        for backend, contenders in pairs.items():
            best = {name: [float("inf"), float("inf")] for name in contenders}
            for round_ in range(rounds):
                names = list(contenders)[round_ % 2 :] + list(contenders)[: round_ % 2]
                for name in names:
                    save, load = await contenders[name](aggregates)
                    best[name] = [min(best[name][0], save), min(best[name][1], load)]
            for name, (save, load) in best.items():
                rates = f"{aggregates / save:>9,.0f} {aggregates / load:>9,.0f}"
                print(f"{backend:<8} {name:<14} {rates}")
            ours, theirs = best["victor"], best["eventsourcing"]
            print(
                f"{backend:<8} {'victor ratio':<14} {theirs[0] / ours[0]:>8.2f}x "
                f"{theirs[1] / ours[1]:>8.2f}x"
            )
        print(f"(target for memory: {TARGET_MEMORY:.1f}x on save and on load)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aggregates", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(measure(args.aggregates, args.rounds))


if __name__ == "__main__":
    main()
