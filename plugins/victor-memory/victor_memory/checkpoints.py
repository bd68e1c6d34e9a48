"""The in-memory checkpoint store: projection positions kept in the process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from victor_core.backend import CheckpointStore
from victor_memory.storage import MemoryStorage, named_storage

if TYPE_CHECKING:
    from victor_memory.transactions import MemoryTransactionManager


class InMemoryCheckpointStore(CheckpointStore):
    """Projection checkpoints in memory, shared by name like the rest of a storage.

    ``InMemoryCheckpointStore()`` is private; ``InMemoryCheckpointStore(name="app")`` shares
    the checkpoints of ``memory://app`` (and of ``InMemoryEventStore(name="app")``).
    """

    def __init__(self, *, name: str | None = None, storage: MemoryStorage | None = None):
        self.storage = storage if storage is not None else named_storage(name)

    async def read_checkpoint(self, name: str) -> int | None:
        with self.storage.lock:
            return self.storage.checkpoints.get(name)

    async def write_checkpoint(self, name: str, position: int) -> None:
        with self.storage.lock:
            self.storage.checkpoints[name] = position

    async def read_checkpoints(self) -> dict[str, int]:
        with self.storage.lock:
            return dict(self.storage.checkpoints)

    async def swap_checkpoint(self, name: str, expected: int, position: int) -> int | None:
        with self.storage.lock:
            return swap_holding_lock(self.storage, name, expected, position)

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        with self.storage.lock:
            holder = self.storage.leases.get(name)
            if holder is not None and holder[0] != owner and holder[1] > now:
                return False
            self.storage.leases[name] = (owner, until)
            return True

    async def drop_lease(self, name: str, owner: str) -> None:
        with self.storage.lock:
            holder = self.storage.leases.get(name)
            if holder is not None and holder[0] == owner:
                del self.storage.leases[name]

    def transaction_manager(self) -> MemoryTransactionManager:
        """The in-process memory's manager: in-memory writes all commit together."""
        # Here, not at the top: that module imports this one.
        from victor_memory.transactions import MemoryTransactionManager

        return MemoryTransactionManager()


def swap_holding_lock(
    storage: MemoryStorage, name: str, expected: int, position: int
) -> int | None:
    """Move checkpoint *name* from *expected* to *position*; or give back where it is instead.

    The caller holds the storage's lock: the store's ``swap_checkpoint`` and a transaction
    that commits a checkpoint with a read model both move it through this.
    """
    found = storage.checkpoints.get(name, 0)
    if found != expected:
        return found
    storage.checkpoints[name] = position
    return None
