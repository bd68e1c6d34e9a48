"""The pytest plugin: selects a backend, collects the suite, skips what the storage lacks.

``pytest --victor-backend=NAME_OR_URL`` runs the suite against an installed backend (the
``victor contract-test`` command is a shortcut for it). Without the option the plugin adds
nothing to a test run, so installing it next to an application's own tests is harmless.

A test marked ``@requires(...)`` is skipped when its storage lacks a capability: the
capabilities its ``ContractInstance`` names, or else those the backend declares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from victor_core import Backend, Entity, EventStore, Repository, default_registry
from victor_core.backend import (
    CONTRACT_VERSION,
    Capability,
    ContractInstance,
    VictorError,
    parse_url,
)

#: Where the contract tests live; only files named ``contract_*.py`` in it are collected.
SUITE_DIR = Path(__file__).parent / "suite"

_backend_key = pytest.StashKey[Backend]()

#: Mark a contract test as needing capabilities: ``@requires(Capability.DURABILITY)``.
requires = pytest.mark.victor_requires


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("victor", "victor storage contract suite")
    group.addoption(
        "--victor-backend",
        metavar="NAME_OR_URL",
        default=None,
        help="run the victor contract suite against this installed backend (name or URL)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "victor_requires(*capabilities): skip unless the test's storage provides the capabilities",
    )
    selected = config.getoption("victor_backend")
    if not selected:
        return
    try:
        backend = default_registry().backend_for(parse_url(selected))
    except VictorError as exc:
        raise pytest.UsageError(f"--victor-backend={selected}: {exc}") from exc
    config.stash[_backend_key] = backend
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        # No paths given: run the suite rather than the current project's tests.
        config.args = [str(SUITE_DIR)]


def pytest_report_header(config: pytest.Config) -> list[str]:
    backend = config.stash.get(_backend_key, None)
    if backend is None:
        return []
    declared = ", ".join(sorted(c.value for c in backend.info.capabilities)) or "none"
    return [
        f"victor contract suite v{CONTRACT_VERSION} against backend {backend.name!r} "
        f"({backend.entry.distribution} {backend.entry.version}, proven against "
        f"v{backend.info.contract_version})",
        f"declared capabilities: {declared}",
    ]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if _backend_key not in parent.config.stash:
        return None
    if parent.session.isinitpath(file_path):
        return None  # named on the command line: pytest collects it already
    name = file_path.name
    if file_path.parent == SUITE_DIR and name.startswith("contract_") and name.endswith(".py"):
        module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
        return module
    return None


def _required_capabilities(item: pytest.Item) -> list[Capability]:
    return [
        Capability(capability)
        for marker in item.iter_markers("victor_requires")
        for capability in marker.args
    ]


def pytest_runtest_setup(item: pytest.Item) -> None:
    backend = item.config.stash.get(_backend_key, None)
    if backend is None or "contract_instance" in getattr(item, "fixturenames", ()):
        return  # a test with storage is decided by its instance (see contract_instance)
    for capability in _required_capabilities(item):
        if not backend.info.supports(capability):
            pytest.skip(_not_declared(backend, capability))


def _not_declared(backend: Backend, capability: Capability) -> str:
    return f"backend {backend.name!r} does not declare capability {capability.value!r}"


def _missing_capability(
    backend: Backend, instance: ContractInstance, required: list[Capability]
) -> str | None:
    """Why the test cannot run on *instance*, or None when it provides all of *required*.

    An instance that names its capabilities (a stand-in, a standalone server, a replica
    set) is judged by them, so it may provide more than the backend declares, or less.
    """
    for capability in required:
        if instance.capabilities is None:
            if not backend.info.supports(capability):
                return _not_declared(backend, capability)
        elif capability not in instance.capabilities:
            return f"this {backend.name} instance does not provide capability {capability.value!r}"
    return None


@pytest.fixture
def victor_backend(request: pytest.FixtureRequest) -> Backend:
    """The backend under test."""
    backend = request.config.stash.get(_backend_key, None)
    if backend is None:
        pytest.skip("no backend selected: run with --victor-backend=NAME")
    return backend


@pytest_asyncio.fixture
async def contract_instance(
    victor_backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[ContractInstance]:
    """A fresh, isolated storage for this test, cleaned up afterwards.

    The test is skipped here, after the instance exists, when it needs a capability the
    instance does not provide: only the instance knows what its deployment guarantees.
    """
    instance = victor_backend.contract_instance(tmp_path)
    missing = _missing_capability(victor_backend, instance, _required_capabilities(request.node))
    if missing is not None:
        await instance.cleanup()
        pytest.skip(missing)
    try:
        yield instance
    finally:
        await instance.cleanup()


OpenEventStore = Callable[..., Awaitable[EventStore]]


@pytest_asyncio.fixture
async def open_event_store(
    victor_backend: Backend, contract_instance: ContractInstance
) -> AsyncIterator[OpenEventStore]:
    """Opens event stores on this test's storage; each is closed after the test.

    Extra keyword arguments are passed to the backend as options (``serializer=...``).
    """
    opened: list[EventStore] = []

    async def open_store(**options: Any) -> EventStore:
        url = parse_url(contract_instance.url)
        store = victor_backend.create_event_store(
            url, {**url.options, **contract_instance.options, **options}
        )
        opened.append(store)
        return store

    try:
        yield open_store
    finally:
        for store in reversed(opened):
            await store.close()


OpenRepository = Callable[..., Awaitable[Repository[Any]]]


@pytest_asyncio.fixture
async def open_repository(
    victor_backend: Backend, contract_instance: ContractInstance
) -> AsyncIterator[OpenRepository]:
    """Opens repositories on this test's storage; each is closed after the test.

    ``await open_repository(User, **options)``: extra keyword arguments are passed to the
    backend as options. Opening the same entity class twice reaches the same entities.
    """
    opened: list[Repository[Any]] = []

    async def open_one(entity_type: type[Entity], **options: Any) -> Repository[Any]:
        url = parse_url(contract_instance.url)
        repository = victor_backend.create_repository(
            url, entity_type, {**url.options, **contract_instance.options, **options}
        )
        opened.append(repository)
        return repository

    try:
        yield open_one
    finally:
        for repository in reversed(opened):
            await repository.close()


@pytest_asyncio.fixture
async def event_store(open_event_store: OpenEventStore) -> EventStore:
    """An event store on this test's storage."""
    return await open_event_store()
