"""The schema: created on first use, printable and appliable up front, versioned."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import pytest

from victor_core import ConfigurationError, Event
from victor_core.cli import main
from victor_postgres import PostgresEventStore


@dataclass
class Filed(Event):
    __event_type__ = "victor.test.postgres.Filed"
    n: int = 0


def tables(url: str) -> list[str]:
    async def read() -> list[str]:
        schema = url.split("schema=")[1]
        connection = await asyncpg.connect(url.split("?")[0])
        try:
            rows = await connection.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1"
                " ORDER BY table_name",
                schema,
            )
        finally:
            await connection.close()
        return [row[0] for row in rows]

    return asyncio.run(read())


def append_and_count(url: str) -> int:
    async def work() -> int:
        store = PostgresEventStore(url)
        try:
            await store.append("s", Filed(n=1))
            return await store.stream_version("s")
        finally:
            await store.close()

    return asyncio.run(work())


EVERYTHING = [
    "victor_checkpoints",
    "victor_events",
    "victor_leases",
    "victor_schema",
    "victor_snapshots",
]


def test_the_printed_schema_run_by_hand_is_the_one_victor_uses(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", url]) == 0
    script = capsys.readouterr().out
    assert "CREATE TABLE victor_events" in script
    assert tables(url) == [], "printing changes nothing"

    async def run_by_hand() -> None:
        connection = await asyncpg.connect(url.split("?")[0])
        try:
            await connection.execute(script)
        finally:
            await connection.close()

    asyncio.run(run_by_hand())
    assert tables(url) == EVERYTHING
    assert append_and_count(url) == 1


def test_apply_creates_the_schema_once_and_again_changes_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", url, "--apply"]) == 0
    assert "in place" in capsys.readouterr().out
    assert tables(url) == EVERYTHING
    assert append_and_count(url) == 1
    assert main(["schema", url, "--apply"]) == 0
    assert append_and_count(url) == 2


def test_a_part_written_by_a_newer_version_is_refused_and_left_alone(url: str) -> None:
    assert append_and_count(url) == 1

    async def from_the_future() -> None:
        schema = url.split("schema=")[1]
        connection = await asyncpg.connect(url.split("?")[0])
        try:
            await connection.execute(
                f"UPDATE \"{schema}\".victor_schema SET version = 99 WHERE part = 'events'"
            )
        finally:
            await connection.close()

    asyncio.run(from_the_future())
    with pytest.raises(ConfigurationError, match="newer victor-postgres"):
        append_and_count(url)
