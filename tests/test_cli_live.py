"""``victor tail`` and ``victor projections`` on a real SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path

import pytest

pytest.importorskip("victor_sqlite", reason="exercises the SQLite backend plugin (victor-sqlite)")

from victor_core import Event
from victor_core.cli import main
from victor_sqlite import SQLiteEventStore


@dataclasses.dataclass
class Noted(Event):
    __event_type__ = "tests.cli.Noted"
    text: str = ""


async def append(path: Path, stream: str, count: int) -> None:
    async with SQLiteEventStore(path) as store:
        await store.append(stream, [Noted(text=str(n)) for n in range(count)])


def test_tail_prints_stored_and_live_events_with_their_place_in_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.db"
    asyncio.run(append(path, "a", 2))
    url = f"sqlite:///{path}"
    outcome: list[int] = []
    tail = threading.Thread(
        target=lambda: outcome.append(
            main(["tail", url, "--from", "1", "--count", "3", "--poll-interval", "0.05"])
        )
    )
    tail.start()
    asyncio.run(append(path, "b", 1))
    tail.join(60)

    assert outcome == [0]
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [line[:4] for line in lines] == [
        ["1", "a", "1", "tests.cli.Noted"],
        ["2", "a", "2", "tests.cli.Noted"],
        ["3", "b", "1", "tests.cli.Noted"],
    ]
    assert all(line[4].startswith("20") for line in lines), "an ISO timestamp closes each line"


def test_tail_keeps_only_the_streams_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.db"
    asyncio.run(append(path, "a", 2))
    asyncio.run(append(path, "b", 1))

    code = main(["tail", f"sqlite:///{path}", "--from", "0", "--stream", "b", "--count", "1"])

    assert code == 0
    assert [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines()] == [["3", "b"]]


def test_projections_lists_each_checkpoint_with_its_lag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.db"
    asyncio.run(append(path, "a", 5))

    async def save() -> None:
        async with SQLiteEventStore(path) as store:
            assert store.checkpoints is not None
            await store.checkpoints.save("orders", 5)
            await store.checkpoints.save("invoices", 2)

    asyncio.run(save())

    assert main(["projections", f"sqlite:///{path}"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "head of the log: 5"
    assert [line.split() for line in out[1:]] == [
        ["invoices", "position", "2", "lag", "3"],
        ["orders", "position", "5", "lag", "0"],
    ]
