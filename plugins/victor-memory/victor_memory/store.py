"""``InMemoryEventStore``: the seed's event store for tests and prototypes."""

from __future__ import annotations

from victor_core import EventStore
from victor_core.backend import EventSerializer
from victor_memory.checkpoints import InMemoryCheckpointStore
from victor_memory.event_log import InMemoryEventRecorder
from victor_memory.snapshots import InMemorySnapshotRecorder
from victor_memory.storage import named_storage


class InMemoryEventStore(EventStore):
    """An event store that lives in the process.

    ``InMemoryEventStore()`` is private to the object; ``InMemoryEventStore(name="orders")``
    shares its events with every store opened on the same name (``memory://orders``).
    Events are stored serialized, as a database would store them; so are the aggregate
    snapshots and projection checkpoints kept next to them.
    """

    def __init__(self, *, name: str | None = None, serializer: EventSerializer | None = None):
        self.storage = named_storage(name)
        super().__init__(
            InMemoryEventRecorder(self.storage.event_log),
            serializer=serializer,
            snapshots=InMemorySnapshotRecorder(self.storage.snapshots),
            checkpoints=InMemoryCheckpointStore(storage=self.storage),
        )
