"""A child process for the unit-of-work crash test: commits numbered units of work forever.

``python sqlite_uow_writer.py DB WRITER`` commits one :class:`SQLiteUnitOfWork` after another
to the SQLite file DB, printing each unit's number once its commit has returned. Unit ``n``
of writer ``w`` inserts ``1 + n % 4`` items, adds their number to the writer's tally (an
entity with a version, so every unit also updates a row written by the ones before), and
records the unit as an aggregate with one event per item; so a reader can tell a whole unit
from part of one in three places.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import sys

from victor_core import Aggregate, Entity, Event
from victor_sqlite import SQLiteDatabase, SQLiteUnitOfWork


@dataclasses.dataclass
class Item(Entity):
    __entity_name__ = "crash_item"
    writer: str = ""
    unit: int = 0
    index: int = 0
    size: int = 0


@dataclasses.dataclass
class Tally(Entity):
    __entity_name__ = "crash_tally"
    total: int = 0
    version: int = 0


@dataclasses.dataclass
class UnitStarted(Event):
    __event_type__ = "victor.test.uow.UnitStarted"
    size: int = 0


@dataclasses.dataclass
class ItemCounted(Event):
    __event_type__ = "victor.test.uow.ItemCounted"
    index: int = 0


class UnitRecord(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def start(self, unit_id: str, size: int) -> None:
        self.apply(UnitStarted(aggregate_id=unit_id, size=size))
        for index in range(size):
            self.apply(ItemCounted(index=index))

    def _apply_UnitStarted(self, event: UnitStarted) -> None:
        self.id = event.aggregate_id
        self.size = event.size

    def _apply_ItemCounted(self, event: ItemCounted) -> None:
        pass


def unit_size(unit: int) -> int:
    return 1 + unit % 4


async def main(path: str, writer: str) -> None:
    database = SQLiteDatabase(path, busy_timeout=30)
    for unit in itertools.count():
        size = unit_size(unit)
        async with SQLiteUnitOfWork(database) as uow:
            uow.repository(Item)
            uow.repository(Tally)
            uow.aggregates(UnitRecord)
            tally = await uow.get(Tally, writer)
            if tally is None:
                uow.register_new(Tally(id=writer, total=size))
            else:
                tally.total += size
            for index in range(size):
                uow.register_new(
                    Item(id=f"{writer}-{unit}-{index}", writer=writer, unit=unit, index=index)
                )
            record = UnitRecord()
            record.start(f"{writer}-{unit}", size)
            uow.register_new(record)
        sys.stdout.write(f"{unit}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
