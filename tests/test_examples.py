"""Every program under examples/ runs as written and does what examples/README.md says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("victor_memory", reason="runs what README's install gives: victor-memory")
pytest.importorskip("victor_sqlite", reason="runs what README's install gives: victor-sqlite")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: Each example, with a line its output must contain: the outcome it exists to show.
EXPECTED = {
    "event_sourcing.py": "rebuilt from history: 'Build the feature' at version 2",
    "repository.py": "active with a company email: ['Bob']",
    "cqrs.py": "asked twice, the handler ran 1 time(s): the second answer was cached",
    "event_sourcing_cqrs.py": (
        "tasks from the read model: {'task-1': 'Write the docs', 'task-2': 'Ship the release'}"
    ),
    "unit_of_work.py": (
        "a failure halfway wrote nothing: 1 users and 1 orders stored, revenue 99.99"
    ),
}


def test_every_example_is_tested_and_listed() -> None:
    programs = {path.name for path in EXAMPLES.glob("*.py")}
    assert programs == set(EXPECTED)
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in programs)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert EXPECTED[name] in result.stdout.splitlines(), result.stdout
    assert list(tmp_path.iterdir()) == [], "examples leave no files behind"
