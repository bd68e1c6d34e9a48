"""The in-memory snapshot recorder: every snapshot of every stream, by version."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

from victor_core.backend import SnapshotRecord, SnapshotRecorder


class MemorySnapshotShelf:
    """The snapshots of one in-memory storage."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: stream id -> (sorted versions, records by version)
        self.streams: dict[str, tuple[list[int], dict[int, SnapshotRecord]]] = {}


class InMemorySnapshotRecorder(SnapshotRecorder):
    """A :class:`~victor_core.backend.SnapshotRecorder` over a :class:`MemorySnapshotShelf`."""

    def __init__(self, shelf: MemorySnapshotShelf) -> None:
        self.shelf = shelf

    async def save_snapshot(self, record: SnapshotRecord) -> None:
        with self.shelf.lock:
            versions, records = self.shelf.streams.setdefault(record.stream_id, ([], {}))
            if record.version not in records:
                bisect.insort(versions, record.version)
            records[record.version] = record

    async def latest_snapshot(
        self, stream_id: str, max_version: int | None
    ) -> SnapshotRecord | None:
        with self.shelf.lock:
            found = self.shelf.streams.get(stream_id)
            if found is None:
                return None
            versions, records = found
            index = (
                len(versions) if max_version is None else bisect.bisect_right(versions, max_version)
            )
            return records[versions[index - 1]] if index else None

    async def read_snapshots(
        self, after: tuple[str, int] | None, limit: int
    ) -> Sequence[SnapshotRecord]:
        with self.shelf.lock:
            page: list[SnapshotRecord] = []
            for stream_id in sorted(self.shelf.streams):
                if after is not None and stream_id < after[0]:
                    continue
                versions, records = self.shelf.streams[stream_id]
                start = 0
                if after is not None and stream_id == after[0]:
                    start = bisect.bisect_right(versions, after[1])
                for version in versions[start:]:
                    if len(page) == limit:
                        return page
                    page.append(records[version])
            return page
