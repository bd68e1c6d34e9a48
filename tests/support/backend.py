"""The ``lists`` backend: a small recorder and document store, so that the kernel's tests need
no plugin installed.

Plain Python lists and dicts, one "database" per URL name (``lists://`` is private to the
object, ``lists://name`` is shared by every store and repository opened with that name).
It declares only what it does: events, a global order and repositories, without
transactions, snapshots or checkpoints. ``tests/conftest.py`` installs it for the test run
under the entry point group ``victor.backends``, the way a real plugin is found.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, TypeVar

from victor_core import Entity, EventStore
from victor_core.backend import (
    AppendBroadcast,
    AppendResult,
    BackendInfo,
    BackendURL,
    BaseSpecification,
    Capability,
    CheckpointStore,
    DocumentQuery,
    DocumentRepository,
    DocumentStore,
    EntityCodec,
    EventRecorder,
    ExpectedVersion,
    Expression,
    NewDocument,
    NewEventRecord,
    OrderKey,
    Pushdown,
    StoredDocument,
    StoredEventRecord,
    VersionCheck,
    check_append,
    entity_name,
    evaluate,
    expression_of,
    hookimpl,
    sort_in_python,
)

E = TypeVar("E", bound=Entity)

NAME = "lists"


class Database:
    """The events and the documents (entity name -> id -> (position, JSON)) of one name."""

    def __init__(self) -> None:
        self.events: list[StoredEventRecord] = []
        #: Wakes the subscriptions waiting for an append.
        self.appended = AppendBroadcast()
        self.documents: dict[str, dict[str, tuple[int, str]]] = {}
        self.last_position = 0
        self.checkpoints: dict[str, int] = {}
        self.leases: dict[str, tuple[str, float]] = {}


_named: dict[str, Database] = {}


def database(name: str | None) -> Database:
    """The database called *name*, or a new private one."""
    if not name:
        return Database()
    return _named.setdefault(name, Database())


class ListRecorder(EventRecorder):
    """Events in a list; no method awaits, so each one is atomic for the coroutines of a loop."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.log = db.events

    async def append(
        self, stream_id: str, records: Sequence[NewEventRecord], expected_version: ExpectedVersion
    ) -> AppendResult:
        current = self._version(stream_id)
        ids = {record.event_id for record in records}
        reused = [r for r in self.log if r.stream_id == stream_id and r.event_id in ids]
        earlier = check_append(stream_id, records, expected_version, current, reused)
        if earlier is not None:
            return earlier
        stored = [
            StoredEventRecord(
                position=len(self.log) + 1 + offset,
                stream_id=stream_id,
                version=current + 1 + offset,
                event_id=record.event_id,
                type_name=record.type_name,
                schema_version=record.schema_version,
                data=record.data,
                timestamp=record.timestamp,
            )
            for offset, record in enumerate(records)
        ]
        self.log.extend(stored)
        self.db.appended.notify(stored[-1].position)
        return AppendResult(stream_id, stored[-1].version, tuple(r.position for r in stored))

    async def read_stream(
        self, stream_id: str, from_version: int, to_version: int | None, limit: int | None
    ) -> Sequence[StoredEventRecord]:
        selected = [
            r
            for r in self.log
            if r.stream_id == stream_id
            and r.version >= from_version
            and (to_version is None or r.version <= to_version)
        ]
        return selected[:limit] if limit is not None else selected

    async def read_all(self, from_position: int, limit: int) -> Sequence[StoredEventRecord]:
        return self.log[from_position - 1 : from_position - 1 + limit]

    async def stream_version(self, stream_id: str) -> int:
        return self._version(stream_id)

    def append_signal(self) -> AppendBroadcast:
        return self.db.appended

    def _version(self, stream_id: str) -> int:
        return sum(1 for r in self.log if r.stream_id == stream_id)


