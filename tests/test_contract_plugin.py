"""The contract suite's pytest plugin: inert by default, explicit about what it skips."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip(
    "victor_contract_tests", reason="tests the contract suite (victor-contract-tests)"
)
pytest.importorskip("victor_memory", reason="exercises the memory backend plugin (victor-memory)")

from tests.support.distributions import install_distribution
from victor_core.backend import CONTRACT_VERSION

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
    assert f"victor contract suite v{CONTRACT_VERSION} against backend 'memory'" in output
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
    from victor_core import EventStore
    from victor_core.backend import BackendInfo, Capability, ContractInstance, hookimpl
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
    from victor_core.backend import Capability
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


#: A backend on the memory engine whose recorder is replaced by the test's ``Recorder``.
ALTERED_BACKEND = """
    import asyncio
    import contextlib

    from victor_core import EventStore
    from victor_core.backend import BackendInfo, Capability, ContractInstance, hookimpl
    from victor_memory.event_log import InMemoryEventRecorder, MemoryEventLog

    LOGS = {{}}
    EXTRA = ()
{body}

    @hookimpl
    def victor_backend_info():
        return BackendInfo(name="{name}", version="1.0", url_schemes=("{name}",),
                           capabilities={{Capability.EVENT_STORE, Capability.GLOBAL_ORDER,
                                          *EXTRA}})

    @hookimpl
    def victor_create_event_store(url, options):
        return EventStore(Recorder(LOGS.setdefault(url.authority, MemoryEventLog())))

    @hookimpl
    def victor_contract_instance(workdir):
        name = workdir.name
        async def cleanup():
            LOGS.pop(name, None)
        return ContractInstance(url=f"{name}://" + name, cleanup=cleanup)
"""


def run_suite_on(
    pytester: pytest.Pytester,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    source: str,
    *args: str,
) -> pytest.RunResult:
    """Install backend *name* (module *source*) and run the contract suite against it."""
    site = install_distribution(
        tmp_path / "site-packages",
        f"victor-{name}",
        entry_points={"victor.backends": {name: f"{name}_backend"}},
        modules={f"{name}_backend.py": source},
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    return pytester.runpytest_subprocess(
        f"--victor-backend={name}",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        *args,
    )


HANGING_APPENDS = """
    class Recorder(InMemoryEventRecorder):
        async def append(self, stream_id, records, expected_version):
            await asyncio.Event().wait()  # a lock that is never released
"""


def test_a_hanging_backend_fails_each_test_with_its_guarantee_and_stops_the_run(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from victor_contract_tests.plugin import MAX_TIMEOUTS, SUITE_DIR

    source = ALTERED_BACKEND.format(name="hanging", body=HANGING_APPENDS)
    result = run_suite_on(
        pytester,
        tmp_path,
        monkeypatch,
        "hanging",
        source,
        str(SUITE_DIR / "contract_event_store.py"),
        "--victor-timeout=0.5",
    )

    output = result.stdout.str()
    assert (
        "backend 'hanging' broke the guarantee: append one event reports version and position"
        in output
    )
    assert "timed out: no answer within 0.5 s" in output
    assert f"timed out in {MAX_TIMEOUTS} contract tests; the run stops here" in output
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == MAX_TIMEOUTS
    assert "passed" not in outcomes


MISNUMBERED_READS = """
    class Recorder(InMemoryEventRecorder):
        async def read_stream(self, stream_id, from_version, to_version, limit):
            records = await super().read_stream(stream_id, from_version, to_version, limit)
            return [r._replace(version=r.version + 1) for r in records]
"""


def test_an_assertion_failure_names_the_guarantee_and_the_backend(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from victor_contract_tests.plugin import SUITE_DIR

    source = ALTERED_BACKEND.format(name="misnumbered", body=MISNUMBERED_READS)
    suite = SUITE_DIR / "contract_event_store.py"
    target = f"{suite}::test_read_stream_returns_the_events_as_appended"
    result = run_suite_on(pytester, tmp_path, monkeypatch, "misnumbered", source, target)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * AssertionError: backend 'misnumbered' broke the guarantee: read stream returns "
            "the events as appended",
            "E * assert 2 == 1",
        ]
    )


def test_the_summary_lists_the_capabilities_not_tested_without_asking(
    pytester: pytest.Pytester,
) -> None:
    from victor_contract_tests.plugin import SUITE_DIR

    result = pytester.runpytest_subprocess(
        "--victor-backend=memory",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        str(SUITE_DIR / "contract_event_store.py"),
        str(SUITE_DIR / "contract_unit_of_work.py"),
        "-rN",  # no short summary of skips
    )

    output = result.stdout.str()
    assert "capabilities not tested on backend 'memory': durability (" in output
    assert "does not declare capability" not in output  # the reasons need -rs


def test_victor_contract_test_writes_nothing_into_the_working_directory(tmp_path: Path) -> None:
    empty = tmp_path / "project"
    empty.mkdir()
    from victor_contract_tests.plugin import SUITE_DIR

    before = sorted(p.name for p in SUITE_DIR.iterdir())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "victor_core",
            "contract-test",
            "memory",
            "-q",
            # A property-based test (Hypothesis keeps a database and caches) and a plain one.
            "-k",
            "every_single_comparison_agrees or read_stream_returns_the_events_as_appended",
        ],
        cwd=empty,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert list(empty.iterdir()) == []
    assert sorted(p.name for p in SUITE_DIR.iterdir()) == before


PROVISIONED_BACKEND = """
    import contextlib
    import os
    import uuid

    from victor_core import EventStore
    from victor_core.backend import BackendInfo, Capability, ContractInstance, hookimpl
    from victor_memory.event_log import InMemoryEventRecorder, MemoryEventLog

    JOURNAL = os.environ["PROVISION_JOURNAL"]
    DATABASES = {}

    def note(line):
        with open(JOURNAL, "a") as journal:
            journal.write(line + "\\n")

    @hookimpl
    def victor_backend_info():
        return BackendInfo(name="provisioned", version="1.0", url_schemes=("provisioned",),
                           capabilities={Capability.EVENT_STORE})

    @hookimpl
    def victor_create_event_store(url, options):
        database, _, schema = url.authority.partition(".")
        return EventStore(InMemoryEventRecorder(DATABASES[database].setdefault(
            schema, MemoryEventLog())))

    @hookimpl
    def victor_contract_provision(collation):
        @contextlib.asynccontextmanager
        async def database():
            name = f"run{uuid.uuid4().hex[:6]}"
            DATABASES[name] = {}
            note(f"create {name} {collation}")
            try:
                yield name
            finally:
                del DATABASES[name]
                note(f"drop {name}")
        return database()

    @hookimpl
    def victor_contract_instance(provisioned):
        schema = uuid.uuid4().hex[:6]
        note(f"instance in {provisioned}")
        return ContractInstance(url=f"provisioned://{provisioned}.{schema}")
