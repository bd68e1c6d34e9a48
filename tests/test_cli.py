"""The ``victor`` command."""

from __future__ import annotations

from pathlib import Path

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


def test_a_reader_that_stops_early_does_not_get_a_traceback() -> None:
    import subprocess
    import sys

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


def test_backends_reports_a_backend_whose_info_hook_raises_and_lists_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.distributions import install_distribution
    from victor_core.plugins import registry

    site = tmp_path / "site-packages"
    install_distribution(
        site,
        "victor-misconfigured",
        entry_points={"victor.backends": {"misconfigured": "misconfigured_backend"}},
        modules={
            "misconfigured_backend.py": """
                from victor_core.backend import hookimpl

                @hookimpl
                def victor_backend_info():
                    raise RuntimeError("no settings file")
            """
        },
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(registry, "_default", None)  # a registry that sees this site

    assert main(["backends"]) == 1

    captured = capsys.readouterr()
    rows = {line.split()[0]: line for line in captured.out.splitlines()[1:]}
    assert "victor-memory" in rows["memory"]
    assert rows["misconfigured"].split()[-1] == "UNAVAILABLE"
    assert "problem: misconfigured:" in captured.err
    assert "RuntimeError: no settings file" in captured.err
