"""Development sessions: ``nox`` runs the default ones, exactly as CI does.

- ``tests``: kernel, plugin and application tests, documentation examples included.
- ``tests-kernel``: the kernel's tests with no plugin installed (those that exercise a plugin
  are skipped, each saying which).
- ``contract-<backend>``: the contract suite against each first-party backend.
- ``lint`` (ruff) and ``typecheck`` (mypy --strict).
- ``docs``: the documentation site, built by MkDocs in strict mode (a warning fails it).
- ``bench`` (not a default): the benchmarks, printing ratios against raw baselines.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent

#: First-party backends, each a distribution under plugins/.
BACKENDS = sorted(p.name.removeprefix("victor-") for p in (ROOT / "plugins").glob("victor-*"))
#: Applications built on the kernel, each a distribution under apps/ (victor-demo).
APPS = sorted((ROOT / "apps").glob("victor-*"))

nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "tests-kernel",
    "docs",
    *(f"contract-{b}" for b in BACKENDS),
]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
TEST_TOOLS = ["pytest>=8", "pytest-asyncio>=0.24", "hypothesis>=6.100"]
# Optional integrations the tests and docs exercise: pydantic models (victor_core.pydantic)
# and the FastAPI service of the tutorial (examples/fastapi_service).
TEST_TOOLS += ["pydantic>=2", "fastapi>=0.110", "uvicorn>=0.29", "httpx>=0.27"]
# Linters are pinned: a new release may judge the same code differently.
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"
IMPORT_LINTER = "import-linter==2.17"
#: The peers the benchmarks compare against, pinned so that figures stay comparable
#: (eventsourcing's PostgreSQL module runs on psycopg 3).
BENCH_PEERS = ["eventsourcing[postgres]==9.5.6", "psycopg[binary]>=3.2"]
#: Type information for dependencies that ship none.
TYPE_STUBS = ["asyncpg-stubs>=0.29", "types-tqdm>=4.66"]


#: Extras of first-party plugins that the tests need (the MongoDB stand-ins: in-process
#: databases, and mockupdb for the scripted wire-protocol server the real driver talks to).
TEST_EXTRAS = {"mongodb": "[fake]"}


def _install_project(session: nox.Session) -> None:
    """The kernel, every first-party plugin and application, and the contract suite, editable."""
    plugins = [
        f"-e{ROOT / 'plugins' / f'victor-{name}'}{TEST_EXTRAS.get(name, '')}" for name in BACKENDS
    ]
    apps = [f"-e{app}" for app in APPS]
    session.install(f"-e{ROOT}", *plugins, *apps, f"-e{ROOT / 'contract_tests'}", *TEST_TOOLS)


@nox.session
def tests(session: nox.Session) -> None:
    """Kernel tests, each plugin's and application's own tests and the documentation examples."""
    _install_project(session)
    own_tests = [*(ROOT / "plugins").glob("*/tests"), *(ROOT / "apps").glob("*/tests")]
    plugin_tests = [str(p) for p in sorted(own_tests) if p.is_dir()]
    session.run("pytest", "tests", *plugin_tests, *session.posargs)


@nox.session(name="tests-kernel")
def tests_kernel(session: nox.Session) -> None:
    """The kernel's tests on the kernel alone: no backend plugin, no demo, no contract suite.

    victor-core depends on victor-memory so that ``pip install victor-core`` can store
    something; the kernel's tests must not, so the kernel is installed without its
    dependencies and then with those that are not victor distributions.
    """
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    own = [r for r in declared["project"]["dependencies"] if not r.startswith("victor-")]
    session.install("--no-deps", f"-e{ROOT}")
    session.install(*own, *TEST_TOOLS)
    session.run("pytest", "tests", "-m", "not newcomer", *session.posargs)


def _contract_session(backend: str) -> None:
    @nox.session(name=f"contract-{backend}")
    def contract(session: nox.Session) -> None:
        _install_project(session)
        session.run("victor", "backends")
        if backend != "mongodb":
            session.run("pytest", f"--victor-backend={backend}", *session.posargs)
            return
        # Without a server: the in-process stand-in, through both client APIs.
        for flavour in ("pymongo", "motor"):
            env = {"VICTOR_MONGODB_URL": "", "VICTOR_MONGODB_CLIENT": flavour}
            session.run("pytest", "--victor-backend=mongodb", *session.posargs, env=env)

    contract.__doc__ = f"The contract suite against the {backend!r} backend."


for _backend in BACKENDS:
    _contract_session(_backend)


@nox.session(name="contract-mongodb-real")
def contract_mongodb_real(session: nox.Session) -> None:
    """The contract suite against the MongoDB server at VICTOR_MONGODB_URL (not a default)."""
    if not os.environ.get("VICTOR_MONGODB_URL"):
        session.error(
            "set VICTOR_MONGODB_URL, e.g. VICTOR_MONGODB_URL=mongodb://localhost:27017 "
            "nox -s contract-mongodb-real (docs/mongodb.md says how to start MongoDB)"
        )
    _install_project(session)
    session.run("victor", "backends")
    session.run("pytest", "--victor-backend=mongodb", *session.posargs)
    # The backend's own tests that only a replica set can answer (skipped on a standalone).
    replica_set = ROOT / "plugins" / "victor-mongodb" / "tests" / "test_mongodb_real_replica_set.py"
    session.run("pytest", str(replica_set), *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint rules and formatting) and import-linter (the layering in pyproject.toml)."""
    session.install(RUFF, IMPORT_LINTER)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # import-linter reads the import graph of the installed packages; their code, not their
    # dependencies, is all it needs.
    packages = [ROOT, *(ROOT / "plugins").glob("victor-*"), *APPS, ROOT / "contract_tests"]
    session.install("--no-deps", *(f"-e{p}" for p in sorted(packages)))
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the kernel, the plugins and the contract suite."""
    _install_project(session)
    session.install(MYPY, *TYPE_STUBS)
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site and its API reference; any warning (a broken link) fails it."""
    _install_project(session)
    # ruff lays out the long signatures in the API reference.
    session.install("mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26", RUFF)
    site = Path(session.create_tmp()) / "site"
    config = str(ROOT / "mkdocs.yml")
    build = ["mkdocs", "build", "--strict", "--config-file", config, "--site-dir", str(site)]
    session.run(*build, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: each prints its numbers as ratios to a baseline measured in the same run."""
    _install_project(session)
    # Peers measured in the same run; benchmark-only dependencies.
    session.install(*BENCH_PEERS)
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
