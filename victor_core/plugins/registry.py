"""Finding, loading and calling plugins.

Backends are found through the entry point group ``victor.backends`` and loaded only when
asked for, so a broken plugin that nobody uses cannot break the others. Other plugins
(group ``victor.plugins``) are loaded when the registry starts; one that fails to import is
reported with a warning and skipped.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pluggy

from victor_core.backend.contract import ContractInstance
from victor_core.backend.info import BackendInfo, Capability
from victor_core.backend.known import install_hint, scheme_hint
from victor_core.backend.markers import PROJECT_NAME
from victor_core.backend.storage_schema import StorageSchema
from victor_core.backend.transactions import offer_transaction_manager
from victor_core.backend.url import BackendURL, parse_url
from victor_core.errors import (
    BackendError,
    BackendNotFound,
    CapabilityNotSupported,
    ConfigurationError,
    DuplicateBackend,
    PluginLoadError,
)
from victor_core.eventsourcing.store import EventStore
from victor_core.plugins import hookspecs
from victor_core.repository.entity import Entity, check_entity_type
from victor_core.repository.repository import Repository

E = TypeVar("E", bound=Entity)

BACKENDS_GROUP = "victor.backends"
PLUGINS_GROUP = "victor.plugins"


class PluginLoadWarning(UserWarning):
    """A plugin in ``victor.plugins`` failed to load and was skipped."""


@attrs.frozen
class PluginEntry:
    """An installed plugin, known from its entry point and not yet imported."""

    name: str
    #: ``module:attribute`` as written in the entry point.
    value: str
    distribution: str
    version: str
    entry_point: EntryPoint = attrs.field(eq=False, repr=False)

    def describe(self) -> str:
        """``name = module:attr`` from ``distribution version``, for messages."""
        return (
            f"entry point '{self.name} = {self.value}' of distribution "
            f"'{self.distribution} {self.version}'"
        )


def _entries(group: str) -> list[PluginEntry]:
    seen: set[tuple[str, str, str]] = set()
    found = []
    for ep in entry_points(group=group):
        dist = ep.dist
        distribution = dist.name if dist is not None else "<unknown distribution>"
        version = dist.version if dist is not None else "?"
        key = (ep.name, ep.value, distribution)
        if key in seen:  # the same distribution seen twice on sys.path
            continue
        seen.add(key)
        found.append(PluginEntry(ep.name, ep.value, distribution, version, ep))
    return sorted(found, key=lambda entry: (entry.name, entry.distribution))


@attrs.frozen
class Backend:
    """A loaded backend: its entry, its declaration, and calls to its own hooks only."""

    entry: PluginEntry
    info: BackendInfo
    plugin: object = attrs.field(repr=False)
    _call: Callable[..., Any] = attrs.field(repr=False, alias="call")

    @property
    def name(self) -> str:
        """The backend's name, as users select it."""
        return self.info.name

    def create_event_store(self, url: BackendURL, options: Mapping[str, Any]) -> EventStore:
        """An event store on *url*; raises when the backend has none."""
        store = self._call("victor_create_event_store", url=url, options=dict(options))
        if store is None:
            raise CapabilityNotSupported(
                f"backend {self.name!r} ({self.entry.distribution}) provides no event store; "
                f"it declares: {_listed(self.info.capabilities)}"
            )
        if not isinstance(store, EventStore):
            raise PluginLoadError(
                f"backend {self.name!r} returned {type(store).__qualname__} from "
                "victor_create_event_store; it must return a victor_core.EventStore"
            )
        self._offer_transaction_manager(store)
        return store

    def create_repository(
        self, url: BackendURL, entity_type: type[E], options: Mapping[str, Any]
    ) -> Repository[E]:
        """A repository of *entity_type* on *url*; raises when the backend has none."""
        repository = self._call(
            "victor_create_repository",
            url=url,
            entity_type=check_entity_type(entity_type),
            options=dict(options),
        )
        if repository is None:
            raise CapabilityNotSupported(
                f"backend {self.name!r} ({self.entry.distribution}) provides no repositories; "
                f"it declares: {_listed(self.info.capabilities)}"
            )
        if not isinstance(repository, Repository):
            raise PluginLoadError(
                f"backend {self.name!r} returned {type(repository).__qualname__} from "
                "victor_create_repository; it must return a victor_core.Repository"
            )
        self._offer_transaction_manager(repository)
        return repository

    def _offer_transaction_manager(self, resource: object) -> None:
        # A unit of work asks the stores its writes name; what the hook offers for the
        # resource is their answer when they give none themselves.
        manager = self.transaction_manager(resource)
        if manager is not None:
            offer_transaction_manager(resource, manager)

    def contract_instance(
        self, workdir: Path, provisioned: Any = None, collation: str | None = None
    ) -> ContractInstance:
        """A fresh isolated storage for one contract test."""
        instance = self._call(
            "victor_contract_instance",
            workdir=workdir,
            provisioned=provisioned,
            collation=collation,
        )
        if not isinstance(instance, ContractInstance):
            raise PluginLoadError(
                f"backend {self.name!r} does not implement victor_contract_instance (or did "
                "not return a ContractInstance), so the contract suite cannot test it"
            )
        return instance

    def contract_provision(
        self, collation: str | None = None
    ) -> AbstractAsyncContextManager[Any] | None:
        """The backend's storage for a whole contract-suite run, or None when it needs none."""
        provision = self._call("victor_contract_provision", collation=collation)
        if provision is not None and not isinstance(provision, AbstractAsyncContextManager):
            raise PluginLoadError(
                f"backend {self.name!r} returned {type(provision).__qualname__} from "
                "victor_contract_provision; it must return an async context manager (see "
                "contextlib.asynccontextmanager) or None"
            )
        return provision

    def schema(self, url: BackendURL, options: Mapping[str, Any]) -> StorageSchema:
        """What the backend creates at *url*, to print or apply; raises when it says nothing."""
        schema = self._call("victor_schema", url=url, options=dict(options))
        if not isinstance(schema, StorageSchema):
            raise CapabilityNotSupported(
                f"backend {self.name!r} ({self.entry.distribution}) does not describe a schema "
                "(victor_schema); it creates what it needs on first use"
            )
        return schema

    def transaction_manager(self, resource: object) -> Any:
        """The backend's transaction manager for *resource*, or None."""
        return self._call("victor_transaction_manager", resource=resource)


