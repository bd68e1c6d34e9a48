"""The MongoDB snapshot recorder: every snapshot of a stream, one document per version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from victor_core.backend import SnapshotRecord, SnapshotRecorder
from victor_mongodb.database import MongoDatabase
from victor_mongodb.documents import valid_text
from victor_mongodb.errors import SNAPSHOT_TOO_LARGE, translated
from victor_mongodb.event_log import timestamp_text

#: The collection holding snapshot documents.
SNAPSHOTS = "victor_snapshots"

_INDEXES = [
    IndexModel(
        [("stream_id", ASCENDING), ("version", ASCENDING)], unique=True, name="stream_version"
    )
]


def _document(record: SnapshotRecord) -> dict[str, Any]:
    what = f"a snapshot of stream {record.stream_id!r}"
    for where in ("stream_id", "aggregate_type", "fingerprint", "state"):
        valid_text(getattr(record, where), what, where)
    return {
        "stream_id": record.stream_id,
        "version": record.version,
        "aggregate_type": record.aggregate_type,
        "fingerprint": record.fingerprint,
        "state": record.state,
        "taken_at": timestamp_text(record.taken_at),
    }


def _record(document: dict[str, Any]) -> SnapshotRecord:
    return SnapshotRecord(
        stream_id=document["stream_id"],
        version=document["version"],
        aggregate_type=document["aggregate_type"],
        fingerprint=document["fingerprint"],
        state=document["state"],
        taken_at=datetime.fromisoformat(document["taken_at"]),
    )


class MongoSnapshotRecorder(SnapshotRecorder):
    """A :class:`~victor_core.backend.SnapshotRecorder` on a shared :class:`MongoDatabase`."""

    def __init__(self, database: MongoDatabase) -> None:
        self.database = database
        database.declare(SNAPSHOTS, _INDEXES)

    async def _snapshots(self) -> Any:
        await self.database.prepare(SNAPSHOTS)
        return self.database.collection(SNAPSHOTS)

    async def save_snapshot(self, record: SnapshotRecord) -> None:
        document = _document(record)
        snapshots = await self._snapshots()
        key = {"stream_id": {"$eq": record.stream_id}, "version": {"$eq": record.version}}
        where = f"saving a snapshot of stream {record.stream_id!r}"
        joined = self.database.joined()
        collated = self.database.collated()
        try:
            with translated(where, writing=True, too_large=SNAPSHOT_TOO_LARGE):
                await snapshots.replace_one(key, document, upsert=True, **joined, **collated)
        except DuplicateKeyError:
            if joined:  # the transaction is over; its owner retries it
                raise
            # Two savers raced to create the same snapshot: the second one replaces it.
            with translated(where, writing=True, too_large=SNAPSHOT_TOO_LARGE):
                await snapshots.replace_one(key, document, upsert=True, **collated)

    async def latest_snapshot(
        self, stream_id: str, max_version: int | None
    ) -> SnapshotRecord | None:
        snapshots = await self._snapshots()
        query: dict[str, Any] = {"stream_id": {"$eq": stream_id}}
        if max_version is not None:
            query["version"] = {"$lte": max_version}
        with translated(f"reading the snapshots of stream {stream_id!r}"):
            found = await snapshots.find_one(
                query,
                sort=[("version", DESCENDING)],
                **self.database.joined(),
                **self.database.collated(),
            )
        return None if found is None else _record(found)

    async def read_snapshots(
        self, after: tuple[str, int] | None, limit: int
    ) -> Sequence[SnapshotRecord]:
        snapshots = await self._snapshots()
        query: dict[str, Any] = {}
        if after is not None:
            stream_id, version = after
            query = {
                "$or": [
                    {"stream_id": {"$gt": stream_id}},
                    {"stream_id": {"$eq": stream_id}, "version": {"$gt": version}},
                ]
            }
        with translated("listing snapshots"):
            cursor = snapshots.find(
                query,
                sort=[("stream_id", ASCENDING), ("version", ASCENDING)],
                limit=limit,
                **self.database.joined(),
                **self.database.collated(),
            )
            found = [document async for document in cursor]
        return [_record(document) for document in found]
