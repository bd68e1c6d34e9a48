"""The contract suite's pytest plugin: inert by default, explicit about what it skips."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tests.support.distributions import install_distribution

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


STAGED_BACKEND = """
    from victor_core import BackendInfo, Capability, ContractInstance, EventStore, hookimpl
    from victor_memory.event_log import InMemoryEventRecorder, MemoryEventLog

    @hookimpl
    def victor_backend_info():
        return BackendInfo(name="staged", version="1.0", url_schemes=("staged",),
                           capabilities={Capability.EVENT_STORE, Capability.DURABILITY})

    @hookimpl
    def victor_create_event_store(url, options):
        return EventStore(InMemoryEventRecorder(MemoryEventLog()))

    @hookimpl
    def victor_contract_instance(workdir):
        return ContractInstance(
            url="staged://", capabilities={Capability.EVENT_STORE, Capability.TRANSACTIONS}
        )
"""

TESTS_ON_THE_STAGED_INSTANCE = """
    import pytest
    from victor_core import Capability
    from victor_contract_tests.plugin import requires

    pytestmark = pytest.mark.asyncio

    @requires(Capability.DURABILITY)
    async def test_needs_what_the_backend_declares_but_the_instance_lacks(contract_instance):
        pass

    @requires(Capability.TRANSACTIONS)
    async def test_needs_what_only_the_instance_provides(contract_instance):
        pass

    @requires(Capability.EVENT_STORE)
    async def test_needs_what_both_have(contract_instance):
        pass
"""


def test_an_instance_that_names_its_capabilities_decides_what_is_skipped(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = install_distribution(
        tmp_path / "site-packages",
        "victor-staged",
        entry_points={"victor.backends": {"staged": "staged_backend"}},
        modules={"staged_backend.py": STAGED_BACKEND},
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    tests = pytester.makepyfile(test_staged=textwrap.dedent(TESTS_ON_THE_STAGED_INSTANCE))

    result = pytester.runpytest_subprocess(
        str(tests),
        "--victor-backend=staged",
        "-rs",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )

    output = result.stdout.str()
    assert "this staged instance does not provide capability 'durability'" in output
    assert "does not declare" not in output
    result.assert_outcomes(passed=2, skipped=1)
