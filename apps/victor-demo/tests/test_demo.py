"""``victor demo`` tells the whole story of a small task tracker on a real backend."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from victor_core import (
    ConfigurationError,
    default_registry,
    message_handlers,
    open_event_store,
    open_repository,
)
from victor_core.backend import Capability
from victor_core.cli import main
from victor_demo import TaskTracker, run_demo
from victor_demo.board import CheckpointsInProcess
from victor_demo.domain import Member
from victor_demo.messages import AssignTask, OpenTask, ShowBoard

#: Lines every run prints, whatever the backend: one or more per step, and the summary.
STORY = [
    "2. Added 5 members in one add_many; specifications select them:",
    "   team == 'platform' & active == True  ->  Ada, Grace",
    "   team == 'flight' | ~(active == True)  ->  Katherine, Linus, Margaret",
    "3. Commands go through the mediator: validation, then retries, then the handler.",
    "   OpenTask task-1 'Write the release notes': ok, task-1 at version 1",
    "   OpenTask task-5 '': rejected before its handler (OpenTask is invalid: title: must not "
    "be empty); the handler ran 4 times for 5 commands",
    "   AssignTask task-1 -> ada: ok, task-1 at version 2; Ada holds 1 open task",
    "   AssignTask task-3 -> ada: refused: Ada already holds 2 open tasks (the limit is 2); "
    "nothing was written, task-3 stays at version 1",
    "   AssignTask task-3 -> linus: refused: Linus is not an active member; nothing was "
    "written, task-3 stays at version 1",
    "   AssignTask task-2 -> grace: ok, task-2 at version 3; Grace holds 2 open tasks, Ada "
    "holds 1 open task",
    "5. CompleteTask task-1 found the storage busy (a simulated TransientError); "
    "RetryCommandMiddleware ran it again: ok, task-1 at version 3 after 2 attempts; Ada holds "
    "0 open tasks.",
    "6. ProjectionRunner fed the board from checkpoint 0: 10 events handled, checkpoint saved "
    "at position 10. The board of open tasks:",
    "   Grace: Fix the login bug, Plan the sprint",
    "   Katherine: Check the flight plan",
    "   Catching up again found 0 new events; the checkpoint stays at 10.",
    "7. Queries go through the query bus, behind CachingQueryMiddleware:",
    "   ShowBoard(): answered by the handler, after catching up 0 new events: Grace: Fix the "
    "login bug, Plan the sprint; Katherine: Check the flight plan",
    "   ShowBoard(): answered from the cache: Grace: Fix the login bug, Plan the sprint; "
    "Katherine: Check the flight plan",
    "   ShowBoard(team='flight'): answered by the handler, after catching up 0 new events: "
    "Katherine: Check the flight plan",
    "   RenameTask task-2 'Plan the 0.2 sprint': ok, task-2 at version 4; the write "
    "invalidated 2 cached answers",
    "   ShowBoard(): answered by the handler, after catching up 1 new event: Grace: Fix the "
    "login bug, Plan the 0.2 sprint; Katherine: Check the flight plan",
    "8. task-2 as it was, rebuilt from its own events:",
    "   at version 1: 'Plan the sprint', open, assigned to nobody (version 1)",
    "   now: 'Plan the 0.2 sprint', open, assigned to Grace (version 4)",
    "9. Two units of work load task-3 at the same version and change it:",
    "   both loaded version 2; the other one renames it and commits first: version 3",
    "   this one hands it to Margaret: two member updates and an event in one commit, which "
    "is refused: stream 'task-3' is at version 3, the commit expected 2",
    "   none of it was written: 'Fix the login bug (urgent)', open, assigned to Grace "
    "(version 3); Grace holds 2 open tasks, Margaret holds 0 open tasks",
    "   the board catches up with 1 new event: Grace: Fix the login bug (urgent), Plan the "
    "0.2 sprint; Katherine: Check the flight plan",
    "   14 commands: 11 succeeded, 1 rejected by validation, 2 refused by the rules, 1 "
    "retried after a transient error; 4 queries, 1 answered from the cache; 1 stale save "
    "refused.",
]


def summary_line(backend: str) -> str:
    return (
        f"Summary: 12 events in 4 task streams and 5 members on {backend!r}; the board's "
        "checkpoint is at position 12 of 12."
    )


def assert_whole_story(lines: list[str], backend: str) -> None:
    missing = [line for line in [*STORY, summary_line(backend)] if line not in lines]
    assert missing == [], "\n".join(lines)
    assert any(
        line.startswith("   as of ")
        and line.endswith(": 'Plan the sprint', open, assigned to Ada (version 2)")
        for line in lines
    ), "the as-of load shows task-2 before it moved to Grace"
    assert lines[-1].startswith("   Took ")


def test_the_demo_tells_every_step_on_the_memory_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    assert main(["demo", "--url", "memory://"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "1. Opened the task tracker on memory:// (victor-memory "
        f"{default_registry().backend('memory').info.version}): an event store for tasks, "
        "with checkpoints for the board, and a repository of members."
    )
    assert lines[1] == (
        "   Unit of work: a task's events and its members commit in one transaction on the "
        "in-process memory."
    )
    assert_whole_story(lines, "memory")
    assert list(tmp_path.iterdir()) == [], "the temporary directory is removed"


def test_the_demo_runs_on_sqlite_in_the_given_directory_and_nowhere_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    directory = tmp_path / "demo"

    assert main(["demo", "--directory", str(directory)]) == 0

    lines = capsys.readouterr().out.splitlines()
    database = directory / "demo.db"
    assert lines[0].startswith(f"1. Opened the task tracker on sqlite:///{database} (victor-sqlite")
    assert lines[1] == (
        "   Unit of work: a task's events and its members commit in one transaction on "
        f"SQLite file {os.path.realpath(database)!r}."
    )
    assert_whole_story(lines, "sqlite")
    assert database.is_file()
    assert {p.name for p in directory.iterdir()} <= {"demo.db", "demo.db-wal", "demo.db-shm"}
    assert list(workdir.iterdir()) == []


@pytest.mark.asyncio
async def test_a_second_run_on_the_same_storage_is_refused_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    await run_demo(url, say=lambda line: None)

    with pytest.raises(ConfigurationError, match="the demo starts from empty storage"):
        await run_demo(url, say=lambda line: None)

    store = open_event_store(url)
    try:
        assert len([r async for r in store.read_all()]) == 12
    finally:
        await store.close()


def test_the_cli_reports_a_refused_second_run_as_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--directory", str(tmp_path)]) == 0
    capsys.readouterr()

    assert main(["demo", "--directory", str(tmp_path)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("victor: the demo starts from empty storage")


def test_the_demo_registers_nothing_in_the_process_wide_handlers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--url", "memory://"]) == 0

    declared = [*message_handlers.handlers("command"), *message_handlers.handlers("query")]
    assert not [t for t in declared if t.__module__.startswith("victor_demo")]


@pytest.mark.asyncio
async def test_on_a_backend_without_transactions_the_demo_says_so_and_still_runs() -> None:
    pytest.importorskip("pymongo_async_mock")
    testing = pytest.importorskip("victor_mongodb.testing")
    if default_registry().backend("mongodb").info.supports(Capability.TRANSACTIONS):
        pytest.skip("VICTOR_MONGODB_URL names a server with transactions")
    lines: list[str] = []

    await run_demo("mongodb://", say=lines.append, client=testing.fake_client(), database="demo")

    assert lines[1] == (
        "   Unit of work: the mongodb backend declares no transactions here, so the task's "
        "events and each member are saved one after the other, not atomically."
    )
    assert (
        "4. Assigning a task changes the task and its members; they are committed together, "
        "but not atomically here (see step 1):"
    ) in lines
    assert_whole_story(lines, "mongodb")


@pytest.mark.asyncio
async def test_a_backend_without_checkpoints_keeps_the_boards_checkpoint_in_the_process() -> None:
    store = open_event_store("memory://")
    store.checkpoints = None  # as a backend without Capability.CHECKPOINTS gives it
    members = open_repository("memory://", Member)
    async with TaskTracker(default_registry().backend("memory"), store, members) as tracker:
        assert isinstance(tracker.checkpoints, CheckpointsInProcess)
        await members.add(Member(id="ada", name="Ada"))
        await tracker.mediator.send(OpenTask(task_id="t", title="Something"))
        await tracker.mediator.send(AssignTask(task_id="t", member_id="ada"))

        board = await tracker.mediator.send(ShowBoard())

        assert board.data == {"Ada": ["Something"]}
        assert await tracker.runner.position() == 2


def test_python_m_victor_core_demo_runs_to_its_summary_and_leaves_no_files(
    tmp_path: Path,
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["TMPDIR"] = str(scratch)

    result = subprocess.run(
        [sys.executable, "-m", "victor_core", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert summary_line("sqlite") in result.stdout.splitlines()
    assert list(scratch.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["tmp"]


def test_a_reader_that_stops_early_does_not_get_a_traceback() -> None:
    # `victor demo | head -0`: the reader is gone before the command writes anything.
    producer = subprocess.Popen(
        [sys.executable, "-m", "victor_core", "demo", "--url", "memory://pipe"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert producer.stdout is not None
    producer.stdout.close()
    assert producer.stderr is not None
    errors = producer.stderr.read()
    producer.wait(timeout=60)

    assert b"BrokenPipeError" not in errors
    assert b"Traceback" not in errors
    assert producer.returncode == 1
