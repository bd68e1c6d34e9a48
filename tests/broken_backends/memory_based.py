"""A memory backend under another name, with hooks a defect can replace piece by piece."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from victor_core import EventStore, Repository
from victor_core.backend import BackendInfo, BackendURL, ContractInstance, hookimpl
from victor_memory import plugin as memory
from victor_memory.storage import drop_named_storage
from victor_memory.store import InMemoryEventStore
from victor_memory.transactions import MemoryTransactionManager, is_memory_resource


class BrokenMemory:
    """The memory backend's hooks; a subclass overrides one of the ``broken_*`` methods."""

    #: The backend's name, also its entry point name and its URL scheme.
    name = "broken"
    #: The defect, as `victor backends` describes it.
    defect = ""

    @hookimpl
    def victor_backend_info(self) -> BackendInfo:
        return attrs.evolve(
            memory.victor_backend_info(),
            name=self.name,
            url_schemes=(self.name,),
            description=self.defect,
        )

    @hookimpl
    def victor_create_event_store(self, url: BackendURL, options: Mapping[str, Any]) -> EventStore:
        store = memory.victor_create_event_store(url, options)
        assert isinstance(store, InMemoryEventStore)
        return self.broken_store(store)

    @hookimpl
    def victor_create_repository(
        self, url: BackendURL, entity_type: type, options: Mapping[str, Any]
    ) -> Repository[Any]:
        return self.broken_repository(memory.victor_create_repository(url, entity_type, options))

    @hookimpl
    def victor_transaction_manager(self, resource: object) -> MemoryTransactionManager | None:
        return self.broken_manager() if is_memory_resource(resource) else None

    @hookimpl
    def victor_contract_instance(self, workdir: Path) -> ContractInstance:
        storage = f"contract-{uuid.uuid4().hex}"

        async def cleanup() -> None:
            drop_named_storage(storage)

        return ContractInstance(url=f"{self.name}://{storage}", cleanup=cleanup)

    def broken_store(self, store: InMemoryEventStore) -> EventStore:
        return store

    def broken_repository(self, repository: Repository[Any]) -> Repository[Any]:
        return repository

    def broken_manager(self) -> MemoryTransactionManager:
        return MemoryTransactionManager()
