"""``victor schema sqlite:///...``: the DDL victor would create, printed or applied up front."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from victor_core import Event
from victor_core.cli import main
from victor_sqlite import SQLiteEventStore


@dataclass
class Filed(Event):
    __event_type__ = "victor.test.sqlite.Filed"
    n: int = 0


def append_and_count(path: Path) -> int:
    async def work() -> int:
        store = SQLiteEventStore(path)
        try:
            await store.append("s", Filed(n=1))
            return await store.stream_version("s")
        finally:
            await store.close()

    return asyncio.run(work())


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(row[0] for row in rows)


EVERYTHING = [
    "victor_checkpoints",
    "victor_events",
    "victor_leases",
    "victor_schema",
    "victor_snapshots",
]


def test_the_printed_schema_run_by_hand_is_one_victor_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "by-hand.db"
    assert main(["schema", f"sqlite:///{path}"]) == 0
    script = capsys.readouterr().out
    assert not path.exists(), "printing creates nothing"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(script)
    connection.close()
    assert tables(path) == EVERYTHING
    assert append_and_count(path) == 1


def test_apply_creates_the_schema_and_a_second_apply_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "applied.db"
    assert main(["schema", f"sqlite:///{path}", "--apply"]) == 0
    assert "in place" in capsys.readouterr().out
    assert tables(path) == EVERYTHING
    assert append_and_count(path) == 1
    assert main(["schema", f"sqlite:///{path}", "--apply"]) == 0
    assert append_and_count(path) == 2
