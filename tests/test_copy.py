"""``victor copy``: an event store and its repositories moved between backends, on real storage.

SQLite files on disk, and a database of the run's own on the PostgreSQL test server (the
fixtures of :mod:`tests.support.postgres`, which victor-postgres's tests use too), since
moving from one to the other is what the command is for.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("asyncpg", reason="copies through PostgreSQL (victor-postgres)")
pytest.importorskip("victor_postgres", reason="copies through PostgreSQL (victor-postgres)")
pytest.importorskip("victor_sqlite", reason="copies through SQLite (victor-sqlite)")
pytest.importorskip("victor_memory", reason="copies through the memory backend (victor-memory)")
pytest.importorskip("victor_contract_tests", reason="uses the contract suite's samples")

import asyncpg

from victor_contract_tests.suite.sample_aggregates import Account
from victor_contract_tests.suite.sample_entities import Member, members
from victor_core import AggregateRepository, Event, EventStore, open_event_store, open_repository
from victor_core.cli import main
from victor_core.copying import (
    CopyMismatch,
    CopyProgress,
    CopyRefused,
    copy_store,
    verify_copy,
)

#: The test server's database and a schema per test (postgres_url), as victor-postgres's tests.
pytest_plugins = ["tests.support.postgres"]

MEMBER = "victor_contract_tests.suite.sample_entities:Member"


@dataclasses.dataclass
class Noted(Event):
    __event_type__ = "tests.copy.Noted"
    text: str = ""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


async def fill(url: str, *, accounts: int = 3, notes: int = 4) -> None:
    """Accounts with snapshots, notes interleaved with them, two checkpoints and members."""
    store = open_event_store(url)
    try:
        repository = AggregateRepository(store, Account, snapshot_every=5)
        for number in range(accounts):
            account = Account.open(f"acct-{number}", f"owner {number}")
            await repository.save(account)
            await store.append("notes", [Noted(text=f"opened {number} \u00e9\U0001f600")])
            for amount in range(1, 8):
                account.deposit(amount * (number + 1))
                await repository.save(account)
        await store.append("notes", [Noted(text=f"note {n}") for n in range(notes)])
        log = await all_records(store)
        assert store.checkpoints is not None
        await store.checkpoints.save("balances", log[len(log) // 2].position)
        await store.checkpoints.save("audit", log[-1].position)
        await store.checkpoints.save("fresh", 0)
    finally:
        await store.close()
    async with open_repository(url, Member) as people:
        await people.add_many(members())


async def all_records(store: EventStore, at_least: int = 0) -> list[Any]:
    """The log; PostgreSQL holds back events while another test's transaction on the server
    is open, so a read that must see *at_least* events waits for them (up to a minute)."""
    for _ in range(600):
        log = [recorded async for recorded in store.read_all()]
        if len(log) >= at_least:
            break
        await asyncio.sleep(0.1)
    return log


async def contents(url: str, events: int = 0) -> dict[str, Any]:
    """What an application sees in a store: events, checkpoints (as places in the log),
    account states and snapshots, and members."""
    store = open_event_store(url)
    try:
        log = await all_records(store, events)
        positions = [r.position for r in log]
        assert store.checkpoints is not None
        checkpoints = {
            name: positions.index(position) + 1 if position else 0
            for name, position in (await store.checkpoints.load_all()).items()
        }
        repository = AggregateRepository(store, Account, snapshots=True)
        accounts = {}
        snapshots = {}
        assert store.snapshots is not None
        for stream_id in sorted({r.stream_id for r in log if r.stream_id.startswith("acct")}):
            account = await repository.load(stream_id)
            assert account is not None
            accounts[stream_id] = (account.version, account.balance, account.movements)
            snapshot = await store.snapshots.latest_snapshot(stream_id, None)
            snapshots[stream_id] = None if snapshot is None else (snapshot.version, snapshot.state)
        events = [
            (r.stream_id, r.version, r.type_name, r.event.id, r.event.timestamp, r.event)
            for r in log
        ]
    finally:
        await store.close()
    async with open_repository(url, Member) as people:
        found = sorted([member async for member in people], key=lambda m: m.id)
    return {
        "events": events,
        "checkpoints": checkpoints,
        "accounts": accounts,
        "snapshots": snapshots,
        "members": found,
    }


@pytest.mark.asyncio
async def test_a_sqlite_file_moves_to_postgresql_with_everything_it_holds(
    tmp_path: Path, postgres_url: str
) -> None:
    source = sqlite_url(tmp_path / "app.db")
    await fill(source)
    seen: list[CopyProgress] = []

    report = await copy_store(
        source, postgres_url, repositories=[Member], batch_size=7, progress=seen.append
    )

    expected = await contents(source)
    assert await contents(postgres_url, len(expected["events"])) == expected
    assert report.events.count == len(expected["events"]) == 3 * 8 + 3 + 4
    assert report.resumed == 0
    assert report.snapshots is not None
    assert report.snapshots.count == 3
    assert report.documents["victor_contract_member"].count == len(members())
    assert set(report.checkpoints) == {"balances", "audit", "fresh"}
    assert report.checkpoints["fresh"] == 0
    events = [p for p in seen if p.phase == "events"]
    assert events[-1] == CopyProgress("events", report.events.count, report.events.count)
    assert [p.done for p in events] == sorted(p.done for p in events)
    # The PostgreSQL store goes on from there, after everything copied.
    store = open_event_store(postgres_url)
    try:
        result = await store.append("notes", [Noted(text="after the move")])
        assert result.version == 8
        notes = await store.read_stream("notes")
        assert [n.event.text for n in notes if isinstance(n.event, Noted)][-2:] == [
            "note 3",
            "after the move",
        ]
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_an_in_memory_store_is_copied_to_a_sqlite_file(tmp_path: Path) -> None:
    source = f"memory://copy-{uuid.uuid4().hex}"
    target = sqlite_url(tmp_path / "copy.db")
    await fill(source)

    report = await copy_store(source, target, repositories=[Member])

    assert await contents(target) == await contents(source)
    assert report.events.count == 31


def test_victor_copy_copies_a_sqlite_file_to_another_and_says_what_it_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = sqlite_url(tmp_path / "app.db")
    target = sqlite_url(tmp_path / "copy.db")
    asyncio.run(fill(source))

    status = main(["copy", source, target, "--repository", MEMBER, "--no-progress"])

    out = capsys.readouterr().out
    assert status == 0
    assert "copied" in out
    assert "31 events" in out
    assert "3 snapshots, 3 checkpoints, 8 victor_contract_member documents" in out
    assert out.rstrip().endswith("verified")
    assert asyncio.run(contents(target)) == asyncio.run(contents(source))
    assert main(["copy", source, target, "--repository", MEMBER, "--verify-only"]) == 0
    assert "holds what" in capsys.readouterr().out


def test_victor_copy_without_snapshots_and_checkpoints_leaves_them_out(tmp_path: Path) -> None:
    source = sqlite_url(tmp_path / "app.db")
    target = sqlite_url(tmp_path / "copy.db")
    asyncio.run(fill(source))

    command = ["copy", source, target, "--no-snapshots", "--no-checkpoints", "--no-progress"]
    assert main(command) == 0

    copied = asyncio.run(contents(target))
    assert copied["snapshots"] == dict.fromkeys(["acct-0", "acct-1", "acct-2"])
    assert copied["checkpoints"] == {}
    assert copied["accounts"] == asyncio.run(contents(source))["accounts"]
    assert copied["members"] == [], "repositories are copied only when named"


@pytest.mark.asyncio
async def test_a_copy_stopped_part_way_goes_on_where_it_stopped(tmp_path: Path) -> None:
    source = sqlite_url(tmp_path / "app.db")
    target = sqlite_url(tmp_path / "copy.db")
    await fill(source)

    class Interrupted(Exception):
        pass

    def stop_after_two_pages(progress: CopyProgress) -> None:
        if progress.phase == "events" and progress.done >= 10:
            raise Interrupted

    with pytest.raises(Interrupted):
        await copy_store(source, target, batch_size=5, progress=stop_after_two_pages)
    store = open_event_store(target)
    try:
        assert len(await all_records(store)) == 10
    finally:
        await store.close()

    report = await copy_store(source, target, repositories=[Member], batch_size=5)

    assert report.resumed == 10
    assert await contents(target) == await contents(source)


@pytest.mark.asyncio
async def test_a_second_copy_brings_over_what_was_appended_since_the_first(
    tmp_path: Path,
) -> None:
    source = sqlite_url(tmp_path / "app.db")
    target = sqlite_url(tmp_path / "copy.db")
    await fill(source)
    await copy_store(source, target)
    store = open_event_store(source)
    try:
        await store.append("notes", [Noted(text="late")])
        assert store.checkpoints is not None
        await store.checkpoints.save("audit", (await all_records(store))[-1].position)
    finally:
        await store.close()

    report = await copy_store(source, target)

    assert report.resumed == 31
    assert report.events.count == 32
    copied = await contents(target)
    assert copied["events"] == (await contents(source))["events"]
    assert copied["checkpoints"]["audit"] == 32


def test_a_victor_copy_killed_mid_copy_resumes_when_run_again(
    tmp_path: Path, server_database: str, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "app.db"
    source = sqlite_url(path)

    async def many() -> None:
        store = open_event_store(source)
        try:
            for chunk in range(30):
                for stream in ("a", "b"):
                    await store.append(stream, [Noted(text=f"{chunk}.{n}") for n in range(100)])
        finally:
            await store.close()

    asyncio.run(many())
    command = [sys.executable, "-m", "victor_core", "copy", source, postgres_url]
    copying = subprocess.Popen(
        [*command, "--batch-size", "10"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert copying.stderr is not None
    said = b""
    try:
        # Killed once it says it has written some events: mid-copy, whatever the machine's speed.
        while not re.search(rb"events:[^\r\n]*?\| *([1-9]\d*)/6000", said):
            chunk = os.read(copying.stderr.fileno(), 4096)
            assert chunk, f"victor copy ended before it reported progress: {said[-500:]!r}"
            said += chunk
        copying.send_signal(signal.SIGKILL)
    finally:
        copying.wait(60)
        copying.stderr.close()
    assert copying.returncode == -signal.SIGKILL

    async def copied(at_least: int = 0) -> list[tuple[str, int, str]]:
        store = open_event_store(postgres_url)
        try:
            log = await all_records(store, at_least)
            return [(r.stream_id, r.version, r.event.id) for r in log]
        finally:
            await store.close()

    async def originals() -> list[tuple[str, int, str]]:
        store = open_event_store(source)
        try:
            return [(r.stream_id, r.version, r.event.id) for r in await all_records(store)]
        finally:
            await store.close()

    async def committed() -> int:
        # Counted in the table: read_all may hold back events behind another test's
        # transaction on the server, and the resumed copy must find every one of them.
        schema = postgres_url.rpartition("?schema=")[2]
        connection = await asyncpg.connect(server_database)
        try:
            return int(await connection.fetchval(f'SELECT count(*) FROM "{schema}".victor_events'))
        finally:
            await connection.close()

    partial = asyncio.run(copied(asyncio.run(committed())))
    everything = asyncio.run(originals())
    assert 0 < len(partial) < 6000, "the copy was killed part of the way through"
    assert partial == everything[: len(partial)]

    assert main(["copy", source, postgres_url, "--no-progress"]) == 0

    assert f"({len(partial)} events were there already)" in capsys.readouterr().out
    assert asyncio.run(copied(6000)) == everything


def _dump(path: Path) -> list[str]:
    """Every row the file holds (a backend creates its empty tables on first use, as ever)."""
    connection = sqlite3.connect(path)
    try:
        return [
            line
            for line in connection.iterdump()
            if line.startswith("INSERT") and not line.startswith('INSERT INTO "victor_schema"')
        ]
    finally:
        connection.close()


@pytest.mark.asyncio
async def test_a_target_holding_other_events_is_refused_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    source = sqlite_url(tmp_path / "app.db")
    await fill(source)
    other = tmp_path / "other.db"
    async with open_event_store(sqlite_url(other)) as store:
        await store.append("someone-else", [Noted(text="mine")])
    before = _dump(other)

    with pytest.raises(CopyRefused, match=r"someone-else.*nothing was written"):
        await copy_store(source, sqlite_url(other), repositories=[Member])

    assert _dump(other) == before


@pytest.mark.asyncio
async def test_a_target_with_a_foreign_document_is_refused_before_any_event_is_written(
    tmp_path: Path,
) -> None:
    source = sqlite_url(tmp_path / "app.db")
    target_path = tmp_path / "copy.db"
    target = sqlite_url(target_path)
    await fill(source)
    await copy_store(source, target, repositories=[Member])
    async with open_repository(target, Member) as people:
        await people.add(Member(id="intruder", name="Not from the source"))
    async with open_event_store(source) as store:
        await store.append("notes", [Noted(text="to be copied later")])
    before = _dump(target_path)

    with pytest.raises(CopyRefused, match="'intruder'"):
        await copy_store(source, target, repositories=[Member])

    assert _dump(target_path) == before


@pytest.mark.asyncio
async def test_a_target_with_a_checkpoint_the_source_lacks_is_refused(tmp_path: Path) -> None:
    source = sqlite_url(tmp_path / "app.db")
    target_path = tmp_path / "copy.db"
    await fill(source)
    async with open_event_store(sqlite_url(target_path)) as store:
        assert store.checkpoints is not None
        await store.checkpoints.save("their-projection", 0)
    before = _dump(target_path)

    with pytest.raises(CopyRefused, match="'their-projection'"):
        await copy_store(source, sqlite_url(target_path))

    assert _dump(target_path) == before


def _tamper(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        with connection:
            changed = connection.execute(
                'UPDATE victor_events SET data = \'{"text": "forged"}\' WHERE position = '
                "(SELECT max(position) FROM victor_events WHERE stream_id = 'notes')"
            )
            assert changed.rowcount == 1
    finally:
        connection.close()


@pytest.mark.asyncio
async def test_verification_catches_a_target_changed_behind_the_copy(tmp_path: Path) -> None:
    source = sqlite_url(tmp_path / "app.db")
    target_path = tmp_path / "copy.db"
    await fill(source)
    tampered: list[str] = []

    def tamper_before_verifying(progress: CopyProgress) -> None:
        if progress.phase == "verifying" and not tampered:
            _tamper(target_path)
            tampered.append(progress.phase)

    with pytest.raises(CopyMismatch, match="31 events"):
        await copy_store(source, sqlite_url(target_path), progress=tamper_before_verifying)

    assert tampered == ["verifying"]


def test_victor_copy_verify_only_reports_a_tampered_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = sqlite_url(tmp_path / "app.db")
    target_path = tmp_path / "copy.db"
    asyncio.run(fill(source))
    assert main(["copy", source, sqlite_url(target_path), "--no-progress"]) == 0
    assert asyncio.run(verify_copy(source, sqlite_url(target_path))).events.count == 31
    capsys.readouterr()
    _tamper(target_path)

    status = main(["copy", source, sqlite_url(target_path), "--verify-only"])

    assert status == 2
    assert "checksum" in capsys.readouterr().err


def test_victor_copy_refuses_to_copy_a_store_onto_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path / "app.db")

    assert main(["copy", url, url]) == 2

    assert "the same URL" in capsys.readouterr().err


def test_victor_copy_refuses_to_verify_a_store_against_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path / "app.db")

    assert main(["copy", url, url, "--verify-only"]) == 2

    error = capsys.readouterr().err
    assert "the same URL" in error
    assert "verify a copy in another database" in error
    assert not (tmp_path / "app.db").exists()  # nothing was opened, so nothing was created


def test_victor_copy_says_what_to_write_for_a_repository_it_cannot_find(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = sqlite_url(tmp_path / "a.db")
    target = sqlite_url(tmp_path / "b.db")

    assert main(["copy", source, target, "--repository", "Member"]) == 2
    assert "MODULE:CLASS" in capsys.readouterr().err
    assert main(["copy", source, target, "--repository", "no_such_module:Member"]) == 2
    assert "cannot be imported" in capsys.readouterr().err
    assert main(["copy", source, target, "--repository", "victor_core:Event"]) == 2
    assert "not an Entity subclass" in capsys.readouterr().err
