"""Writes into a named in-memory storage past the kernel, for the contract suite's damage tests."""

from __future__ import annotations

import attrs

from victor_core.backend import RawStorage
from victor_memory.repository import _Row, entity_table
from victor_memory.storage import named_storage


class MemoryRawStorage(RawStorage):
    """Overwrites records of the storage called *name* in place, as damage would."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def write_event_payload(self, stream_id: str, version: int, text: str) -> None:
        log = named_storage(self.name).event_log
        with log.lock:
            stream = log.streams[stream_id]
            damaged = stream[version - 1]._replace(data=text)
            stream[version - 1] = damaged
            log.records[damaged.position - 1] = damaged

    async def write_snapshot_state(self, stream_id: str, version: int, text: str) -> None:
        shelf = named_storage(self.name).snapshots
        with shelf.lock:
            records = shelf.streams[stream_id][1]
            records[version] = attrs.evolve(records[version], state=text)

    async def write_document(self, entity_name: str, entity_id: str, text: str) -> None:
        table = entity_table(named_storage(self.name), entity_name)
        with table.lock:
            table.rows[entity_id] = _Row(table.rows[entity_id].position, text)
