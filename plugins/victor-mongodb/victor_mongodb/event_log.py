"""The MongoDB event recorder: one document per append, positions a catch-up reader can trust.

Each append is stored as one *commit* document holding all its events, so it is atomic
without a transaction: MongoDB writes a single document whole or not at all::

    {_id: 41,                 # global position of the first event
     last_position: 43,
     stream_id: "order-7", first_version: 5, last_version: 7,
     events: [{event_id, type_name, schema_version, data, timestamp}, ...]}

Two unique indexes decide every race. ``(stream_id, first_version)`` admits one commit per
stream version: of two appends that read the same stream version, the second insert fails
with a duplicate key, re-reads the stream and raises
:class:`~victor_core.ConcurrencyError` (or, for ``expected_version="any"``, tries again).

``_id``, the first global position, is always one past the last position of a commit the
appender has *seen stored*. Two appenders that saw the same last commit collide on
``_id`` and the loser tries again with the new last position. So a commit can only be
inserted after every commit before it is visible, and a reader paging through ``read_all``
never passes a position that a slower writer fills in later. A counter handed out before
the insert could not promise that. The price is that appends to the whole store are
serialised: see docs/mongodb.md for what that costs.

What an appender reads to decide its insert (the stream's version, the last position) is
read on the primary, whatever read preference the URL names: a lagging secondary would
show an old head, and every insert would collide. ``read_all`` reads with majority read
concern, so a reader never sees a commit that a failover could roll back (and whose
position the next append would then take again).

Event ids are unique per stream: a unique index on ``(stream_id, events.event_id)`` admits
an event id once in a stream's commits (MongoDB enforces a unique multikey index across
documents; the kernel refuses an id given twice in one append). Before inserting, an append
looks up the ids it gives, so that a retry of a stored append gets the first result and any
other reuse is refused (:func:`~victor_core.backend.check_append`); an insert that loses a
race on either index looks again, and then finds the winner's commit.

Event payloads are kept as the JSON text the kernel's serializer made, and timestamps as
ISO-8601 text in UTC with microseconds, so what is read back is exactly what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, OperationFailure

from victor_core.backend import (
    AppendResult,
    AppendSignal,
    BackendError,
    EventRecorder,
    ExpectedVersion,
    NewEventRecord,
    StoredEventRecord,
    check_append,
)
from victor_mongodb.database import MongoDatabase
from victor_mongodb.errors import (
    DUPLICATE_KEY,
    WRITE_CONFLICT,
    AppendConflict,
    TransactionConflict,
    translated,
)
from victor_mongodb.transactions import MongoTransactionManager
from victor_mongodb.wakeups import ChangeStreamSignal, wakeups_of

#: The collection holding the commit documents.
EVENTS = "victor_events"
#: Appends that lost the race for a position are retried this many times before giving up.
MAX_ATTEMPTS = 1000

_INDEXES = [
    IndexModel(
        [("stream_id", ASCENDING), ("first_version", ASCENDING)], unique=True, name="stream_version"
    ),
    IndexModel([("last_position", ASCENDING)], name="last_position"),
    IndexModel(
        [("stream_id", ASCENDING), ("events.event_id", ASCENDING)], unique=True, name="event_id"
    ),
]


def timestamp_text(moment: datetime) -> str:
    """*moment* (UTC) as fixed-width ISO text, which sorts as time does."""
    return moment.isoformat(timespec="microseconds")


def commit_document(
    first_position: int, stream_id: str, first_version: int, records: Sequence[NewEventRecord]
) -> dict[str, Any]:
    """The document storing one append of *records*."""
    return {
        "_id": first_position,
        "last_position": first_position + len(records) - 1,
        "stream_id": stream_id,
        "first_version": first_version,
        "last_version": first_version + len(records) - 1,
        "events": [
            {
                "event_id": record.event_id,
                "type_name": record.type_name,
                "schema_version": record.schema_version,
                "data": record.data,
                "timestamp": timestamp_text(record.timestamp),
            }
            for record in records
        ],
    }


def stored_records(commit: dict[str, Any]) -> list[StoredEventRecord]:
    """The records one commit document holds, in order."""
    position, version = commit["_id"], commit["first_version"]
    return [
        StoredEventRecord(
            position=position + offset,
            stream_id=commit["stream_id"],
            version=version + offset,
            event_id=event["event_id"],
            type_name=event["type_name"],
            schema_version=event["schema_version"],
            data=event["data"],
            timestamp=datetime.fromisoformat(event["timestamp"]),
        )
        for offset, event in enumerate(commit["events"])
    ]


class MongoEventRecorder(EventRecorder):
    """An :class:`~victor_core.backend.EventRecorder` over the commit documents of one database."""

    def __init__(self, database: MongoDatabase, *, owns_database: bool = True) -> None:
        self.database = database
        self.owns_database = owns_database
        database.declare(EVENTS, _INDEXES)
        #: The last position this recorder stored or read; only ever a first guess.
        self._last_position: int | None = None
        self._majority_acknowledged = database.write_concern.document.get("w") == "majority"

    def append_signal(self) -> AppendSignal:
        """Wakes a subscription on this process's appends and, on a replica set, on
        everyone's (a change stream); see :mod:`victor_mongodb.wakeups`."""
        return ChangeStreamSignal(self.database)

    async def _events(self, *, majority: bool = False) -> Any:
        """The commit documents: read on the primary, or with majority read concern."""
        await self.database.prepare(EVENTS)
        if majority:
            return self.database.collection(EVENTS, majority=True)
        return self.database.collection(EVENTS, primary=True)

    async def append(
        self,
        stream_id: str,
        records: Sequence[NewEventRecord],
        expected_version: ExpectedVersion,
    ) -> AppendResult:
        events = await self._events()
        where = f"appending to stream {stream_id!r} in {self.database.settings.describe()}"
        joined = self.database.joined()
        if joined:
            return await self._append_in_transaction(
                events, stream_id, records, expected_version, joined, where
            )
        for _ in range(MAX_ATTEMPTS):
            current = await self._stream_version(events, stream_id)
            reused = await self._reused(events, stream_id, records)
            earlier = check_append(stream_id, records, expected_version, current, reused)
            if earlier is not None:
                return earlier
            if self._last_position is None:
                self._last_position = await self._read_last_position(events)
            commit = commit_document(self._last_position + 1, stream_id, current + 1, records)
            try:
                with translated(where, writing=True):
                    await events.insert_one(commit)
            except DuplicateKeyError:
                # Another append took this stream version, this position or one of these
                # event ids: look again.
                self._last_position = None
                continue
            self._last_position = commit["last_position"]
            if self._majority_acknowledged:
                # What a majority has is what read_all shows: a woken reader finds it.
                wakeups_of(self.database).committed(commit["last_position"])
            return _result(commit)
        raise BackendError(
            f"{where}: lost the race for a global position {MAX_ATTEMPTS} times in a row to "
            "other appends; nothing was written. Retry, or append fewer, larger batches"
        )

    async def _append_in_transaction(
        self,
        events: Any,
        stream_id: str,
        records: Sequence[NewEventRecord],
        expected_version: ExpectedVersion,
        joined: dict[str, Any],
        where: str,
    ) -> AppendResult:
        """One attempt: a lost race ends the transaction, so its owner must retry all of it.

        The position comes from the server, never from what this recorder remembers, and is
        not remembered: the commit may still be rolled back. A lost race (a duplicate key,
        or a write conflict with an append not yet committed) is an :class:`AppendConflict`,
        which the unit of work's commit answers by running the transaction again.
        """
        self._last_position = None
        current = await self._stream_version(events, stream_id, joined)
        reused = await self._reused(events, stream_id, records, joined)
        earlier = check_append(stream_id, records, expected_version, current, reused)
        if earlier is not None:
            return earlier
        last = await self._read_last_position(events, joined)
        commit = commit_document(last + 1, stream_id, current + 1, records)
        try:
            with translated(where, writing=True):
                await events.insert_one(commit, **joined)
        except (DuplicateKeyError, TransactionConflict) as exc:
            if not _lost_race(exc):
                raise
            raise AppendConflict(stream_id, expected_version, current) from exc
        return _result(commit)

    async def read_stream(
        self,
        stream_id: str,
        from_version: int,
        to_version: int | None,
        limit: int | None,
    ) -> Sequence[StoredEventRecord]:
        events = await self._events()
        query: dict[str, Any] = {
            "stream_id": {"$eq": stream_id},
            "last_version": {"$gte": from_version},
        }
        if to_version is not None:
            query["first_version"] = {"$lte": to_version}
        cursor = events.find(query, **self.database.joined(), **self.database.collated()).sort(
            "first_version", ASCENDING
        )
        if limit is not None:
            cursor = cursor.limit(limit)  # every commit holds at least one event
        found: list[StoredEventRecord] = []
        with translated(f"reading stream {stream_id!r}"):
            async for commit in cursor:
                for record in stored_records(commit):
                    if record.version < from_version:
                        continue
                    if to_version is not None and record.version > to_version:
                        break
                    found.append(record)
        return found if limit is None else found[:limit]

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        events = await self._events(majority=True)
        cursor = (
            events.find(
                {"last_position": {"$gte": from_position}},
                **self.database.joined(),
                **self.database.collated(),
            )
            .sort("last_position", ASCENDING)
            .limit(limit)
        )
        found: list[StoredEventRecord] = []
        with translated("reading all events"):
            async for commit in cursor:
                found.extend(r for r in stored_records(commit) if r.position >= from_position)
        return found[:limit]

    async def stream_version(self, stream_id: str) -> int:
        events = await self._events()
        return await self._stream_version(events, stream_id, self.database.joined())

    async def version_at(self, stream_id: str, moment: datetime) -> int:
        """One query: the version before the stream's first event later than *moment*."""
        events = await self._events()
        later = {"$gt": timestamp_text(moment)}
        pipeline: list[dict[str, Any]] = [
            {"$match": {"stream_id": {"$eq": stream_id}, "events.timestamp": later}},
            {"$unwind": {"path": "$events", "includeArrayIndex": "offset"}},
            {"$match": {"events.timestamp": later}},
            {"$sort": {"first_version": ASCENDING, "offset": ASCENDING}},
            {"$limit": 1},
            {"$project": {"first_version": True, "offset": True}},
        ]
        joined = self.database.joined()
        with translated(f"reading stream {stream_id!r} as of {moment.isoformat()}"):
            found = await self.database.adapter.aggregate(
                events, pipeline, **joined, **self.database.collated()
            )
        if not found:
            return await self._stream_version(events, stream_id, joined)
        return int(found[0]["first_version"]) + int(found[0]["offset"]) - 1

    async def _stream_version(
        self, events: Any, stream_id: str, joined: dict[str, Any] | None = None
    ) -> int:
        with translated(f"reading the version of stream {stream_id!r}"):
            last = await events.find_one(
                {"stream_id": {"$eq": stream_id}},
                projection={"last_version": True},
                sort=[("first_version", DESCENDING)],
                **(joined or {}),
                **self.database.collated(),
            )
        return 0 if last is None else int(last["last_version"])

    async def last_position(self) -> int:
        return await self._read_last_position(await self._events(), self.database.joined())

    async def _reused(
        self,
        events: Any,
        stream_id: str,
        records: Sequence[NewEventRecord],
        joined: dict[str, Any] | None = None,
    ) -> list[StoredEventRecord]:
        """The stream's records whose event ids the append gives again, found by the index."""
        ids = [record.event_id for record in records]
        wanted = set(ids)
        found: list[StoredEventRecord] = []
        with translated(f"looking up the event ids of an append to stream {stream_id!r}"):
            cursor = events.find(
                {"stream_id": {"$eq": stream_id}, "events.event_id": {"$in": ids}},
                **(joined or {}),
                **self.database.collated(),
            )
            async for commit in cursor:
                found.extend(r for r in stored_records(commit) if r.event_id in wanted)
        return found

    async def _read_last_position(self, events: Any, joined: dict[str, Any] | None = None) -> int:
        with translated("reading the last global position"):
            last = await events.find_one(
                {},
                projection={"last_position": True},
                sort=[("_id", DESCENDING)],
                **(joined or {}),
                **self.database.collated(),
            )
        return 0 if last is None else int(last["last_position"])

    def transaction_manager(self) -> MongoTransactionManager:
        """The manager of this store's client: writes through one client commit together."""
        return MongoTransactionManager(self.database)

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()


def _result(commit: dict[str, Any]) -> AppendResult:
    return AppendResult(
        stream_id=commit["stream_id"],
        version=commit["last_version"],
        positions=tuple(range(commit["_id"], commit["last_position"] + 1)),
    )


def _lost_race(error: BaseException) -> bool:
    """True when a transactional insert lost to a concurrent append, committed or not."""
    if isinstance(error, DuplicateKeyError):
        return True
    cause = error.__cause__
    return isinstance(cause, OperationFailure) and cause.code in (DUPLICATE_KEY, WRITE_CONFLICT)
