"""Group commit: concurrent writes on one ``SQLiteDatabase`` share a transaction and a sync.

What users rely on: every write still succeeds or fails on its own, an acknowledged write is
committed, positions follow commit order, and concurrent appenders need far fewer commits
(each one a wait for the disk at ``synchronous=FULL``) than there are appends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

import pytest

from victor_core import Entity, Event, Repository, UnitOfWork
from victor_core.backend import ConcurrencyError, EntityAlreadyExists
from victor_sqlite import SQLiteDatabase, SQLiteEventStore, SQLiteRepository
from victor_sqlite.event_log import EVENTS

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Noted(Event):
    __event_type__ = "victor.test.sqlite.group.Noted"
    text: str = ""


@dataclasses.dataclass
class Note(Entity):
    text: str = ""


async def _count_commits(database: SQLiteDatabase) -> list[str]:
    """Every COMMIT the connection runs from now on, recorded by SQLite's trace hook."""
    commits: list[str] = []

    def trace(statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            commits.append(statement)

    await database.run(lambda raw: raw.set_trace_callback(trace))
    return commits


def _rows(path: Path) -> list[tuple[int, str, int]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT position, stream_id, version FROM victor_events ORDER BY position"
        ).fetchall()


async def test_concurrent_appends_are_each_acknowledged_and_committed_in_fewer_transactions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    database = SQLiteDatabase(path)
    store = SQLiteEventStore(database)
    await database.ensure(EVENTS)
    commits = await _count_commits(database)

    results = await asyncio.gather(
        *(store.append(f"note-{n}", Noted(text=str(n)), expected_version=0) for n in range(64))
    )

    # Each append was told its own position, and those positions are what is on disk.
    assert sorted(p for r in results for p in r.positions) == list(range(1, 65))
    await database.close()
    stored = {stream: position for position, stream, _ in _rows(path)}
    assert stored == {r.stream_id: r.positions[0] for r in results}
    assert 1 <= len(commits) < 64, f"64 concurrent appends took {len(commits)} commits"


async def test_in_one_group_a_stale_append_fails_alone_and_the_others_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    database = SQLiteDatabase(path)
    store = SQLiteEventStore(database)
    await store.append("contested", Noted(text="first"))
    commits = await _count_commits(database)

    outcomes = await asyncio.gather(
        *(
            store.append("contested", Noted(text=f"racer {n}"), expected_version=1)
            for n in range(8)
        ),
        *(store.append(f"quiet-{n}", Noted(text="other")) for n in range(8)),
        return_exceptions=True,
    )

    racers, quiet = outcomes[:8], outcomes[8:]
    assert len(commits) < 9, f"one commit per successful append is 9; the group took {len(commits)}"
    winners = [o for o in racers if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, ConcurrencyError) for o in racers if o is not winners[0])
    assert not any(isinstance(o, BaseException) for o in quiet)
    await database.close()
    versions = [(stream, version) for _, stream, version in _rows(path)]
    assert versions.count(("contested", 2)) == 1
    assert ("contested", 3) not in versions
    assert sum(1 for stream, _ in versions if stream.startswith("quiet-")) == 8


async def test_a_refused_unit_of_work_in_a_group_leaves_the_others_committed(
    tmp_path: Path,
) -> None:
    database = SQLiteDatabase(tmp_path / "app.db")
    notes: Repository[Note] = SQLiteRepository(Note, database)
    store = SQLiteEventStore(database)
    await notes.add(Note(id="taken", text="already here"))

    async def refused() -> None:
        async with UnitOfWork() as uow:
            uow.register_repository(notes, Note)
            uow.register_new(Note(id="taken", text="again"))
            await uow.commit()

    outcomes = await asyncio.gather(
        refused(),
        *(store.append(f"s-{n}", Noted()) for n in range(4)),
        return_exceptions=True,
    )

    assert isinstance(outcomes[0], EntityAlreadyExists)
    assert not any(isinstance(o, BaseException) for o in outcomes[1:])
    assert (await notes.get("taken")).text == "already here"
    assert [await store.stream_version(f"s-{n}") for n in range(4)] == [1, 1, 1, 1]
    await database.close()


async def test_a_write_cancelled_before_its_group_starts_is_not_written(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / "events.db")
    store = SQLiteEventStore(database)
    await store.append("warm", Noted())

    first = asyncio.ensure_future(store.append("kept", Noted()))
    await asyncio.sleep(0)  # the first group is on its way to the worker thread
    second = asyncio.ensure_future(store.append("dropped", Noted()))
    await asyncio.sleep(0)  # queued behind it
    second.cancel()

    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    assert await store.stream_version("kept") == 1
    assert await store.stream_version("dropped") == 0
    await database.close()


async def test_closing_commits_writes_already_handed_over(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    database = SQLiteDatabase(path)
    store = SQLiteEventStore(database)
    await store.append("warm", Noted())

    pending = [asyncio.ensure_future(store.append(f"late-{n}", Noted())) for n in range(5)]
    await asyncio.sleep(0)
    await database.close()

    assert all(not task.cancelled() for task in pending)
    await asyncio.gather(*pending)
    assert len(_rows(path)) == 6
