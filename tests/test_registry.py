"""Finding backends through entry points, loading them lazily, and the errors users see."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest

from tests.support.distributions import install_distribution
from victor_core import (
    BackendNotFound,
    ConfigurationError,
    DuplicateBackend,
    Entity,
    EntityAlreadyExists,
    EventStore,
    PluginLoadError,
    PluginLoadWarning,
    PluginRegistry,
    UnitOfWork,
)
from victor_core.backend import known, parse_url
from victor_core.backend.known import install_command, install_hint

WORKING_BACKEND = """
    from victor_core import EventStore
    from victor_core.backend import BackendInfo, Capability, hookimpl
    from tests.support.backend import ListRecorder, Database

    @hookimpl
    def victor_backend_info():
        return BackendInfo(name="{name}", version="2.5", url_schemes=("{name}", "{name}+fast"),
                           capabilities={{Capability.EVENT_STORE}})

    @hookimpl
    def victor_create_event_store(url, options):
        return EventStore(ListRecorder(Database()))
"""


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path where the test installs distributions."""
    directory = tmp_path / "site-packages"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    return directory


def install_backend(site: Path, backend: str, distribution: str, source: str) -> str:
    module = unique("backend_module")
    install_distribution(
        site,
        distribution,
        entry_points={"victor.backends": {backend: module}},
        modules={f"{module}.py": source},
    )
    return module


def test_an_unknown_backend_lists_the_installed_ones_and_says_what_to_install() -> None:
    with pytest.raises(BackendNotFound) as caught:
        PluginRegistry().backend("cassandra")

    message = str(caught.value)
    assert "'cassandra'" in message
    assert "lists (victor-kernel-tests" in message
    assert "victor.backends" in message


def test_from_a_source_checkout_the_hint_names_the_plugin_directory_there() -> None:
    """The tests run on an editable install of this checkout: an index has no victor-sqlite."""
    root = Path(__file__).resolve().parents[1]
    assert install_hint("sqlite") == f"pip install {root / 'plugins' / 'victor-sqlite'}"
    assert (root / "plugins" / "victor-sqlite" / "pyproject.toml").is_file()
    assert install_command("victor-contract-tests") == f"pip install {root / 'contract_tests'}"
    assert install_command("victor-mongodb", "fake") == (
        f"pip install '{root / 'plugins' / 'victor-mongodb'}[fake]'"
    )


def test_without_a_checkout_the_hint_names_the_index_and_the_checkout_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(known, "source_checkout", lambda: None)
    assert install_hint("sqlite") == (
        "pip install victor-sqlite "
        "(from a source checkout of victor-core: pip install ./plugins/victor-sqlite)"
    )
    assert "pip install 'victor-mongodb[fake]'" in install_command("victor-mongodb", "fake")


def test_a_backend_from_another_distribution_is_selected_by_name_and_by_url_scheme(
    site: Path,
) -> None:
    name = unique("fancy")
    install_backend(site, name, "victor-fancy", WORKING_BACKEND.format(name=name))
    registry = PluginRegistry()

    backend = registry.backend(name)

    assert backend.info.version == "2.5"
    assert backend.entry.distribution == "victor-fancy"
    assert isinstance(registry.open_event_store(f"{name}://"), EventStore)
    assert isinstance(registry.open_event_store(f"{name}+fast://somewhere"), EventStore)
    with pytest.raises(ConfigurationError, match=r"does not accept URLs starting with"):
        registry.open_event_store(f"{name}+slow://")


def test_a_broken_backend_names_its_entry_point_and_distribution_and_spares_the_others(
    site: Path,
) -> None:
    name = unique("broken")
    module = install_backend(site, name, "victor-broken", "raise ImportError('needs libfoo 3')\n")
    registry = PluginRegistry()

    assert name in registry.installed_backends()  # listed without importing it
    with pytest.raises(PluginLoadError) as caught:
        registry.backend(name)

    message = str(caught.value)
    assert f"'{name} = {module}'" in message
    assert "victor-broken 1.0" in message
    assert "needs libfoo 3" in message
    assert isinstance(caught.value.__cause__, ImportError)
    # The other backends keep working.
    assert isinstance(registry.open_event_store("lists://"), EventStore)


def test_two_distributions_claiming_one_name_is_an_error_naming_both(site: Path) -> None:
    name = unique("twin")
    install_backend(site, name, "victor-twin-a", WORKING_BACKEND.format(name=name))
    install_backend(site, name, "victor-twin-b", WORKING_BACKEND.format(name=name))

    with pytest.raises(DuplicateBackend) as caught:
        PluginRegistry().backend(name)

    message = str(caught.value)
    assert "victor-twin-a 1.0" in message
    assert "victor-twin-b 1.0" in message
    assert "uninstall" in message


