"""The packaging paths users take, on real installations made with pip.

A third-party backend built from its own project and pip-installed is listed, selectable
and proven by the contract suite; an environment without a backend plugin says what to
install when one of its classes is imported from the kernel.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from victor_core.backend import CONTRACT_VERSION

ROOT = Path(__file__).resolve().parents[1]


def pip_install_target(target: Path, *requirements: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            *requirements,
        ],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )


def run(
    args: list[str], pythonpath: Path, *, isolated_site: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    env.pop("PYTEST_ADDOPTS", None)
    prefix = [sys.executable, "-S"] if isolated_site else [sys.executable]
    return subprocess.run(
        [*prefix, *args], capture_output=True, text=True, env=env, cwd=pythonpath, timeout=300
    )


@pytest.fixture(scope="module")
def third_party(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example backend project, pip-installed into its own directory."""
    pytest.importorskip("victor_memory", reason="lists the example next to victor-memory")
    target = tmp_path_factory.mktemp("third-party-site")
    pip_install_target(target, str(ROOT / "examples" / "victor-example-backend"))
    return target


def test_a_pip_installed_third_party_backend_is_listed(third_party: Path) -> None:
    result = run(["-m", "victor_core", "backends"], third_party)

    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("example "))
    assert "victor-example-backend 0.1.0" in row
    assert "example://" in row
    assert "event_store" in row
    assert "global_order" in row
    assert any(line.startswith("memory ") for line in result.stdout.splitlines())


def test_a_pip_installed_third_party_backend_is_selectable_by_name(third_party: Path) -> None:
    script = (
        "import asyncio, dataclasses\n"
        "from victor_core import Event, open_event_store\n"
        "@dataclasses.dataclass\n"
        "class Pinged(Event):\n"
        "    n: int = 0\n"
        "async def main():\n"
        "    store = open_event_store('example://demo')\n"
        "    await store.append('s', Pinged(n=7))\n"
        "    events = [r.event.n for r in await store.read_stream('s')]\n"
        "    print(type(store.recorder).__name__, events)\n"
        "asyncio.run(main())\n"
    )

    result = run(["-c", script], third_party)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ListRecorder [7]"


def test_victor_contract_test_proves_the_third_party_backend(third_party: Path) -> None:
    result = run(
        ["-m", "victor_core", "contract-test", "example", "-p", "no:cacheprovider"], third_party
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout
    assert "failed" not in result.stdout
    # The header says which backend and which contract version was checked.
    assert f"victor contract suite v{CONTRACT_VERSION} against backend 'example'" in result.stdout


@pytest.fixture(scope="module")
def kernel_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An environment with the kernel and its dependencies but no backend plugin at all."""
    site = tmp_path_factory.mktemp("kernel-only")
    # The kernel and its own dependencies, and deliberately not victor-memory.
    pip_install_target(site, str(ROOT), "pluggy", "attrs", "cattrs", "typing_extensions")
    return site


def test_a_backend_class_without_its_plugin_says_what_to_install(kernel_only: Path) -> None:
    script = (
        "from victor_core import open_event_store\n"
        "try:\n"
        "    from victor_core import InMemoryEventStore\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)\n"
        "try:\n"
        "    from victor_core import PostgresUnitOfWork\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)\n"
        "try:\n"
        "    open_event_store('memory://')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__ + ':', exc)\n"
    )
    result = run(["-c", script], kernel_only, isolated_site=True)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ImportError: InMemoryEventStore comes from the 'memory' backend")
    # pip recorded that the kernel came from this checkout, where the plugin is a directory.
    hint = f"pip install {ROOT / 'plugins' / 'victor-memory'}"
    assert lines[0].endswith(hint)
    assert lines[1] == (
        "ImportError: PostgresUnitOfWork comes from the 'postgres' backend plugin, which is not "
        f"installed: pip install {ROOT / 'plugins' / 'victor-postgres'}"
    )
    assert lines[2].startswith(
        "BackendNotFound: no installed backend accepts URLs starting with 'memory://'"
    )
    assert lines[2].endswith(hint)


def test_victor_demo_without_the_demo_installed_says_what_to_install(kernel_only: Path) -> None:
    listed = run(["-m", "victor_core", "--help"], kernel_only, isolated_site=True)
    result = run(
        ["-m", "victor_core", "demo", "--url", "memory://"], kernel_only, isolated_site=True
    )

    hint = f"pip install {ROOT / 'apps' / 'victor-demo'}"
    # However the help is wrapped, the path to install from stays whole, ready to copy.
    assert f"demo not installed: {hint}" in " ".join(listed.stdout.split()), listed.stdout
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"victor: `victor demo` comes with victor-demo, which is not installed: {hint}\n"
    )


def test_victor_backends_without_any_backend_says_how_to_install_the_in_memory_one(
    kernel_only: Path,
) -> None:
    result = run(["-m", "victor_core", "backends"], kernel_only, isolated_site=True)

    assert result.returncode == 1
    assert result.stdout == (
        "no backends installed; the in-memory one: "
        f"pip install {ROOT / 'plugins' / 'victor-memory'}\n"
    )


def _documented_rows(markdown: Path) -> dict[str, list[str]]:
    """The rows of the ``$ victor backends`` sample in *markdown*: backend -> its cells."""
    text = markdown.read_text(encoding="utf-8")
    sample = text[text.index("$ victor backends\n") :].split("```", 1)[0]
    return _rows(sample.splitlines()[2:])


def _rows(lines: list[str]) -> dict[str, list[str]]:
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines if line.strip()]
    return {row[0]: row for row in cells if row[0] != "backend"}


@pytest.mark.parametrize("page", ["plugin-authors.md", "backends.md"])
def test_the_documented_victor_backends_output_is_what_it_prints(
    page: str, third_party: Path
) -> None:
    documented = _documented_rows(ROOT / "docs" / page)
    result = run(["-m", "victor_core", "backends"], third_party)
    printed = _rows(result.stdout.splitlines())

    assert documented, f"docs/{page} shows no `victor backends` rows"
    for name, row in documented.items():
        assert printed.get(name) == row, f"docs/{page} shows an outdated row for {name!r}"


def test_a_class_listed_under_victor_exports_is_importable_from_the_kernel(
    third_party: Path,
) -> None:
    script = (
        "from victor_core import ListRecorder\n"
        "from victor_example_backend.recorder import ListRecorder as original\n"
        "print(ListRecorder is original)\n"
    )
    result = run(["-c", script], third_party)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
