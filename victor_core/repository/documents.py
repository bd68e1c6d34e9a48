"""``DocumentStore``: what a backend writes to provide repositories.

A backend stores each entity as one JSON document under its id, and answers queries given
as expression trees (see :mod:`victor_core.repository.expressions`). Everything else (the
entity classes, serialization, timestamps, versions, errors, and evaluating in Python what
the engine cannot) is done once, by :class:`~victor_core.repository.DocumentRepository`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from victor_core.repository.expressions import NOTHING_PUSHED, Expression, Pushdown
from victor_core.repository.specification import BaseSpecification, OrderKey

if TYPE_CHECKING:
    from victor_core.backend.transactions import TransactionManager


@attrs.frozen
class StoredDocument:
    """One stored entity, as the engine holds it."""

    entity_id: str
    #: The entity as JSON text, produced by the shared converter.
    document: str
    #: Where the entity stands in the order of adding; larger for later adds.
    position: int


@attrs.frozen
class NewDocument:
    """An entity to insert."""

    entity_id: str
    document: str


@attrs.frozen
class VersionCheck:
    """An update applies only if the stored document's ``field`` equals ``expected``.

    A document stored before its class declared the version field has none, and reads back
    with the field's default. When ``absent_matches`` (``expected`` is that default), such a
    document passes the check as well, so entities stored before optimistic locking was
    turned on can be updated: the first update stores a version, and other copies are stale.
    """

    field: str
    expected: int
    absent_matches: bool = False

    def accepts(self, document: Mapping[str, Any]) -> bool:
        """True when the decoded JSON *document* is at the expected version."""
        if self.field not in document:
            return self.absent_matches
        return bool(document[self.field] == self.expected)


@attrs.frozen
class DocumentQuery:
    """Which documents :meth:`DocumentStore.select` yields, and in which order.

    With no ``order`` documents come in position order, and ``after`` skips those at or
    before a position (to page through everything). With ``order``, ties are broken by
    ascending id.
    """

    where: Expression | None = None
    order: tuple[OrderKey, ...] = ()
    limit: int | None = None
    offset: int = 0
    after: int | None = None


class DocumentStore(ABC):
    """The storage of one entity type's documents in one engine."""

    def pushdown(self, spec: BaseSpecification[Any]) -> Pushdown:
        """The part of *spec* this engine evaluates; the rest is checked in Python.

        Backends compiling to a query language usually return
        ``expressions.pushdown(spec, self.compiles)`` with their own ``compiles``.
        """
        return NOTHING_PUSHED

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        """True when the engine can sort by *keys* exactly as ``sort_key`` would."""
        return False

    @abstractmethod
    async def insert(self, documents: Sequence[NewDocument]) -> str | None:
        """Insert all *documents* atomically.

        Returns None when done, or the id of a document that is already stored (or repeated
        in *documents*), in which case nothing at all was inserted.
        """

    @abstractmethod
    async def load(self, entity_id: str) -> str | None:
        """The document stored under *entity_id*, or None."""

    @abstractmethod
    async def replace(self, entity_id: str, document: str, check: VersionCheck | None) -> bool:
        """Replace a stored document, keeping its position; False when absent or stale.

        Stale means *check* does not accept the stored document (see
        :meth:`VersionCheck.accepts`, which says it for a decoded one); the comparison
        and the write must be one atomic step.
        """

    @abstractmethod
    async def remove(self, entity_id: str) -> bool:
        """Remove a stored document; False when absent."""

    @abstractmethod
    def select(self, query: DocumentQuery) -> AsyncGenerator[StoredDocument, None]:
        """The documents matching ``query.where``, in the query's order and window."""

    @abstractmethod
    async def count(self, where: Expression | None) -> int:
        """How many documents match *where*."""

    def transaction_manager(self) -> TransactionManager | None:
        """The manager committing a unit of work's writes to this store, or None.

        A unit of work asks each store its writes name, and commits the writes whose
        managers share a key in one transaction; None (the default) means the writes are
        made one by one, each through the store's own methods.
        """
        return None

    async def close(self) -> None:  # noqa: B027 - most engines have nothing to release
        """Release connections and other resources; called once."""