def test_a_backend_whose_info_disagrees_with_its_entry_point_is_refused(site: Path) -> None:
    name = unique("liar")
    install_backend(site, name, "victor-liar", WORKING_BACKEND.format(name="somebody_else"))

    with pytest.raises(PluginLoadError, match="must equal its entry point name"):
        PluginRegistry().backend(name)


def test_hook_calls_reach_only_the_selected_backend(site: Path) -> None:
    first, second = unique("first"), unique("second")
    install_backend(site, first, "victor-first", WORKING_BACKEND.format(name=first))
    install_backend(site, second, "victor-second", WORKING_BACKEND.format(name=second))
    registry = PluginRegistry()

    registry.backend(first)
    registry.backend(second)

    # firstresult hooks would otherwise answer with whichever backend registered last.
    assert registry.backend(first).info.name == first
    assert registry.backend(second).info.name == second


def test_a_plugin_that_fails_to_load_is_reported_and_skipped(site: Path) -> None:
    good, bad = unique("good_plugin"), unique("bad_plugin")
    install_distribution(
        site,
        "victor-telemetry",
        entry_points={"victor.plugins": {"telemetry": good, "broken": bad}},
        modules={
            f"{good}.py": """
                from victor_core.backend import hookimpl

                @hookimpl
                def victor_bus_middleware(bus):
                    return ["marker"]
            """,
            f"{bad}.py": "import does_not_exist_anywhere\n",
        },
    )
    registry = PluginRegistry()

    with pytest.warns(PluginLoadWarning, match="does_not_exist_anywhere"):
        manager = registry.manager

    assert [str(e).split(":")[0] for e in registry.plugin_failures] == [
        "plugin 'broken' was skipped"
    ]
    assert isinstance(registry.plugin_failures[0].__cause__, ModuleNotFoundError)
    assert manager.hook.victor_bus_middleware(bus="command") == [["marker"]]


RAISING_INFO = """
    from victor_core.backend import hookimpl

    @hookimpl
    def victor_backend_info():
        raise RuntimeError("settings file /etc/{name}.toml is missing")
"""

LIAR_WITH_A_STORE = """
    from victor_core import EventStore
    from victor_core.backend import BackendInfo, Capability, hookimpl
    from tests.support.backend import ListRecorder, Database

    class Impostor(EventStore):
        pass

    @hookimpl
    def victor_backend_info():
        return BackendInfo(name="someone", version="1", capabilities={Capability.EVENT_STORE})

    @hookimpl
    def victor_create_event_store(url, options):
        return Impostor(ListRecorder(Database()))
"""


def test_a_backend_whose_info_hook_raises_is_a_load_error_that_spares_the_others(
    site: Path,
) -> None:
    name = unique("raising")
    install_backend(site, name, "victor-raising", RAISING_INFO.format(name=name))
    registry = PluginRegistry()

    with pytest.raises(PluginLoadError) as caught:
        registry.backend(name)

    message = str(caught.value)
    assert "victor-raising 1.0" in message
    assert f"/etc/{name}.toml is missing" in message
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert isinstance(registry.open_event_store("lists://"), EventStore)


def test_a_backend_refused_at_loading_never_answers_for_another(site: Path) -> None:
    name = unique("impostor")
    install_backend(site, name, "victor-impostor", LIAR_WITH_A_STORE)
    registry = PluginRegistry()
    registry.backend("lists")

    with pytest.raises(PluginLoadError, match="must equal its entry point name"):
        registry.backend(name)

    store = registry.open_event_store("lists://")
    assert type(store) is EventStore
    assert registry.backend("lists").info.name == "lists"


SCHEMED_BACKEND = """
    from victor_core import EventStore
    from victor_core.backend import BackendInfo, Capability, hookimpl
    from tests.support.backend import ListRecorder, Database

    @hookimpl
    def victor_backend_info():
        return BackendInfo(name="{name}", version="3.1", url_schemes=({schemes}),
                           capabilities={{Capability.EVENT_STORE}})

    @hookimpl
    def victor_create_event_store(url, options):
        return EventStore(ListRecorder(Database()))
"""


def test_a_url_goes_to_the_backend_that_declares_its_scheme_whatever_its_name(
    site: Path,
) -> None:
    name, scheme = unique("pg"), unique("postgresql")
    install_backend(
        site, name, "victor-pg", SCHEMED_BACKEND.format(name=name, schemes=f"{scheme!r},")
    )
    registry = PluginRegistry()

    assert registry.backend_for(parse_url(f"{scheme}://db.example/app")).name == name
    assert registry.backend_for(parse_url(f"{name}://db.example/app")).name == name
    assert isinstance(registry.open_event_store(f"{scheme}://db.example/app"), EventStore)


