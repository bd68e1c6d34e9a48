"""The in-memory storage backend of victor-core."""

from victor_memory.checkpoints import InMemoryCheckpointStore
from victor_memory.repository import InMemoryRepository
from victor_memory.storage import MemoryStorage, drop_named_storage, named_storage
from victor_memory.store import InMemoryEventStore

__all__ = [
    "InMemoryCheckpointStore",
    "InMemoryEventStore",
    "InMemoryRepository",
    "MemoryStorage",
    "drop_named_storage",
    "named_storage",
]
