"""The hook implementations that make this package the ``memory`` backend."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from victor_core.backend import (
    BackendInfo,
    BackendURL,
    Capability,
    ConfigurationError,
    ContractInstance,
    EventSerializer,
    hookimpl,
)
from victor_memory.raw import MemoryRawStorage
from victor_memory.repository import InMemoryRepository
from victor_memory.storage import drop_named_storage
from victor_memory.store import InMemoryEventStore
from victor_memory.transactions import MemoryTransactionManager, is_memory_resource


@hookimpl
def victor_backend_info() -> BackendInfo:
    return BackendInfo(
        name="memory",
        version=version("victor-memory"),
        url_schemes=("memory",),
        capabilities={
            Capability.EVENT_STORE,
            Capability.GLOBAL_ORDER,
            Capability.REPOSITORY,
            Capability.SNAPSHOTS,
            Capability.CHECKPOINTS,
            Capability.SUBSCRIPTIONS,
            Capability.CHECKPOINT_LEASES,
            Capability.EXACTLY_ONCE,
            Capability.TRANSACTIONS,
            Capability.IMMEDIATE_READ_ALL,
            # Every operation runs under a threading lock without awaiting in between.
            Capability.THREADS,
        },
        description="In-process storage for tests and prototypes; nothing survives the process.",
    )


@hookimpl
def victor_create_event_store(url: BackendURL, options: Mapping[str, Any]) -> InMemoryEventStore:
    unknown = set(options) - {"serializer"}
    if unknown:
        raise ConfigurationError(
            f"the memory backend takes no option {', '.join(sorted(unknown))}; it accepts "
            "'serializer' only (name a shared storage in the URL: memory://name)"
        )
    serializer = options.get("serializer")
    if serializer is not None and not isinstance(serializer, EventSerializer):
        raise ConfigurationError(
            "the 'serializer' option must be a victor_core.backend.EventSerializer"
        )
    return InMemoryEventStore(name=_storage_name(url), serializer=serializer)


@hookimpl
def victor_create_repository(
    url: BackendURL, entity_type: type, options: Mapping[str, Any]
) -> InMemoryRepository[Any]:
    unknown = set(options) - {"converter"}
    if unknown:
        raise ConfigurationError(
            f"the memory backend's repositories take no option {', '.join(sorted(unknown))}; "
            "they accept 'converter' only (name a shared storage in the URL: memory://name)"
        )
    return InMemoryRepository(
        entity_type, name=_storage_name(url), converter=options.get("converter")
    )


@hookimpl
def victor_transaction_manager(resource: object) -> MemoryTransactionManager | None:
    return MemoryTransactionManager() if is_memory_resource(resource) else None


def _storage_name(url: BackendURL) -> str | None:
    name = (url.authority + url.path).strip("/")
    return name or None


@hookimpl
def victor_contract_instance(workdir: Path) -> ContractInstance:
    name = f"contract-{uuid.uuid4().hex}"

    async def cleanup() -> None:
        drop_named_storage(name)

    return ContractInstance(url=f"memory://{name}", cleanup=cleanup, raw=MemoryRawStorage(name))
