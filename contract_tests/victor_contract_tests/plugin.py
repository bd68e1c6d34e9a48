"""The pytest plugin: selects a backend, collects the suite, skips what the storage lacks.

``pytest --victor-backend=NAME_OR_URL`` runs the suite against an installed backend (the
``victor contract-test`` command is a shortcut for it). Without the option the plugin adds
nothing to a test run, so installing it next to an application's own tests is harmless.

A test marked ``@requires(...)`` is skipped when its storage lacks a capability: the
capabilities its ``ContractInstance`` names, or else those the backend declares; the summary
lists what was not tested.

The suite cannot hang and says what broke: every test runs under a time limit
(``--victor-timeout``, by pytest-timeout), property-based tests keep no example database, and
a failure or time-out is reported with the guarantee the test checks and the backend. Nothing
is written into the working directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from victor_contract_tests import checked
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
#: Capability -> how many tests were skipped for lacking it.
_untested_key = pytest.StashKey[dict[Capability, int]]()
_timeouts_key = pytest.StashKey[list[str]]()
_hypothesis_home_key = pytest.StashKey[str]()

#: Seconds a contract test may take, setup and teardown included, unless --victor-timeout.
DEFAULT_TIMEOUT = 120.0
#: After this many time-outs the run stops: a backend that hangs everywhere fails quickly.
MAX_TIMEOUTS = 3
#: Examples per property-based test unless the test says otherwise.
MAX_EXAMPLES = 50

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
    group.addoption(
        "--victor-timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="time limit of each contract test, setup and teardown included "
        f"(default {DEFAULT_TIMEOUT:g}; 0 for none); a time-out fails the test",
    )
    group.addoption(
        "--victor-collation",
        metavar="NAME",
        default=None,
        help="ask the backend to make each test's storage compare strings under this "
        "collation by default (for example en_US.utf8), so that a backend relying on the "
        "engine's default instead of byte order fails",
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
    config.stash[_untested_key] = {}
    config.stash[_timeouts_key] = []
    _keep_hypothesis_out_of_the_working_directory(config)
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        # No paths given: run the suite rather than the current project's tests.
        config.args = [str(SUITE_DIR)]


def _keep_hypothesis_out_of_the_working_directory(config: pytest.Config) -> None:
    """No example database, and Hypothesis's caches in a directory removed at the end."""
    from hypothesis import HealthCheck, settings
    from hypothesis.configuration import set_hypothesis_home_dir

    home = tempfile.mkdtemp(prefix="victor-contract-hypothesis-")
    config.stash[_hypothesis_home_key] = home
    set_hypothesis_home_dir(home)
    settings.register_profile(
        "victor-contract",
        database=None,
        max_examples=MAX_EXAMPLES,
        # Per-example deadlines fail healthy backends on a loaded machine; the time limit of
        # the whole test (--victor-timeout) is what stops a hang.
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    settings.load_profile("victor-contract")


def pytest_unconfigure(config: pytest.Config) -> None:
    home = config.stash.get(_hypothesis_home_key, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


def _in_contract(item: pytest.Item) -> bool:
    """True for a test of the contract suite, or one using its fixtures, in a suite run."""
    if _backend_key not in item.config.stash:
        return False
    return item.path.parent == SUITE_DIR or "victor_backend" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    limit = config.getoption("victor_timeout")
    if not limit or limit <= 0:
        return
    for item in items:
        if _in_contract(item) and item.get_closest_marker("timeout") is None:
            # signal: the test fails with a time-out and the run goes on (the thread
            # method would end the whole process).
            item.add_marker(pytest.mark.timeout(limit, method="signal"))


def guarantee_of(item: pytest.Item) -> str:
    """The guarantee a contract test checks: its docstring's first line, or its name."""
    function = getattr(item, "function", None)
    doc = (getattr(function, "__doc__", None) or "").strip()
    if doc:
        return doc.splitlines()[0].strip().rstrip(".")
    name = getattr(item, "originalname", None) or item.name
    return name.removeprefix("test_").replace("_", " ")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    excinfo = call.excinfo
    if (
        excinfo is not None
        and _in_contract(item)
        and not excinfo.errisinstance(pytest.skip.Exception)
    ):
        _name_the_guarantee(item, call.when, excinfo.value)
    return (yield)


def _name_the_guarantee(item: pytest.Item, when: str, error: BaseException) -> None:
    """Put the guarantee and the backend in front of what the failure says."""
    if getattr(error, "_victor_named", False):
        return  # a session-scoped error is raised again for every test
    backend = item.config.stash[_backend_key]
    doing = {
        "setup": "failed before the test could check the guarantee",
        "teardown": "failed cleaning up after the test of the guarantee",
    }.get(when, "broke the guarantee")
    headline = f"backend {backend.name!r} {doing}: {guarantee_of(item)}"
    if isinstance(error, pytest.fail.Exception):
        message = error.msg or ""
        if message.startswith("Timeout ("):
            limit = item.config.getoption("victor_timeout")
            message = (
                f"timed out: no answer within {limit:g} s ({message.strip()}); a contract "
                "test must finish, so a hang is a failure (--victor-timeout sets the limit)"
            )
            _count_timeout(item)
        error.msg = f"{headline}\n{message}"
    elif isinstance(error, AssertionError):
        first = str(error.args[0]) if error.args else "assertion failed"
        error.args = (f"{headline}\n{first}", *error.args[1:])
    else:
        error.add_note(headline)
    with contextlib.suppress(AttributeError):  # an exception class with __slots__
        error._victor_named = True  # type: ignore[attr-defined]


def _count_timeout(item: pytest.Item) -> None:
    timeouts = item.config.stash[_timeouts_key]
    timeouts.append(item.nodeid)
    if len(timeouts) >= MAX_TIMEOUTS:
        backend = item.config.stash[_backend_key]
        item.session.shouldstop = (
            f"backend {backend.name!r} timed out in {len(timeouts)} contract tests; the run "
            "stops here rather than wait for every test to time out"
        )


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
            _untested(item.config, capability)
            pytest.skip(_not_declared(backend, capability))


def _untested(config: pytest.Config, capability: Capability) -> None:
    untested = config.stash[_untested_key]
    untested[capability] = untested.get(capability, 0) + 1


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    untested = config.stash.get(_untested_key, None)
    if not untested:
        return
    backend = config.stash[_backend_key]
    listed = ", ".join(
        f"{capability.value} ({count} test{'s' if count != 1 else ''})"
        for capability, count in sorted(untested.items(), key=lambda kv: kv[0].value)
    )
    terminalreporter.write_sep("=", "victor contract suite")
    terminalreporter.write_line(f"capabilities not tested on backend {backend.name!r}: {listed}")


def _not_declared(backend: Backend, capability: Capability) -> str:
    return f"backend {backend.name!r} does not declare capability {capability.value!r}"


def _missing_capability(
    backend: Backend, instance: ContractInstance, required: list[Capability]
) -> tuple[Capability, str] | None:
    """Why the test cannot run on *instance*, or None when it provides all of *required*.

    An instance that names its capabilities (a stand-in, a standalone server, a replica
    set) is judged by them, so it may provide more than the backend declares, or less.
    """
    for capability in required:
        if instance.capabilities is None:
            if not backend.info.supports(capability):
                return capability, _not_declared(backend, capability)
        elif capability not in instance.capabilities:
            return (
                capability,
                f"this {backend.name} instance does not provide capability {capability.value!r}",
            )
    return None


@pytest.fixture
def victor_backend(request: pytest.FixtureRequest) -> Backend:
    """The backend under test."""
    backend = request.config.stash.get(_backend_key, None)
    if backend is None:
        pytest.skip("no backend selected: run with --victor-backend=NAME")
    return backend


@pytest.fixture(scope="session")
def victor_provisioned(request: pytest.FixtureRequest) -> Iterator[Any]:
    """What the backend's ``victor_contract_provision`` yielded, for the whole run.

    It is entered and exited in an event loop of its own: each test has its own loop, and
    the provisioned storage outlives all of them.
    """
    backend = request.config.stash.get(_backend_key, None)
    provision = (
        None
        if backend is None
        else backend.contract_provision(request.config.getoption("victor_collation"))
    )
    if provision is None:
        yield None
        return
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        provisioned = runner.run(provision.__aenter__())
        try:
            yield provisioned
        finally:
            runner.run(provision.__aexit__(None, None, None))


@pytest_asyncio.fixture
async def contract_instance(
    victor_backend: Backend,
    victor_provisioned: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[ContractInstance]:
    """A fresh, isolated storage for this test, cleaned up afterwards.

    The test is skipped here, after the instance exists, when it needs a capability the
    instance does not provide: only the instance knows what its deployment guarantees.
    """
    collation = request.config.getoption("victor_collation")
    instance = victor_backend.contract_instance(tmp_path, victor_provisioned, collation)
    if collation is not None and instance.collation != collation:
        await instance.cleanup()
        refused = (
            f"--victor-collation={collation}: backend {victor_backend.name!r} made its contract "
            f"instance under {instance.collation or 'no requested collation'} "
            "(ContractInstance.collation), so the suite cannot run under that collation; see "
            "the plugin author's guide"
        )
        request.session.shouldstop = refused
        pytest.fail(refused, pytrace=False)
    missing = _missing_capability(victor_backend, instance, _required_capabilities(request.node))
    if missing is not None:
        await instance.cleanup()
        _untested(request.config, missing[0])
        pytest.skip(missing[1])
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
        checked.watch(store.recorder)
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
