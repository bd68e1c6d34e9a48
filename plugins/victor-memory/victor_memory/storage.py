"""Where the in-memory backend keeps data, and how several stores share it by name.

``memory://`` gives every store its own private storage. ``memory://orders`` gives every
store and repository in the process that opens that name the same storage, which is what
lets a test open "the same database" twice. Named storage lives until
:func:`drop_named_storage` is called or the process ends.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from victor_memory.event_log import MemoryEventLog
from victor_memory.snapshots import MemorySnapshotShelf

if TYPE_CHECKING:
    from victor_memory.repository import MemoryEntityTable


class MemoryStorage:
    """Everything one in-memory "database" holds."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.event_log = MemoryEventLog()
        self.snapshots = MemorySnapshotShelf()
        #: Guards what has no lock of its own (the checkpoints and leases).
        self.lock = threading.Lock()
        #: projection name -> global position of the last event it handled
        self.checkpoints: dict[str, int] = {}
        #: projection name -> (owner, seconds since the epoch its lease runs out)
        self.leases: dict[str, tuple[str, float]] = {}
        #: entity name -> its documents (see victor_memory.repository)
        self.entity_tables: dict[str, MemoryEntityTable] = {}


_named: dict[str, MemoryStorage] = {}
_named_lock = threading.Lock()


def named_storage(name: str | None) -> MemoryStorage:
    """The storage called *name*, created on first use; a private one when *name* is empty."""
    if not name:
        return MemoryStorage()
    with _named_lock:
        storage = _named.get(name)
        if storage is None:
            storage = _named[name] = MemoryStorage(name)
        return storage


def drop_named_storage(name: str) -> None:
    """Forget the storage called *name*; stores still holding it keep their data."""
    with _named_lock:
        _named.pop(name, None)
