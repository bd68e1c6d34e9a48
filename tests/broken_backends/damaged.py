"""A defect in reading what is stored: a damaged payload is "healed" into an event."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path

from tests.broken_backends.memory_based import BrokenMemory
from victor_core import EventStore
from victor_core.backend import ContractInstance, StoredEventRecord, hookimpl
from victor_memory.event_log import InMemoryEventRecorder
from victor_memory.raw import MemoryRawStorage
from victor_memory.storage import drop_named_storage
from victor_memory.store import InMemoryEventStore


class HealingRecorder(InMemoryEventRecorder):
    """A payload that is not a JSON object with the row's id comes back as a fresh one.

    What a backend does that "repairs" rows it cannot read instead of reporting them: the
    kernel then builds an event of defaults from the row, which no one wrote.
    """

    async def read_stream(
        self, stream_id: str, from_version: int, to_version: int | None, limit: int | None
    ) -> Sequence[StoredEventRecord]:
        found = await super().read_stream(stream_id, from_version, to_version, limit)
        return [_healed(record) for record in found]

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        return [_healed(record) for record in await super().read_all(from_position, limit)]


def _healed(record: StoredEventRecord) -> StoredEventRecord:
    try:
        payload = json.loads(record.data)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("id") == record.event_id:
        return record
    made_up = {
        "id": record.event_id,
        "timestamp": record.timestamp.isoformat(),
        "aggregate_id": record.stream_id,
    }
    return record._replace(data=json.dumps(made_up))


class HealedPayloads(BrokenMemory):
    name = "broken-damaged-payloads"
    defect = "a damaged event payload is read as an event of defaults instead of refused"

    @hookimpl
    def victor_contract_instance(self, workdir: Path) -> ContractInstance:
        storage = f"contract-{uuid.uuid4().hex}"

        async def cleanup() -> None:
            drop_named_storage(storage)

        return ContractInstance(
            url=f"{self.name}://{storage}", cleanup=cleanup, raw=MemoryRawStorage(storage)
        )

    def broken_store(self, store: InMemoryEventStore) -> EventStore:
        store.recorder = HealingRecorder(store.storage.event_log)
        return store


damaged_payloads = HealedPayloads()