def test_two_backends_declaring_one_scheme_is_an_error_naming_both(site: Path) -> None:
    first, second, scheme = unique("pg_a"), unique("pg_b"), unique("shared")
    schemes = f"{scheme!r},"
    install_backend(site, first, "victor-pg-a", SCHEMED_BACKEND.format(name=first, schemes=schemes))
    install_backend(
        site, second, "victor-pg-b", SCHEMED_BACKEND.format(name=second, schemes=schemes)
    )

    with pytest.raises(DuplicateBackend) as caught:
        PluginRegistry().open_event_store(f"{scheme}://somewhere")

    message = str(caught.value)
    assert f"'{scheme}://'" in message
    assert f"'{first}' (victor-pg-a 1.0)" in message
    assert f"'{second}' (victor-pg-b 1.0)" in message
    assert "uninstall" in message


def test_a_scheme_nobody_declares_lists_the_schemes_and_the_backends_that_failed_to_load(
    site: Path,
) -> None:
    broken, scheme = unique("broken"), unique("nosuch")
    install_backend(site, broken, "victor-broken", "raise ImportError('needs libpq 16')\n")
    registry = PluginRegistry()

    with pytest.raises(BackendNotFound) as caught:
        registry.open_event_store(f"{scheme}://host/db")

    message = str(caught.value)
    assert f"no installed backend accepts URLs starting with '{scheme}://'" in message
    assert "lists: lists://" in message
    assert "url_schemes" in message
    assert "needs libpq 16" in message
    # The broken backend spares URLs that other backends declare.
    assert isinstance(registry.open_event_store("lists://"), EventStore)


@dataclasses.dataclass
class Shelf(Entity):
    label: str = ""


@dataclasses.dataclass
class Crate(Entity):
    weight: int = 0


HOOK_ONLY_TRANSACTIONS = """
    import copy

    from victor_core import EventStore
    from victor_core.backend import BackendInfo, Capability, apply_in_order, hookimpl
    from tests.support.backend import Database, ListRecorder, ListRepository, database

    class Manager:
        '''Commits the writes to one Database, all or none: its stores do not say so.'''

        commits = []

        def __init__(self, db):
            self.db = db
            self.key = id(db)

        async def commit(self, writes):
            saved = copy.deepcopy(self.db.documents), list(self.db.events)
            try:
                results = await apply_in_order(writes)
            except BaseException:
                for name, rows in self.db.documents.items():  # in place: stores hold them
                    rows.clear()
                    rows.update(saved[0].get(name, {{}}))
                self.db.events[:] = saved[1]
                raise
            Manager.commits.append(len(writes))
            return results

    @hookimpl
    def victor_backend_info():
        return BackendInfo(name="{name}", version="1", url_schemes=("{name}",),
                           capabilities={{Capability.EVENT_STORE, Capability.REPOSITORY,
                                          Capability.TRANSACTIONS}})

    @hookimpl
    def victor_create_event_store(url, options):
        return EventStore(ListRecorder(database(url.authority)))

    @hookimpl
    def victor_create_repository(url, entity_type, options):
        return ListRepository(entity_type, name=url.authority)

    @hookimpl
    def victor_transaction_manager(resource):
        store = getattr(resource, "store", None) or getattr(resource, "recorder", None)
        db = getattr(store, "db", None)
        return Manager(db) if isinstance(db, Database) else None
"""


@pytest.mark.asyncio
async def test_a_backend_offering_its_transaction_manager_only_through_its_hook_commits_atomically(
    site: Path,
) -> None:
    """A third-party backend whose stores do not answer transaction_manager() themselves."""
    name = unique("hookonly")
    module = install_backend(
        site, name, "victor-hookonly", HOOK_ONLY_TRANSACTIONS.format(name=name)
    )
    registry = PluginRegistry()
    shelves = registry.open_repository(f"{name}://db", Shelf)
    crates = registry.open_repository(f"{name}://db", Crate)
    manager = __import__(module).Manager

    def unit_of_work() -> UnitOfWork:
        uow = UnitOfWork()
        uow.register_repository(shelves, Shelf)
        uow.register_repository(crates, Crate)
        return uow

    async with unit_of_work() as uow:  # two repositories, one transaction: not refused
        uow.register_new(Shelf(id="s1", label="top"))
        uow.register_new(Crate(id="c1", weight=3))
        await uow.commit()
    assert manager.commits == [2]
    assert await shelves.get("s1") is not None
    assert await crates.get("c1") is not None

    uow = unit_of_work()
    uow.register_new(Shelf(id="s2"))
    uow.register_new(Crate(id="c1"))  # taken: the whole commit is refused
    with pytest.raises(EntityAlreadyExists):
        await uow.commit()
    assert await shelves.get("s2") is None, "the hook's manager undoes the whole commit"
