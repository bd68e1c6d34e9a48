"""The entities of one class in one MongoDB collection: the engine under ``MongoRepository``.

Writes are single-document operations, atomic on any deployment, except a batch of new
entities: on a replica set it is inserted in one transaction; on a standalone server the
ids are checked first and, should one be taken in the meantime, the part inserted is
removed again. Inside a transaction the caller started, every call joins it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

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
    pushdown,
)
from victor_mongodb.client import resolved
from victor_mongodb.database import MongoDatabase
from victor_mongodb.documents import POSITION, fields_of, from_document
from victor_mongodb.errors import DUPLICATE_KEY, translated
from victor_mongodb.filters import FilterCompiler, field_name

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
        self._indexes = [IndexModel([(POSITION, ASCENDING)], name=POSITION)] + [
            IndexModel([(field_name(path), ASCENDING), ("_id", ASCENDING)]) for path in indexes
        ]

    async def _collection(self) -> Any:
        collection = self.database.collection(self.name)

        async def create_indexes() -> None:
            with translated(f"creating the indexes of {self.name!r}"):
                await collection.create_indexes(self._indexes)

        await self.database.prepare(f"entities:{self.name}", create_indexes)
        return collection

    def pushdown(self, spec: BaseSpecification[Any]) -> Pushdown:
        return pushdown(spec, self.compiler.compiles)

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
        collection = await self._collection()
        taken = await self._first_taken(collection, documents)
        if taken is not None:
            return taken
        last = await self._reserve(len(documents))
        first = last - len(documents) + 1
        stored = [
            {"_id": new.entity_id, **fields, POSITION: first + offset}
            for offset, (new, fields) in enumerate(zip(documents, prepared, strict=True))
        ]
        with translated(f"adding {what}"):
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
                async with self.database.adapter.transaction() as session:
                    await collection.insert_many(stored, session=session)
            except BulkWriteError as exc:
                return _taken_in(exc, stored)
            return None
        # No transactions: insert in order and, if one id turns out to be taken after all,
        # remove the ones already inserted, so that the batch leaves nothing behind.
        try:
            await collection.insert_many(stored, ordered=True)
        except BulkWriteError as exc:
            taken = _taken_in(exc, stored)
            inserted = [document["_id"] for document in stored[: _failed_index(exc)]]
            if inserted:
                await collection.delete_many({"_id": {"$in": inserted}})
            return taken
        return None

    async def _first_taken(self, collection: Any, documents: Sequence[NewDocument]) -> str | None:
        ids = [new.entity_id for new in documents]
        with translated(f"looking up ids in {self.name!r}"):
            cursor = collection.find({"_id": {"$in": ids}}, {"_id": 1}, **self.database.joined())
            found = {document["_id"] async for document in cursor}
        return next((entity_id for entity_id in ids if entity_id in found), None)

    async def _reserve(self, count: int) -> int:
        """The last of *count* new positions in adding order (they may become visible late)."""
        sequences = self.database.collection(SEQUENCES)
        change = {"$inc": {"last": count}}
        for _ in range(2):  # two creators of the counter may race once
            try:
                with translated(f"numbering new entities of {self.name!r}"):
                    counter = await sequences.find_one_and_update(
                        {"_id": self.name},
                        change,
                        upsert=True,
                        return_document=ReturnDocument.AFTER,
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
            found = await collection.find_one({"_id": {"$eq": entity_id}}, **self.database.joined())
        return None if found is None else from_document(found)[1]

    async def replace(self, entity_id: str, document: str, check: VersionCheck | None) -> bool:
        fields = fields_of(document, f"{self.name} {entity_id!r}")
        collection = await self._collection()
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
        with translated(f"updating {self.name} {entity_id!r}"):
            result = await collection.update_one(query, {"$set": fields}, **self.database.joined())
        return bool(result.matched_count == 1)

    async def remove(self, entity_id: str) -> bool:
        collection = await self._collection()
        with translated(f"deleting {self.name} {entity_id!r}"):
            result = await collection.delete_one(
                {"_id": {"$eq": entity_id}}, **self.database.joined()
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
            **self.database.joined(),
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
                    {} if where is None else self.compiler.filter(where), **self.database.joined()
                )
            )

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()


def _failed_index(error: BulkWriteError) -> int:
    errors = error.details.get("writeErrors") or [{}]
    return int(errors[0].get("index", 0))


def _taken_in(error: BulkWriteError, stored: list[dict[str, Any]]) -> str:
    """The id whose duplicate stopped the batch; other write errors are raised again."""
    errors = error.details.get("writeErrors") or []
    if not errors or errors[0].get("code") != DUPLICATE_KEY:
        raise error
    return str(stored[_failed_index(error)]["_id"])
