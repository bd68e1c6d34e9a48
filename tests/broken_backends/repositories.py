"""Defects in repositories and commits: a stale query cache, updates that move, undo in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.broken_backends.memory_based import BrokenMemory
from victor_core import BaseSpecification, Repository
from victor_core.backend import (
    DocumentRepository,
    Expression,
    Pushdown,
    StoredDocument,
    VersionCheck,
    Write,
    WriteResult,
)
from victor_memory.repository import MemoryDocumentStore, _Row
from victor_memory.transactions import MemoryTransactionManager, _apply, _locks_of


class CachingStore(MemoryDocumentStore[Any]):
    """Query results are cached until an insert or a delete; an update forgets to clear it."""

    def __init__(self, table: Any, codec: Any) -> None:
        super().__init__(table, codec)
        self.cached: dict[str, list[StoredDocument]] = {}

    def _matching(self, where: Expression | None) -> list[StoredDocument]:
        key = repr(where)
        if key not in self.cached:
            self.cached[key] = super()._matching(where)
        return list(self.cached[key])

    async def insert(self, documents: Sequence[Any]) -> str | None:
        self.cached.clear()
        return await super().insert(documents)

    async def remove(self, entity_id: str) -> bool:
        self.cached.clear()
        return await super().remove(entity_id)


class StaleQueryCache(BrokenMemory):
    name = "broken-query-cache"
    defect = "find and count answer from a cache that updates do not clear"

    def broken_repository(self, repository: Repository[Any]) -> Repository[Any]:
        assert isinstance(repository, DocumentRepository)
        store = repository.store
        assert isinstance(store, MemoryDocumentStore)
        repository.store = CachingStore(store.table, store.codec)
        return repository


class ReinsertingStore(MemoryDocumentStore[Any]):
    """An update deletes the row and inserts the new one, at the end of the order of adding."""

    async def replace(self, entity_id: str, document: str, check: VersionCheck | None) -> bool:
        if not await super().replace(entity_id, document, check):
            return False
        table = self.table
        with table.lock:
            del table.rows[entity_id]
            table.last_position += 1
            table.rows[entity_id] = _Row(table.last_position, document)
        return True


class UpdatesMoveToTheEnd(BrokenMemory):
    name = "broken-update-order"
    defect = "an update stores the entity again, at the end of the order of adding"

    def broken_repository(self, repository: Repository[Any]) -> Repository[Any]:
        assert isinstance(repository, DocumentRepository)
        store = repository.store
        assert isinstance(store, MemoryDocumentStore)
        repository.store = ReinsertingStore(store.table, store.codec)
        return repository


class UndoInOrder(MemoryTransactionManager):
    """A failed commit undoes its writes first to last, instead of last to first."""

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        locks = _locks_of(writes)
        undo: list[Any] = []
        for lock in locks:
            lock.acquire()
        try:
            return [_apply(write, undo) for write in writes]
        except BaseException:
            for step in undo:
                step()
            raise
        finally:
            for lock in locks:
                lock.release()


class UndoneInTheWrongOrder(BrokenMemory):
    name = "broken-undo-order"
    defect = "a failed commit is undone first write first"

    def broken_manager(self) -> MemoryTransactionManager:
        return UndoInOrder()


class PathsCheckedLate(DocumentRepository[Any]):
    """Leaves a specification's paths to the engine, which reads entities before it refuses."""

    def _plan(self, spec: BaseSpecification[Any] | None) -> Pushdown:
        if spec is None:
            return super()._plan(spec)
        return self.store.pushdown(spec)


class PathsUncheckedUntilRead(BrokenMemory):
    name = "broken-path-check"
    defect = "a specification's paths are checked only as entities are read"

    def broken_repository(self, repository: Repository[Any]) -> Repository[Any]:
        assert isinstance(repository, DocumentRepository)
        return PathsCheckedLate(repository.entity_type, repository.store)


query_cache = StaleQueryCache()
update_order = UpdatesMoveToTheEnd()
undo_order = UndoneInTheWrongOrder()
path_check = PathsUncheckedUntilRead()
