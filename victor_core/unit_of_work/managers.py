"""Finding the transaction manager of the backend that made a repository or an event store.

The protocols a backend implements are in :mod:`victor_core.backend.transactions`; the unit
of work uses a manager of either kind through :class:`Transactional`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager

from victor_core.backend.transactions import AmbientTransactionManager, TransactionManager
from victor_core.backend.writes import Write, WriteResult, apply_in_order
from victor_core.errors import PluginLoadError
from victor_core.plugins.registry import PluginRegistry, default_registry


class Transactional:
    """A backend's manager of either kind, as the unit of work uses it."""

    def __init__(
        self, manager: TransactionManager | AmbientTransactionManager, backend: str
    ) -> None:
        self.manager = manager
        self.backend = backend
        self.key = manager.key

    @property
    def takes_writes(self) -> bool:
        """True when the manager takes the writes as a list (not ambient)."""
        return isinstance(self.manager, TransactionManager)

    def ambient(self) -> AbstractAsyncContextManager[object]:
        """The ambient transaction; only for :class:`AmbientTransactionManager`."""
        assert isinstance(self.manager, AmbientTransactionManager)
        return self.manager.transaction()

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Commit *writes* in one transaction, with whichever kind of manager this is."""
        if isinstance(self.manager, TransactionManager):
            return list(await self.manager.commit(writes))
        async with self.ambient():
            return await apply_in_order(writes)

    def describe(self) -> str:
        """The resource, as messages name it."""
        return str(self.key)


def find_transaction_manager(
    resource: object, registry: PluginRegistry | None = None
) -> Transactional | None:
    """The manager of the backend that made *resource*, or None when it has none.

    The backend is found from the modules of the resource's classes (and those of the store,
    recorder or database it wraps) and loaded if need be; only that backend is asked.
    """
    registry = registry if registry is not None else default_registry()
    for name in _candidate_backends(resource, registry):
        backend = registry.backend(name)
        found = backend.transaction_manager(resource)
        if found is None:
            continue
        if not isinstance(found, TransactionManager | AmbientTransactionManager):
            raise PluginLoadError(
                f"backend {name!r} returned {type(found).__qualname__} from "
                "victor_transaction_manager; it must return an object with a `key` and "
                "either `async commit(writes)` or `transaction()` (see "
                "victor_core.unit_of_work.managers), or None"
            )
        return Transactional(found, name)
    return None


_PARTS = ("store", "recorder", "database", "base")
_by_package: weakref.WeakKeyDictionary[PluginRegistry, dict[str, str]] = weakref.WeakKeyDictionary()
_by_package_lock = threading.Lock()


def _candidate_backends(resource: object, registry: PluginRegistry) -> list[str]:
    packages = _backend_packages(registry)
    names: list[str] = []
    for package in _packages_of(resource):
        name = packages.get(package)
        if name is not None and name not in names:
            names.append(name)
    return names


def _packages_of(resource: object) -> Iterator[str]:
    for thing in (resource, *(getattr(resource, part, None) for part in _PARTS)):
        if thing is None:
            continue
        for klass in type(thing).__mro__:
            package = klass.__module__.partition(".")[0]
            if package not in ("builtins", "victor_core", "abc", "typing"):
                yield package


def _backend_packages(registry: PluginRegistry) -> dict[str, str]:
    """Top-level package of each installed backend's entry point -> the backend's name."""
    with _by_package_lock:
        known = _by_package.get(registry)
        if known is None:
            known = {}
            for name, entries in registry.installed_backends().items():
                if len(entries) == 1:  # a duplicate is reported when it is loaded by name
                    module = entries[0].value.partition(":")[0]
                    known.setdefault(module.partition(".")[0], name)
            _by_package[registry] = known
        return known
