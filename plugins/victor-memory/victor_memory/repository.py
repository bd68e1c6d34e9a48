"""``InMemoryRepository``: the seed's repository for tests and prototypes.

Entities are kept as the JSON documents the shared converter makes of them, exactly as a
database would keep them: changing an entity after ``add`` does not change what is stored,
and a value no database could store fails here too. Specifications are evaluated in Python
on decoded copies, which are cached per document so that queries do not decode everything
each time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
from cattrs.preconf.json import JsonConverter

from victor_core import Entity
from victor_core.backend import (
    BaseSpecification,
    DocumentQuery,
    DocumentRepository,
    DocumentStore,
    EntityCodec,
    Expression,
    NewDocument,
    OrderKey,
    Pushdown,
    StoredDocument,
    VersionCheck,
    entity_name,
    evaluate,
    expression_of,
    sort_in_python,
)
from victor_memory.storage import MemoryStorage, named_storage

if TYPE_CHECKING:
    from victor_memory.transactions import MemoryTransactionManager

E = TypeVar("E", bound=Entity)


@attrs.frozen
class _Row:
    position: int
    document: str


class MemoryEntityTable:
    """The documents of one entity name in one in-memory storage, in order of adding."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[str, _Row] = {}
        self.last_position = 0


def entity_table(storage: MemoryStorage, name: str) -> MemoryEntityTable:
    """The table of entities stored as *name* in *storage*, created on first use."""
    with storage.lock:
        table = storage.entity_tables.get(name)
        if table is None:
            table = storage.entity_tables[name] = MemoryEntityTable()
        return table


# The writes of a document store, as plain functions of a table whose lock the caller holds:
# the store's methods and the transaction manager (victor_memory.transactions) both make
# their writes through these, so a write inside a unit of work is the store's own write.


def insert_holding_lock(table: MemoryEntityTable, documents: Sequence[NewDocument]) -> str | None:
    """Insert all *documents*; or none, giving back the id already stored (or repeated)."""
    seen: set[str] = set()
    for new in documents:
        if new.entity_id in table.rows or new.entity_id in seen:
            return new.entity_id
        seen.add(new.entity_id)
    for new in documents:
        table.last_position += 1
        table.rows[new.entity_id] = _Row(table.last_position, new.document)
    return None


def replace_holding_lock(
    table: MemoryEntityTable, entity_id: str, document: str, check: VersionCheck | None
) -> _Row | None:
    """Replace the document of *entity_id* in place; the row replaced, or None if refused."""
    row = table.rows.get(entity_id)
    if row is None or (check is not None and not check.accepts(json.loads(row.document))):
        return None
    table.rows[entity_id] = _Row(row.position, document)
    return row


def remove_holding_lock(table: MemoryEntityTable, entity_id: str) -> _Row | None:
    """Remove the document of *entity_id*; the row removed, or None if there was none."""
    return table.rows.pop(entity_id, None)


class MemoryDocumentStore(DocumentStore, Generic[E]):
    """A :class:`~victor_core.repository.DocumentStore` over a :class:`MemoryEntityTable`.

    Every write happens without awaiting, under the table's lock, so no other coroutine
    or thread sees half of it.
    """

    def __init__(self, table: MemoryEntityTable, codec: EntityCodec[E]) -> None:
        self.table = table
        self.codec = codec
        self._decoded: dict[str, tuple[str, E]] = {}

    def pushdown(self, spec: BaseSpecification[Any]) -> Pushdown:
        # Python is this engine's query language: everything is evaluated here, exactly.
        return Pushdown(expression_of(spec), exact=True)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        return True

    async def insert(self, documents: Sequence[NewDocument]) -> str | None:
        with self.table.lock:
            return insert_holding_lock(self.table, documents)

    async def load(self, entity_id: str) -> str | None:
        row = self.table.rows.get(entity_id)
        return None if row is None else row.document

    async def replace(self, entity_id: str, document: str, check: VersionCheck | None) -> bool:
        with self.table.lock:
            return replace_holding_lock(self.table, entity_id, document, check) is not None

    async def remove(self, entity_id: str) -> bool:
        with self.table.lock:
            removed = remove_holding_lock(self.table, entity_id)
        self._decoded.pop(entity_id, None)
        return removed is not None

    async def select(self, query: DocumentQuery) -> AsyncGenerator[StoredDocument, None]:
        selected = self._matching(query.where)
        if query.after is not None:
            selected = [s for s in selected if s.position > query.after]
        if query.order:
            sort_in_python(
                selected,
                query.order,
                value=lambda s: self._entity(s.entity_id, s.document),
                ident=lambda s: s.entity_id,
            )
        end = None if query.limit is None else query.offset + query.limit
        for stored in selected[query.offset : end]:
            yield stored

    async def count(self, where: Expression | None) -> int:
        return len(self._matching(where))

    def _matching(self, where: Expression | None) -> list[StoredDocument]:
        with self.table.lock:
            rows = list(self.table.rows.items())
        return [
            StoredDocument(entity_id, row.document, row.position)
            for entity_id, row in rows
            if where is None or evaluate(where, self._entity(entity_id, row.document))
        ]

    def _entity(self, entity_id: str, document: str) -> E:
        cached = self._decoded.get(entity_id)
        if cached is not None and cached[0] is document:
            return cached[1]
        entity = self.codec.decode(document, entity_id)
        self._decoded[entity_id] = (document, entity)
        return entity

    def transaction_manager(self) -> MemoryTransactionManager:
        """The in-process memory's manager: in-memory writes all commit together."""
        # Here, not at the top: that module imports this one.
        from victor_memory.transactions import MemoryTransactionManager

        return MemoryTransactionManager()


class InMemoryRepository(DocumentRepository[E]):
    """A repository that lives in the process: ``InMemoryRepository[User]()``.

    The entity class comes from the subscript, or as the first argument
    (``InMemoryRepository(User)``). Without *name* the repository is private to the
    object; with one it shares its entities with every repository of the same entity name
    opened on that storage (``memory://name``).
    """

    def __init__(
        self,
        entity_type: type[E] | None = None,
        *,
        name: str | None = None,
        converter: JsonConverter | None = None,
    ) -> None:
        resolved: type[E] = self.resolve_entity_type(entity_type)
        table = entity_table(named_storage(name), entity_name(resolved))
        store = MemoryDocumentStore(table, EntityCodec(resolved, converter))
        super().__init__(resolved, store, converter=converter)
