"""The ``victor`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.plugins import installed, needs
from victor_core.cli import main


def test_backends_lists_each_backend_with_its_distribution_schemes_and_capabilities(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["backends"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["backend", "distribution", "url", "schemes", "capabilities"]
    lists = next(line for line in lines if line.startswith("lists "))
    assert "victor-kernel-tests 0" in lists
    assert "lists://" in lists
    assert "event_store" in lists
    assert "global_order" in lists


@needs("victor_contract_tests", "victor-contract-tests")
def test_contract_test_of_an_unknown_backend_explains_instead_of_crashing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["contract-test", "no-such-backend"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("victor: no backend named 'no-such-backend' is installed")


@pytest.mark.skipif(installed("victor_contract_tests"), reason="the contract suite is installed")
def test_contract_test_without_the_suite_says_which_pip_command_installs_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = Path(__file__).resolve().parents[1]

    assert main(["contract-test", "lists"]) == 2

    error = capsys.readouterr().err
    assert error == f"the contract suite is not installed: pip install {root / 'contract_tests'}\n"


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])

    assert caught.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


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
    assert "victor-kernel-tests" in rows["lists"]
    assert rows["misconfigured"].split()[-1] == "UNAVAILABLE"
    assert "problem: misconfigured:" in captured.err
    assert "RuntimeError: no settings file" in captured.err


def test_a_command_from_another_distribution_is_listed_and_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.distributions import install_distribution

    site = tmp_path / "site-packages"
    install_distribution(
        site,
        "victor-greeter",
        entry_points={"victor.commands": {"greet": "greeter_command"}},
        modules={
            "greeter_command.py": """
                HELP = "say hello"
                DESCRIPTION = "Says hello to whoever is named."

                def add_arguments(parser):
                    parser.add_argument("--name", default="world")

                def run(args):
                    print(f"hello, {args.name}")
                    return 3
            """
        },
    )
    monkeypatch.syspath_prepend(str(site))

    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    assert any(line.split() == ["greet", "say", "hello"] for line in listed.splitlines())

    assert main(["greet", "--name", "Ada"]) == 3
    assert capsys.readouterr().out == "hello, Ada\n"


def test_a_command_that_fails_to_load_names_its_distribution_and_spares_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.distributions import install_distribution

    site = tmp_path / "site-packages"
    install_distribution(
        site,
        "victor-broken-command",
        entry_points={"victor.commands": {"broken": "broken_command"}},
        modules={"broken_command.py": "raise ImportError('needs libfoo 3')\n"},
    )
    monkeypatch.syspath_prepend(str(site))

    assert main(["broken", "--any", "argument"]) == 2

    error = capsys.readouterr().err
    assert error.startswith(
        "victor: the 'broken' command of victor-broken-command 1.0 could not be loaded from "
        "broken_command: ImportError: needs libfoo 3. Reinstall that distribution"
    )
    assert main(["backends"]) == 0


def test_an_unknown_argument_of_a_kernel_command_is_still_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["backends", "--colour"])

    assert caught.value.code == 2
    assert "unrecognized arguments: --colour" in capsys.readouterr().err
