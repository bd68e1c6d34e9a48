"""The ``victor`` command."""

from __future__ import annotations

import pytest

from victor_core.cli import main


def test_backends_lists_memory_with_its_distribution_schemes_and_capabilities(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["backends"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["backend", "distribution", "url", "schemes", "capabilities"]
    memory = next(line for line in lines if line.startswith("memory "))
    assert "victor-memory 0.1.0" in memory
    assert "memory://" in memory
    assert "event_store" in memory
    assert "global_order" in memory


def test_contract_test_of_an_unknown_backend_explains_instead_of_crashing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["contract-test", "no-such-backend"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("victor: no backend named 'no-such-backend' is installed")


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])

    assert caught.value.code == 2
    assert "COMMAND" in capsys.readouterr().err
