"""Transactions in memory: a unit of work's writes applied in one step, or not at all.

Every in-memory storage lives in this process, so they all form one transactional resource:
repositories and event stores on different storages still commit together. A commit takes
the locks of every table and event log it writes to, applies the writes in order while
remembering what each one replaced, and, should one be refused (an id taken, a stale
version, an unexpected stream version) or fail, puts back everything it changed before
letting go of the locks. It never awaits in between, so no coroutine sees half of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from contextlib import ExitStack

from victor_core import EventStore
from victor_core.backend import (
    AdvanceCheckpoint,
    AppendEvents,
    AppendResult,
    CheckpointConflict,
    ConfigurationError,
    DocumentRepository,
    InsertDocuments,
    ReplaceDocument,
    Write,
    WriteRefused,
    WriteResult,
)
from victor_memory.checkpoints import InMemoryCheckpointStore, swap_holding_lock
from victor_memory.event_log import InMemoryEventRecorder, MemoryEventLog
from victor_memory.repository import (
    MemoryDocumentStore,
    MemoryEntityTable,
    _Row,
    insert_holding_lock,
    remove_holding_lock,
    replace_holding_lock,
)
from victor_memory.storage import MemoryStorage


class _InProcessMemory:
    """The key of the one transactional resource the memory backend has."""

    def __str__(self) -> str:
        return "the in-process memory"

    def __repr__(self) -> str:
        return "<in-process memory>"


IN_PROCESS_MEMORY = _InProcessMemory()

_Undo = Callable[[], None]


class MemoryTransactionManager:
    """Commits writes to in-memory repositories and event stores, all or nothing."""

    @property
    def key(self) -> Hashable:
        """Every in-memory storage: they all commit together."""
        return IN_PROCESS_MEMORY

    async def commit(self, writes: Sequence[Write]) -> list[WriteResult]:
        locks = _locks_of(writes)
        undo: list[_Undo] = []
        with ExitStack() as held:
            for lock in locks:
                held.enter_context(lock)
            try:
                results = [_apply(write, undo) for write in writes]
            except BaseException:
                for step in reversed(undo):
                    step()
                raise
        # Subscriptions hear of the appends only now that nothing can take them back.
        for write, result in zip(writes, results, strict=True):
            if isinstance(write, AppendEvents) and isinstance(result, AppendResult):
                log = _target(write)
                assert isinstance(log, MemoryEventLog)
                log.appended.notify(result.positions[-1])
        return results


def is_memory_resource(resource: object) -> bool:
    """True for repositories and event stores of the memory backend."""
    if isinstance(resource, DocumentRepository):
        return isinstance(resource.store, MemoryDocumentStore)
    if isinstance(resource, EventStore):
        return isinstance(resource.recorder, InMemoryEventRecorder)
    return isinstance(resource, InMemoryCheckpointStore)


def _locks_of(writes: Sequence[Write]) -> list[threading.Lock]:
    """The locks to hold, in one global order so that two commits cannot deadlock."""
    found: dict[int, threading.Lock] = {}
    for write in writes:
        lock = (
            _storage_of(write).lock if isinstance(write, AdvanceCheckpoint) else _target(write).lock
        )
        found[id(lock)] = lock
    return [found[key] for key in sorted(found)]


def _storage_of(write: AdvanceCheckpoint) -> MemoryStorage:
    if isinstance(write.checkpoints, InMemoryCheckpointStore):
        return write.checkpoints.storage
    raise ConfigurationError(
        f"the memory backend's transaction cannot write to the checkpoint store "
        f"{type(write.checkpoints).__qualname__}, which belongs to another backend; keep "
        "the checkpoints with the read model (store.checkpoints of the same backend)"
    )


def _advance(write: AdvanceCheckpoint, undo: list[_Undo]) -> None:
    """Compare-and-set the checkpoint under the storage's lock, which the commit holds."""
    positions = _storage_of(write).checkpoints
    name = write.name
    before = positions.get(name)
    found = swap_holding_lock(_storage_of(write), name, write.expected, write.position)
    if found is not None:
        raise CheckpointConflict(name, write.expected, found)

    def put_back() -> None:
        if before is None:
            positions.pop(name, None)
        else:
            positions[name] = before

    undo.append(put_back)


def _target(write: Write) -> MemoryEntityTable | MemoryEventLog:
    assert not isinstance(write, AdvanceCheckpoint), "checkpoints are written by _advance"
    if isinstance(write, AppendEvents):
        if isinstance(write.recorder, InMemoryEventRecorder):
            return write.recorder.log
        owner = f"the event recorder {type(write.recorder).__qualname__}"
    else:
        if isinstance(write.store, MemoryDocumentStore):
            return write.store.table
        owner = f"the document store {type(write.store).__qualname__}"
    raise ConfigurationError(
        f"the memory backend's transaction cannot write to {owner}, which belongs to another "
        "backend; commit it separately (best_effort=True)"
    )


def _apply(write: Write, undo: list[_Undo]) -> WriteResult:
    if isinstance(write, AppendEvents):
        return _append(write, undo)
    if isinstance(write, AdvanceCheckpoint):
        _advance(write, undo)
        return None
    table = _target(write)
    assert isinstance(table, MemoryEntityTable)
    if isinstance(write, InsertDocuments):
        last_position = table.last_position
        taken = insert_holding_lock(table, write.documents)
        if taken is not None:
            raise WriteRefused(write, entity_id=taken)
        inserted = [new.entity_id for new in write.documents]
        undo.append(lambda: _forget_inserted(table, inserted, last_position))
        return None
    if isinstance(write, ReplaceDocument):
        replaced = replace_holding_lock(table, write.entity_id, write.document, write.check)
        if replaced is None:
            raise WriteRefused(write, entity_id=write.entity_id)
        undo.append(lambda: table.rows.__setitem__(write.entity_id, replaced))
        return None
    removed = remove_holding_lock(table, write.entity_id)
    if removed is None:
        raise WriteRefused(write, entity_id=write.entity_id)
    undo.append(lambda: _put_back(table, write.entity_id, removed))
    return None


def _forget_inserted(table: MemoryEntityTable, ids: list[str], last_position: int) -> None:
    for entity_id in ids:
        table.rows.pop(entity_id, None)
    table.last_position = last_position


def _put_back(table: MemoryEntityTable, entity_id: str, row: _Row) -> None:
    # Rows are kept in the order of adding, which reads rely on: reinsert in place.
    table.rows[entity_id] = row
    ordered = sorted(table.rows.items(), key=lambda item: item[1].position)
    table.rows.clear()
    table.rows.update(ordered)


def _append(write: AppendEvents, undo: list[_Undo]) -> AppendResult:
    """Append as :class:`InMemoryEventRecorder` does, under the lock the commit holds."""
    log = _target(write)
    assert isinstance(log, MemoryEventLog)
    stream_id = write.stream_id
    records_before = len(log.records)
    stream_before = len(log.streams.get(stream_id, ()))
    result = log.append_holding_lock(stream_id, write.records, write.expected_version)
    undo.append(lambda: log.take_back_holding_lock(stream_id, records_before, stream_before))
    return result
