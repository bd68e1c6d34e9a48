"""Components sharing one ``SQLiteDatabase``: one connection, and transactions across them."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from victor_core import Event
from victor_core.backend import ConcurrencyError, ConfigurationError, EventSerializer, StoreClosed
from victor_sqlite import (
    SQLiteCheckpointStore,
    SQLiteDatabase,
    SQLiteEventStore,
    append_in,
    write_checkpoint_in,
)
from victor_sqlite.checkpoints import CHECKPOINTS
from victor_sqlite.event_log import EVENTS

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Shipped(Event):
    __event_type__ = "victor.test.sqlite.shared.Shipped"
    parcel: str = ""


async def test_stores_on_one_database_share_its_connection_and_leave_closing_to_it(
    tmp_path: Path,
) -> None:
    database = SQLiteDatabase(tmp_path / "app.db")
    events = SQLiteEventStore(database)
    checkpoints = SQLiteCheckpointStore(database)

    await events.append("p-1", Shipped(parcel="a"))
    await checkpoints.save("parcels", 1)
    await events.close()
    await checkpoints.close()

    # Still open: closing a borrowing store does not close the shared database.
    assert await database.run(
        lambda c: c.execute("SELECT COUNT(*) FROM victor_events").fetchone()
    ) == (1,)
    await database.close()
    with pytest.raises(StoreClosed):
        await SQLiteEventStore(database).read_stream("p-1")


async def test_a_store_that_opened_its_own_database_closes_it(tmp_path: Path) -> None:
    store = SQLiteEventStore(tmp_path / "own.db")
    await store.append("p-1", Shipped())

    await store.close()

    assert store.database.closed


async def test_options_for_a_shared_database_are_refused(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / "app.db")

    with pytest.raises(ConfigurationError, match="belong to the SQLiteDatabase"):
        SQLiteEventStore(database, synchronous="OFF")
    with pytest.raises(ConfigurationError, match="belong to the SQLiteDatabase"):
        SQLiteCheckpointStore(database, busy_timeout=1)


async def test_events_and_a_checkpoint_commit_together_or_not_at_all(tmp_path: Path) -> None:
    """What a projection keeping its read model in the same file does for exactly-once."""
    database = SQLiteDatabase(tmp_path / "app.db")
    store = SQLiteEventStore(database)
    await database.ensure(EVENTS)
    await database.ensure(CHECKPOINTS)
    record = EventSerializer().serialize(Shipped(parcel="x"), "p-1")

    def append_and_checkpoint(connection: sqlite3.Connection, fail: bool) -> None:
        result = append_in(connection, "p-1", [record], 0)
        write_checkpoint_in(connection, "parcels", result.positions[-1])
        if fail:
            raise RuntimeError("the read model update failed")

    with pytest.raises(RuntimeError):
        await database.write(append_and_checkpoint, True)
    assert await store.stream_version("p-1") == 0
    assert await SQLiteCheckpointStore(database).load("parcels") == 0

    await database.write(append_and_checkpoint, False)
    assert await store.stream_version("p-1") == 1
    assert await SQLiteCheckpointStore(database).load("parcels") == 1
    record = EventSerializer().serialize(Shipped(parcel="y"), "p-1")
    with pytest.raises(ConcurrencyError):  # the version check works inside it too
        await database.write(append_and_checkpoint, False)
    await database.close()
