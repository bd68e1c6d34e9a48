"""The contract suite fails every broken backend, and says which guarantee each one broke.

Each backend in ``tests/broken_backends`` is a first-party backend with one realistic
defect. It is installed as a distribution made on the fly, and the contract files that
concern it run against it in a fresh pytest, as a plugin author would run them. Only the
relevant files run, so the whole check stays quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip(
    "victor_contract_tests", reason="tests the contract suite (victor-contract-tests)"
)
pytest.importorskip("victor_memory", reason="exercises the memory backend plugin (victor-memory)")

from tests.support.distributions import install_distribution
from victor_contract_tests import SUITE_DIR

ROOT = Path(__file__).parent.parent

#: entry point name -> (hooks, contract files to run, what the failure must say)
DEFECTS = {
    "broken-to-version": (
        "tests.broken_backends.read_windows:to_version",
        ["contract_read_windows.py"],
        # The kernel checks each answer against the window it asked for, and names the method.
        "LimitWithoutTo.read_stream broke its contract",
    ),
    "broken-read-all-offset": (
        "tests.broken_backends.read_windows:read_all_offset",
        ["contract_read_windows.py"],
        "none skipped or repeated at a page boundary or a gap",
    ),
    "broken-timestamps": (
        "tests.broken_backends.records:timestamps",
        ["contract_stored_records.py"],
        "must keep the event's timestamp to the microsecond",
    ),
    "broken-snapshots": (
        "tests.broken_backends.records:snapshots",
        ["contract_stored_records.py"],
        "latest_snapshot must return the snapshot with the highest version at or below",
    ),
    "broken-query-cache": (
        "tests.broken_backends.repositories:query_cache",
        ["contract_repository_order.py"],
        "queries on the same repository object must see its own writes at once",
    ),
    "broken-update-order": (
        "tests.broken_backends.repositories:update_order",
        ["contract_repository_order.py"],
        "without order_by, entities come in the order they were added, updated or not",
    ),
    "broken-undo-order": (
        "tests.broken_backends.repositories:undo_order",
        ["contract_unit_of_work_repeats.py"],
        "a failed commit must leave everything it wrote, however often, exactly as it was",
    ),
    "broken-path-check": (
        "tests.broken_backends.repositories:path_check",
        ["contract_specification_paths.py"],
        "a path must be refused before any entity is read",
    ),
    "broken-damaged-payloads": (
        "tests.broken_backends.damaged:damaged_payloads",
        ["contract_damaged_records.py"],
        "a damaged event is refused naming where it is and the rest stays usable",
    ),
    "broken-write-behind": (
        "tests.broken_backends.durability",
        ["contract_durability_crash.py"],
        "batches acknowledged before SIGKILL were lost",
    ),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the broken backends as one installed distribution."""
    return install_distribution(
        tmp_path_factory.mktemp("site"),
        "victor-broken-backends",
        entry_points={"victor.backends": {name: hooks for name, (hooks, _, _) in DEFECTS.items()}},
        modules={},
    )


@pytest.mark.parametrize("backend", sorted(DEFECTS))
def test_the_contract_suite_fails_a_broken_backend_naming_the_guarantee(
    backend: str, site: Path, tmp_path: Path
) -> None:
    _, files, guarantee = DEFECTS[backend]
    command = [
        sys.executable,
        "-m",
        "pytest",
        f"--victor-backend={backend}",
        *(str(SUITE_DIR / name) for name in files),
        "-p",
        "no:cacheprovider",
        "-q",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    ]
    path = os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")])

    run = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )

    output = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert guarantee in output, output
