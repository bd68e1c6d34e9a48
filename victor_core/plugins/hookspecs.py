"""The hook specifications: the whole contract between the kernel and its plugins.

Every hook is a synchronous factory, because pluggy calls hooks synchronously; what the
factories return has async methods. A storage backend is a module registered under the entry
point group ``victor.backends`` whose name is the backend's name; it implements
``victor_backend_info`` and the factories for what it provides. Plugins in the group
``victor.plugins`` (middleware, telemetry...) implement ``victor_bus_middleware`` or wrap the
backend factories with ``hookwrapper``/``wrapper`` implementations.

Write implementations with :data:`hookimpl`::

    from victor_core.backend import hookimpl

    @hookimpl
    def victor_backend_info():
        return BackendInfo(name="mystore", version="1.0", url_schemes=("mystore",))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from victor_core.backend.markers import hookspec

if TYPE_CHECKING:
    from victor_core.backend.contract import ContractInstance
    from victor_core.backend.info import BackendInfo
    from victor_core.backend.storage_schema import StorageSchema
    from victor_core.backend.transactions import TransactionManager
    from victor_core.backend.url import BackendURL
    from victor_core.eventsourcing.store import EventStore
    from victor_core.repository.entity import Entity
    from victor_core.repository.repository import Repository


@hookspec(firstresult=True)
def victor_backend_info() -> BackendInfo:
    """Describe the backend: name, version, URL schemes and declared capabilities.

    The name must equal the backend's entry point name. Declare only what the backend really
    guarantees: the contract suite tests every declared capability and skips the others.
    """


@hookspec(firstresult=True)
def victor_create_event_store(url: BackendURL, options: Mapping[str, Any]) -> EventStore:
    """Build an event store for *url*, opening connections lazily or on first use.

    *options* are the keyword arguments given to ``open_event_store`` merged over the URL's
    query string. Unknown options should be rejected with a
    :class:`~victor_core.errors.ConfigurationError` naming the accepted ones.
    """


@hookspec(firstresult=True)
def victor_create_repository(
    url: BackendURL, entity_type: type[Entity], options: Mapping[str, Any]
) -> Repository[Any]:
    """Build a repository storing *entity_type* at *url*; declare ``Capability.REPOSITORY``.

    *entity_type* is a subclass of :class:`~victor_core.Entity`; *options* are the keyword
    arguments given to ``open_repository`` merged over the URL's query string. Return a
    :class:`~victor_core.Repository` (usually a
    :class:`~victor_core.repository.DocumentRepository` over the backend's
    :class:`~victor_core.repository.DocumentStore`).
    """


@hookspec(firstresult=True)
def victor_transaction_manager(resource: object) -> TransactionManager | None:
    """The transaction manager for *resource* (a repository, event store or store you made).

    Return ``None`` for resources of other backends. Return the same manager (equal
    ``key``) that your stores' ``transaction_manager()`` returns: a unit of work asks the
    document stores, event recorders and checkpoint stores its writes name, groups the
    writes by the manager's ``key`` (the transactional resource: a database file, a client)
    and hands each group to the manager's ``commit``, all or nothing; equal keys must mean
    that one transaction can hold all of them. Tools ask through this hook: the contract
    suite checks the manager it returns. Return a
    :class:`~victor_core.backend.TransactionManager` and declare
    ``Capability.TRANSACTIONS``.
    """


@hookspec
def victor_bus_middleware(bus: str) -> Sequence[Any]:
    """Middleware to install on every new bus of kind *bus* (``"command"`` or ``"query"``).

    Each item is an async callable ``(message, next) -> result``; results from all plugins
    are applied in plugin registration order, before middleware added with ``bus.use``.
    """


@hookspec(firstresult=True)
def victor_contract_provision(collation: str | None) -> AbstractAsyncContextManager[Any] | None:
    """Storage for a whole contract-suite run, made once before its first test and removed after.

    Return an async context manager (``contextlib.asynccontextmanager`` makes one), or
    ``None`` when there is nothing to prepare. The suite enters it before the first test that
    needs storage and exits it after the last, even when tests fail; what it yields is passed
    to every :func:`victor_contract_instance` call as *provisioned*. A server backend creates
    a database here and drops it on exit, so that each test only needs a schema, a table
    prefix or a collection name.

    It runs in an event loop of its own, not in the tests' loops: connections it opens must
    be closed before it yields (or kept to itself for the teardown); yield plain values such
    as a URL or a database name. An error it raises fails every test that needs storage,
    with that error.

    *collation* is the ``--victor-collation`` the suite was asked to run under (``None``
    for the engine's default): string comparisons in the storage made here should default to
    it, so that a backend that relies on the default rather than asking for byte order
    fails. See ``ContractInstance.collation``.
    """


@hookspec(firstresult=True)
def victor_contract_instance(
    workdir: Path, provisioned: Any, collation: str | None
) -> ContractInstance:
    """A fresh, isolated storage for one contract test, and how to clean it up.

    Declare only the arguments you use (``def victor_contract_instance(provisioned):``);
    pluggy passes each implementation the ones it names. *workdir* is an empty directory
    the backend may use for files; *provisioned* is what :func:`victor_contract_provision`
    yielded (``None`` without it); *collation* is the ``--victor-collation`` asked for.
    Opening the returned URL several times must reach the same data; no other test may see
    that data.

    When what this storage provides differs from the backend's declaration (an in-process
    stand-in, a standalone server, a replica set), set ``capabilities`` on the instance: the
    suite then decides what to skip from it rather than from ``victor_backend_info``.
    ``None`` (the default) means exactly what the backend declares.
    """


@hookspec(firstresult=True)
def victor_schema(url: BackendURL, options: Mapping[str, Any]) -> StorageSchema:
    """The schema the backend creates at *url* on first use, to print or to apply up front.

    ``victor schema URL`` prints its ``script``; ``victor schema URL --apply`` awaits its
    ``apply``. Return ``None`` (or leave the hook out) when the storage has no schema.
    """