"""


def test_a_provisioned_database_is_made_once_for_the_run_and_dropped_after_it(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from victor_contract_tests.plugin import SUITE_DIR

    journal = tmp_path / "journal.txt"
    monkeypatch.setenv("PROVISION_JOURNAL", str(journal))
    result = run_suite_on(
        pytester,
        tmp_path,
        monkeypatch,
        "provisioned",
        PROVISIONED_BACKEND,
        str(SUITE_DIR / "contract_event_store.py"),
        "--victor-collation=en_US.utf8",
    )

    # A backend that does not say it applied the collation is refused, not silently passed.
    result.assert_outcomes(errors=1)
    assert "--victor-collation=en_US.utf8: backend 'provisioned' made its contract instance " in (
        result.stdout.str()
    )
    journal.unlink()

    result = run_suite_on(
        pytester,
        tmp_path / "again",
        monkeypatch,
        "provisioned",
        PROVISIONED_BACKEND,
        str(SUITE_DIR / "contract_event_store.py"),
    )

    outcomes = result.parseoutcomes()
    assert "failed" not in outcomes
    assert "error" not in outcomes
    lines = journal.read_text().splitlines()
    created = lines[0].split()
    assert created[0] == "create"
    assert created[2] == "None"
    database = created[1]
    instances = lines[1:-1]
    # One per test, those skipped for their capabilities after seeing the instance included.
    assert instances == [f"instance in {database}"] * (outcomes["passed"] + outcomes["skipped"])
    assert lines[-1] == f"drop {database}"


LAGGING_AND_SERIALIZING = """
    from victor_core.backend import TransientBackendError

    EXTRA = (Capability.IMMEDIATE_READ_ALL, Capability.CONCURRENT_APPENDS)

    class Recorder(InMemoryEventRecorder):
        in_flight = 0

        async def append(self, stream_id, records, expected_version):
            # One writer at a time, refusing the others: what a table lock with a short
            # lock timeout does.
            Recorder.in_flight += 1
            try:
                await asyncio.sleep(0)
                if Recorder.in_flight > 1:
                    raise TransientBackendError("the log is locked by another append")
                return await super().append(stream_id, records, expected_version)
            finally:
                Recorder.in_flight -= 1

        async def read_all(self, from_position, limit):
            # Positions show up one append late, as from a lagging replica.
            records = await super().read_all(from_position, limit)
            return records[:-1]
"""


def test_declared_server_capabilities_are_tested_and_a_backend_falling_short_fails(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from victor_contract_tests.plugin import SUITE_DIR

    source = ALTERED_BACKEND.format(name="shortfall", body=LAGGING_AND_SERIALIZING)
    result = run_suite_on(
        pytester,
        tmp_path,
        monkeypatch,
        "shortfall",
        source,
        str(SUITE_DIR / "contract_server_capabilities.py"),
    )

    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    assert "read_all on another store showed []" in output
    assert "appends to different streams failed one another" in output
    assert "TransientBackendError" in output


OFF_CONTRACT_ANSWERS = """
    class Recorder(InMemoryEventRecorder):
        async def stream_version(self, stream_id):
            return None if stream_id.startswith("acct") else await super().stream_version(stream_id)

        async def read_all(self, from_position, limit):
            return list(reversed(await super().read_all(from_position, limit)))
"""


def test_a_recorder_answering_off_contract_is_named_with_its_method_not_a_type_error(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from victor_contract_tests.plugin import SUITE_DIR

    source = ALTERED_BACKEND.format(name="offcontract", body=OFF_CONTRACT_ANSWERS)
    result = run_suite_on(
        pytester,
        tmp_path,
        monkeypatch,
        "offcontract",
        source,
        str(SUITE_DIR / "contract_event_store.py"),
        str(SUITE_DIR / "contract_global_order.py"),
    )

    output = result.stdout.str()
    assert "BackendContractError: Recorder.stream_version broke its contract: returned None" in (
        output
    )
    assert "BackendContractError: Recorder.read_all broke its contract: " in output
    assert "they must rise strictly" in output
    assert "TypeError" not in output
    assert result.parseoutcomes()["failed"] > 2
