"""The contract suite's pytest plugin: inert by default, explicit about what it skips."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_without_a_backend_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own="def test_own():\n    assert True\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert "victor contract suite" not in result.stdout.str()


def test_a_selected_backend_runs_the_suite_and_names_each_missing_capability(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest_subprocess(
        "--victor-backend=memory",
        "-rs",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )

    output = result.stdout.str()
    assert "victor contract suite v1 against backend 'memory'" in output
    assert "declared capabilities: " in output
    assert "event_store" in output.split("declared capabilities: ")[1].splitlines()[0]
    assert "backend 'memory' does not declare capability 'durability'" in output
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] > 40
    assert "failed" not in outcomes


def test_an_unknown_backend_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--victor-backend=nowhere", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no backend named 'nowhere' is installed" in result.stderr.str()