def _listed(capabilities: Iterable[Capability]) -> str:
    return ", ".join(sorted(c.value for c in capabilities)) or "nothing"


class PluginRegistry:
    """The installed backends and plugins, and one pluggy manager that calls them."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._manager: pluggy.PluginManager | None = None
        self._backends: dict[str, Backend] = {}
        #: Plugins of ``victor.plugins`` that failed to load, with the reason.
        self.plugin_failures: list[PluginLoadError] = []

    @property
    def manager(self) -> pluggy.PluginManager:
        """The pluggy manager; created, with ``victor.plugins`` loaded, on first use."""
        with self._lock:
            if self._manager is None:
                manager = pluggy.PluginManager(PROJECT_NAME)
                manager.add_hookspecs(hookspecs)
                self._manager = manager
                self._load_plugins(manager)
            return self._manager

    def _load_plugins(self, manager: pluggy.PluginManager) -> None:
        for entry in _entries(PLUGINS_GROUP):
            try:
                manager.register(entry.entry_point.load(), name=f"{PLUGINS_GROUP}:{entry.name}")
            except Exception as exc:  # a broken plugin must not take the others down
                error = PluginLoadError(
                    f"plugin {entry.name!r} was skipped: {entry.describe()} failed to load "
                    f"({type(exc).__name__}: {exc}); reinstall or uninstall {entry.distribution}"
                )
                error.__cause__ = exc
                self.plugin_failures.append(error)
                warnings.warn(str(error), PluginLoadWarning, stacklevel=2)

    def installed_backends(self) -> dict[str, list[PluginEntry]]:
        """Every backend name and the distributions that provide it (more than one is an error)."""
        by_name: dict[str, list[PluginEntry]] = {}
        for entry in _entries(BACKENDS_GROUP):
            by_name.setdefault(entry.name, []).append(entry)
        return by_name

    def backend(self, name: str) -> Backend:
        """The backend called *name*, loading it on first use."""
        with self._lock:
            loaded = self._backends.get(name)
            if loaded is not None:
                return loaded
            installed = self.installed_backends()
            entries = installed.get(name)
            if not entries:
                raise BackendNotFound(_not_found_message(name, installed))
            if len(entries) > 1:
                claimants = " and ".join(
                    f"{e.distribution} {e.version} ({e.value})" for e in entries
                )
                raise DuplicateBackend(
                    f"backend {name!r} is claimed by {claimants}; uninstall all but one of "
                    "these distributions"
                )
            loaded = self._load_backend(entries[0])
            self._backends[name] = loaded
            return loaded

    def backend_for(self, url: BackendURL) -> Backend:
        """The backend that serves *url*.

        A backend's name selects it (``memory://``); any other scheme goes to the one
        installed backend that lists it in ``BackendInfo.url_schemes`` (``postgresql://``,
        ``mongodb+srv://``). Failing that, the name before ``+`` is tried, so that
        ``sqlite+nodriver://`` says which schemes ``sqlite`` accepts. Two backends listing
        one scheme is a :class:`~victor_core.errors.DuplicateBackend` naming both.
        """
        installed = self.installed_backends()
        if url.scheme in installed:
            return self.backend(url.scheme)
        claims, failures = self._scheme_claims(installed)
        claimants = claims.get(url.scheme, [])
        if len(claimants) > 1:
            listed = " and ".join(
                f"{b.name!r} ({b.entry.distribution} {b.entry.version})" for b in claimants
            )
            raise DuplicateBackend(
                f"URLs starting with '{url.scheme}://' are claimed by backends {listed}; "
                "uninstall all but one of them, or select one by its name "
                f"('{claimants[0].name}://...')"
            )
        if claimants:
            return claimants[0]
        if url.name in installed:
            backend = self.backend(url.name)
            accepted = {backend.info.name, *backend.info.url_schemes}
            raise ConfigurationError(
                f"backend {backend.name!r} does not accept URLs starting with "
                f"'{url.scheme}://'; it accepts: {', '.join(sorted(accepted))}"
            )
        if "://" not in url.raw:  # written as a name
            raise BackendNotFound(_not_found_message(url.scheme, installed))
        raise BackendNotFound(_no_scheme_message(url.scheme, claims, failures))

    def _scheme_claims(
        self, installed: Mapping[str, list[PluginEntry]]
    ) -> tuple[dict[str, list[Backend]], list[BackendError]]:
        """Every scheme and the backends accepting it, loading each backend that loads.

        A backend that fails to load is left out (and named if no backend accepts the
        scheme), so one broken distribution does not break URLs served by the others.
        """
        claims: dict[str, list[Backend]] = {}
        failures: list[BackendError] = []
        for name in sorted(installed):
            try:
                backend = self.backend(name)
            except BackendError as exc:
                failures.append(exc)
                continue
            for scheme in dict.fromkeys((backend.info.name, *backend.info.url_schemes)):
                claims.setdefault(scheme, []).append(backend)
        return claims, failures

    def _load_backend(self, entry: PluginEntry) -> Backend:
        try:
            plugin = entry.entry_point.load()
        except Exception as exc:
            raise PluginLoadError(
                f"backend {entry.name!r} could not be loaded: {entry.describe()} raised "
                f"{type(exc).__name__}: {exc}. Reinstall {entry.distribution} (or uninstall it "
                "if it is not used); other backends are unaffected"
            ) from exc
        manager = self.manager
        plugin_name = f"{BACKENDS_GROUP}:{entry.name}"
        registered_here = manager.get_plugin(plugin_name) is None
        if registered_here:
            manager.register(plugin, name=plugin_name)

        def call(hook_name: str, **kwargs: Any) -> Any:
            others = [b.plugin for b in self._backends.values() if b.plugin is not plugin]
            caller = manager.subset_hook_caller(hook_name, remove_plugins=others)
            return caller(**kwargs)

        try:
            info = _checked_info(entry, call)
        except BaseException:
            # Refused: it must not stay in the manager, where its hooks would answer calls
            # meant for the backends that did load.
            if registered_here:
                manager.unregister(name=plugin_name)
            raise
        return Backend(entry=entry, info=info, plugin=plugin, call=call)

    def open_event_store(self, name_or_url: str, **options: Any) -> EventStore:
        """See :func:`victor_core.open_event_store`."""
        url = parse_url(name_or_url)
        return self.backend_for(url).create_event_store(url, {**url.options, **options})

    def open_repository(
        self, name_or_url: str, entity_type: type[E], **options: Any
    ) -> Repository[E]:
        """See :func:`victor_core.open_repository`."""
        url = parse_url(name_or_url)
        backend = self.backend_for(url)
        return backend.create_repository(url, entity_type, {**url.options, **options})


def _checked_info(entry: PluginEntry, call: Callable[..., Any]) -> BackendInfo:
    try:
        info = call("victor_backend_info")
    except Exception as exc:
        raise PluginLoadError(
            f"backend {entry.name!r} could not be loaded: the victor_backend_info hook of "
            f"{entry.describe()} raised {type(exc).__name__}: {exc}. Fix its configuration or "
            f"reinstall {entry.distribution}; other backends are unaffected"
        ) from exc
    if not isinstance(info, BackendInfo):
        raise PluginLoadError(
            f"{entry.describe()} does not implement victor_backend_info (or returned "
            f"{info!r} instead of a BackendInfo)"
        )
    if info.name != entry.name:
        raise PluginLoadError(
            f"{entry.describe()} declares itself as {info.name!r}; a backend's "
            "BackendInfo.name must equal its entry point name"
        )
    return info


def _not_found_message(name: str, installed: Mapping[str, list[PluginEntry]]) -> str:
    listing = ", ".join(
        f"{n} ({entries[0].distribution} {entries[0].version})"
        for n, entries in sorted(installed.items())
    )
    return (
        f"no backend named {name!r} is installed (installed: {listing or 'none'}); "
        f"{install_hint(name)}"
    )


def _no_scheme_message(
    scheme: str,
    claims: Mapping[str, list[Backend]],
    failures: Iterable[BackendError],
) -> str:
    accepted: dict[str, list[str]] = {}
    for claimed, backends in claims.items():
        for backend in backends:
            accepted.setdefault(backend.name, []).append(f"{claimed}://")
    listing = "; ".join(f"{name}: {', '.join(s)}" for name, s in sorted(accepted.items()))
    message = (
        f"no installed backend accepts URLs starting with '{scheme}://' (installed backends "
        f"and their schemes: {listing or 'none'}); {scheme_hint(scheme)}"
    )
    unloadable = [str(exc) for exc in failures]
    if unloadable:
        message += ". These backends could not be loaded to ask: " + "; ".join(unloadable)
    return message


_default: PluginRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> PluginRegistry:
    """The process-wide registry used by ``open_event_store`` and friends."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PluginRegistry()
        return _default


def open_event_store(name_or_url: str, /, **options: Any) -> EventStore:
    """Open an event store by backend name or URL, in the manner of SQLAlchemy's URLs.

    ``open_event_store("memory://")``, ``open_event_store("sqlite:///events.db")``,
    ``open_event_store("mongodb://localhost:27017/app")``. Keyword *options* go to the
    backend, over any given in the URL's query string. Connections are opened lazily.
    """
    return default_registry().open_event_store(name_or_url, **options)


def open_repository(name_or_url: str, entity_type: type[E], /, **options: Any) -> Repository[E]:
    """Open a repository of *entity_type* by backend name or URL; see :func:`open_event_store`.

    ``open_repository("memory://", User)``, ``open_repository("sqlite:///app.db", User,
    indexes=["email"])``.
    """
    return default_registry().open_repository(name_or_url, entity_type, **options)