class DictCheckpointStore(CheckpointStore):
    """Projection positions and leases in dicts; no method awaits."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def read_checkpoint(self, name: str) -> int | None:
        return self.db.checkpoints.get(name)

    async def write_checkpoint(self, name: str, position: int) -> None:
        self.db.checkpoints[name] = position

    async def read_checkpoints(self) -> dict[str, int]:
        return dict(self.db.checkpoints)

    async def swap_checkpoint(self, name: str, expected: int, position: int) -> int | None:
        found = self.db.checkpoints.get(name, 0)
        if found != expected:
            return found
        self.db.checkpoints[name] = position
        return None

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        holder = self.db.leases.get(name)
        if holder is not None and holder[0] != owner and holder[1] > now:
            return False
        self.db.leases[name] = (owner, until)
        return True

    async def drop_lease(self, name: str, owner: str) -> None:
        holder = self.db.leases.get(name)
        if holder is not None and holder[0] == owner:
            del self.db.leases[name]


class DictDocumentStore(DocumentStore):
    """Documents in a dict; queries are evaluated in Python, exactly."""

    def __init__(self, db: Database, name: str, codec: EntityCodec[Any]) -> None:
        self.db = db
        self.rows = db.documents.setdefault(name, {})
        self.codec = codec

    def pushdown(self, spec: BaseSpecification[Any]) -> Pushdown:
        return Pushdown(expression_of(spec), exact=True)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        return True

    async def insert(self, documents: Sequence[NewDocument]) -> str | None:
        seen: set[str] = set()
        for new in documents:
            if new.entity_id in self.rows or new.entity_id in seen:
                return new.entity_id
            seen.add(new.entity_id)
        for new in documents:
            self.db.last_position += 1
            self.rows[new.entity_id] = (self.db.last_position, new.document)
        return None

    async def load(self, entity_id: str) -> str | None:
        row = self.rows.get(entity_id)
        return None if row is None else row[1]

    async def replace(self, entity_id: str, document: str, check: VersionCheck | None) -> bool:
        row = self.rows.get(entity_id)
        if row is None or (check is not None and not check.accepts(json.loads(row[1]))):
            return False
        self.rows[entity_id] = (row[0], document)
        return True

    async def remove(self, entity_id: str) -> bool:
        return self.rows.pop(entity_id, None) is not None

    async def select(self, query: DocumentQuery) -> AsyncGenerator[StoredDocument, None]:
        selected = self._matching(query.where)
        if query.after is not None:
            selected = [s for s in selected if s.position > query.after]
        if query.order:
            sort_in_python(
                selected,
                query.order,
                value=lambda s: self.codec.decode(s.document, s.entity_id),
                ident=lambda s: s.entity_id,
            )
        end = None if query.limit is None else query.offset + query.limit
        for stored in selected[query.offset : end]:
            yield stored

    async def count(self, where: Expression | None) -> int:
        return len(self._matching(where))

    def _matching(self, where: Expression | None) -> list[StoredDocument]:
        return [
            StoredDocument(entity_id, document, position)
            for entity_id, (position, document) in list(self.rows.items())
            if where is None or evaluate(where, self.codec.decode(document, entity_id))
        ]


class ListRepository(DocumentRepository[E]):
    """A repository on a :class:`DictDocumentStore`: ``ListRepository[User]()`` or
    ``ListRepository(User)``, as a backend's repository class is bound."""

    def __init__(self, entity_type: type[E] | None = None, *, name: str | None = None) -> None:
        resolved: type[E] = self.resolve_entity_type(entity_type)
        codec = EntityCodec(resolved)
        store = DictDocumentStore(database(name), entity_name(resolved), codec)
        super().__init__(resolved, store)


def list_event_store(name: str | None = None) -> EventStore:
    """An event store on a :class:`ListRecorder` with its checkpoints next to the events,
    private unless *name* is given (``lists://`` URLs give one without checkpoints)."""
    db = database(name)
    return EventStore(ListRecorder(db), checkpoints=DictCheckpointStore(db))


def _database_name(url: BackendURL) -> str | None:
    return (url.authority + url.path).strip("/") or None


@hookimpl
def victor_backend_info() -> BackendInfo:
    return BackendInfo(
        name=NAME,
        version="0",
        url_schemes=(NAME,),
        capabilities={Capability.EVENT_STORE, Capability.GLOBAL_ORDER, Capability.REPOSITORY},
        description="Plain lists in the test process, for the kernel's own tests.",
    )


@hookimpl
def victor_create_event_store(url: BackendURL, options: Mapping[str, Any]) -> EventStore:
    return EventStore(
        ListRecorder(database(_database_name(url))), serializer=options.get("serializer")
    )


@hookimpl
def victor_create_repository(
    url: BackendURL, entity_type: type, options: Mapping[str, Any]
) -> ListRepository[Any]:
    return ListRepository(entity_type, name=_database_name(url))
