"""The entities of one class in one MongoDB collection: the engine under ``MongoRepository``.

Writes are single-document operations, atomic on any deployment, except a batch of new
entities: on a replica set it is inserted in one transaction; on a standalone server the
ids are checked first and, should the server refuse one document of the batch (an id taken
in the meantime, a validator, the size limit), the part inserted is removed again. An
update replaces the stored document whole (a field the new document lacks is gone), keeping
its ``_id`` and its place in the order of adding. Inside a transaction the caller started,
every call joins it.

What decides a write (is this id taken, which position does this entity have) is read on
the primary; queries follow the URL's read preference. Every query and write compares
strings with the simple collation, and sorted queries may sort on disk, so a large result
ordered by an unindexed attribute is not refused for the server's in-memory sort limit.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from victor_core.backend import (
    BaseSpecification,
    ConfigurationError,
    DocumentQuery,
    DocumentStore,
    Expression,
    NewDocument,
    OrderKey,
    Pushdown,
    StoredDocument,
    VersionCheck,
)
from victor_mongodb.client import resolved
from victor_mongodb.database import MongoDatabase
from victor_mongodb.documents import POSITION, fields_of, from_document
from victor_mongodb.errors import DUPLICATE_KEY, ENTITY_TOO_LARGE, translated
from victor_mongodb.filters import FilterCompiler, field_name
from victor_mongodb.transactions import MongoTransactionManager

#: The collection counting each entity collection's positions.
SEQUENCES = "victor_sequences"


class MongoDocumentStore(DocumentStore):
    """A :class:`~victor_core.repository.DocumentStore` on one collection of a database."""

    def __init__(
        self,
        database: MongoDatabase,
        collection: str,
        compiler: FilterCompiler,
        indexes: Sequence[tuple[str, ...]] = (),
        *,
        owns_database: bool = True,
    ) -> None:
        self.database = database
        self.name = collection
        self.compiler = compiler
        self.owns_database = owns_database
        database.declare(
            collection,
            [IndexModel([(POSITION, ASCENDING)], name=POSITION)]
            + [IndexModel([(field_name(path), ASCENDING), ("_id", ASCENDING)]) for path in indexes],
        )
        database.declare(SEQUENCES)

    async def _collection(self, *, primary: bool = False) -> Any:
        """The entities' collection; *primary* for reads that decide a write."""
        await self.database.prepare(self.name)
        return self.database.collection(self.name, primary=primary)

    @property
    def collated(self) -> dict[str, Any]:
        """The simple collation, as keyword arguments of a driver call."""
        return self.database.collated()

    def pushdown(self, spec: BaseSpecification[Any]) -> Pushdown:
        return self.compiler.pushdown(spec)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        return self.compiler.orders_by(keys)

    async def insert(self, documents: Sequence[NewDocument]) -> str | None:
        seen: set[str] = set()
        for new in documents:
            if new.entity_id in seen:
                return new.entity_id
            seen.add(new.entity_id)
        what = f"{self.name} {documents[0].entity_id!r}"
        # Everything that could be refused is refused before anything is written.
        prepared = [fields_of(new.document, f"{self.name} {new.entity_id!r}") for new in documents]
        collection = await self._collection(primary=True)
        taken = await self._first_taken(collection, documents)
        if taken is not None:
            return taken
        last = await self._reserve(len(documents))
        first = last - len(documents) + 1
        stored = [
            {"_id": new.entity_id, **fields, POSITION: first + offset}
            for offset, (new, fields) in enumerate(zip(documents, prepared, strict=True))
        ]
        with translated(f"adding {what}", writing=True, too_large=ENTITY_TOO_LARGE):
            return await self._insert(collection, stored)

    async def _insert(self, collection: Any, stored: list[dict[str, Any]]) -> str | None:
        joined = self.database.joined()
        if joined:  # inside the caller's transaction: all or nothing already
            try:
                await collection.insert_many(stored, **joined)
            except BulkWriteError as exc:
                return _taken_in(exc, stored)
            return None
        if len(stored) == 1:
            try:
                await collection.insert_one(stored[0])
            except DuplicateKeyError:
                return str(stored[0]["_id"])
            return None
        if await self.database.supports_transactions():
            try:
                async with self.database.transaction():
                    try:
                        await collection.insert_many(stored, **self.database.joined())
                    except BulkWriteError as exc:
                        raise _Taken(_taken_in(exc, stored)) from exc
            except _Taken as taken:
                return taken.entity_id
            return None
        # No transactions: insert in order and, if the server refuses one document after
        # all, remove the ones already inserted, so that the batch leaves nothing behind.
        try:
            await collection.insert_many(stored, ordered=True)
        except PyMongoError as exc:
            await self._remove_inserted(collection, stored, exc)
            if isinstance(exc, BulkWriteError):
                return _taken_in(exc, stored)
            raise
        return None

    async def _remove_inserted(
        self, collection: Any, stored: list[dict[str, Any]], error: PyMongoError
    ) -> None:
        """Delete what a failed batch inserted: its documents, known by their new positions.

        The positions were reserved for this batch, so the filter cannot match an entity
        someone else stored under one of the ids in the meantime.
        """
        if isinstance(error, BulkWriteError):
            stored = stored[: _failed_index(error)]
        if not stored:
            return
        ids = [document["_id"] for document in stored]
        positions = [document[POSITION] for document in stored]
        await collection.delete_many(
            {"_id": {"$in": ids}, POSITION: {"$in": positions}}, **self.database.collated()
        )

    async def _first_taken(self, collection: Any, documents: Sequence[NewDocument]) -> str | None:
        ids = [new.entity_id for new in documents]
        with translated(f"looking up ids in {self.name!r}"):
            cursor = collection.find(
                {"_id": {"$in": ids}}, {"_id": 1}, **self.database.joined(), **self.collated
            )
            found = {document["_id"] async for document in cursor}
        return next((entity_id for entity_id in ids if entity_id in found), None)

    async def _reserve(self, count: int) -> int:
        """The last of *count* new positions in adding order (they may become visible late)."""
        await self.database.prepare(SEQUENCES)
        sequences = self.database.collection(SEQUENCES)
        change = {"$inc": {"last": count}}
        for _ in range(2):  # two creators of the counter may race once
            try:
                # Not a write whose outcome matters: a lost increment only skips positions,
                # and nothing of the entities is stored yet.
                with translated(f"numbering new entities of {self.name!r}"):
                    counter = await sequences.find_one_and_update(
                        {"_id": self.name},
                        change,
                        upsert=True,
                        return_document=ReturnDocument.AFTER,
                        **self.collated,
                    )
            except DuplicateKeyError:
                continue
            return int(counter["last"])
        raise ConfigurationError(  # pragma: no cover - a second race cannot happen
            f"could not number new entities of {self.name!r}"
        )

    async def load(self, entity_id: str) -> str | None:
        collection = await self._collection()
        with translated(f"reading {self.name} {entity_id!r}"):
            found = await collection.find_one(
                {"_id": {"$eq": entity_id}}, **self.database.joined(), **self.collated
            )
        return None if found is None else from_document(found)[1]

    async def replace(self, entity_id: str, document: str, check: VersionCheck | None) -> bool:
        """Replace the document whole: what the new one lacks is gone, as in SQLite.

        Two steps, since the position must be kept and a replacement cannot refer to the
        old document: read the position, then replace on the condition that the document
        still has it (and still passes *check*), so a concurrent change makes it match
        nothing rather than lose that change.
        """
        fields = fields_of(document, f"{self.name} {entity_id!r}")
        collection = await self._collection(primary=True)
        query: dict[str, Any] = {"_id": {"$eq": entity_id}}
        if check is not None:
            version = field_name((check.field,))
            if check.absent_matches:
                # Stored before the class declared the field: it reads back as the default.
                query["$or"] = [
                    {version: {"$eq": check.expected}},
                    {version: {"$exists": False}},
                ]
            else:
                query[version] = {"$eq": check.expected}
        joined = self.database.joined()
        where = f"updating {self.name} {entity_id!r}"
        with translated(where, writing=True, too_large=ENTITY_TOO_LARGE):
            found = await collection.find_one(
                query, projection={POSITION: True}, **joined, **self.collated
            )
            if found is None:
                return False
            position = found.get(POSITION, 0)
            query[POSITION] = {"$eq": position} if POSITION in found else {"$exists": False}
            # A plain value (a str is never an operator): the stand-ins copy an ``$eq`` into
            # the replacement's ``_id``.
            query["_id"] = entity_id
            result = await collection.replace_one(
                query, {"_id": entity_id, **fields, POSITION: position}, **joined, **self.collated
            )
        return bool(result.matched_count == 1)

    async def remove(self, entity_id: str) -> bool:
        collection = await self._collection()
        with translated(f"deleting {self.name} {entity_id!r}", writing=True):
            result = await collection.delete_one(
                {"_id": {"$eq": entity_id}}, **self.database.joined(), **self.collated
            )
        return bool(result.deleted_count == 1)

    async def select(self, query: DocumentQuery) -> AsyncGenerator[StoredDocument, None]:
        if query.limit == 0:
            return
        collection = await self._collection()
        conditions = []
        if query.where is not None:
            conditions.append(self.compiler.filter(query.where))
        if query.after is not None:
            conditions.append({POSITION: {"$gt": query.after}})
        where: dict[str, Any] = (
            {}
            if not conditions
            else conditions[0]
            if len(conditions) == 1
            else {"$and": conditions}
        )
        sort = self.compiler.sort(query.order) if query.order else [(POSITION, ASCENDING)]
        cursor = collection.find(
            where,
            sort=sort,
            skip=query.offset,
            limit=query.limit or 0,
            allow_disk_use=True if query.order else None,
            **self.database.joined(),
            **self.collated,
        )
        try:
            with translated(f"querying {self.name!r}"):
                async for document in cursor:
                    entity_id, text, position = from_document(document)
                    yield StoredDocument(entity_id, text, position)
        finally:
            await resolved(cursor.close())

    async def count(self, where: Expression | None) -> int:
        collection = await self._collection()
        with translated(f"counting {self.name!r}"):
            return int(
                await collection.count_documents(
                    {} if where is None else self.compiler.filter(where),
                    **self.database.joined(),
                    **self.collated,
                )
            )

    def transaction_manager(self) -> MongoTransactionManager:
        """The manager of this store's client: writes through one client commit together."""
        return MongoTransactionManager(self.database)

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()


class _Taken(Exception):
    """Ends a batch's own transaction (aborting it) when one of its ids is taken."""

    def __init__(self, entity_id: str) -> None:
        super().__init__(entity_id)
        self.entity_id = entity_id


def _failed_index(error: BulkWriteError) -> int:
    errors = error.details.get("writeErrors") or [{}]
    return int(errors[0].get("index", 0))


def _taken_in(error: BulkWriteError, stored: list[dict[str, Any]]) -> str:
    """The id whose duplicate stopped the batch; other write errors are raised again."""
    errors = error.details.get("writeErrors") or []
    if not errors or errors[0].get("code") != DUPLICATE_KEY:
        raise error
    return str(stored[_failed_index(error)]["_id"])
