"""``victor demo`` tells the event-sourcing story end to end on a real backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from victor_core.cli import main


def test_the_demo_runs_to_its_summary_on_a_named_backend(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--url", "memory://demo-test"]) == 0

    out = capsys.readouterr().out
    assert "1. Opened an event store on memory://demo-test (victor-memory)" in out
    assert "4. A write from a stale copy was refused" in out
    assert (
        "5. Rebuilt task-1 from its history: 'Write and publish the release notes', done=True"
        in out
    )
    assert "#4 task-2 v1 TaskOpened" in out
    assert "Done: 4 events written on 'memory'" in out


def test_the_demo_keeps_its_database_in_the_given_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--directory", str(tmp_path / "demo")]) == 0

    out = capsys.readouterr().out
    assert "Done: 4 events written" in out
    assert (tmp_path / "demo").is_dir()
