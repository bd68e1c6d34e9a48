"""``DocumentRepository``: a complete repository over any backend's ``DocumentStore``.

The backend stores JSON documents and evaluates what it can of a specification; this class
does the rest, identically for every backend: serialization, timestamps, optimistic
locking, errors that leave storage untouched, and the part of a query the engine cannot do,
evaluated in Python without breaking ``limit``, ``offset``, ``count`` or paging.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import aclosing
from typing import Any, TypeVar

from cattrs.preconf.json import JsonConverter

from victor_core.errors import (
    BackendContractError,
    ConfigurationError,
    EntityAlreadyExists,
    EntityNotFound,
    StaleEntity,
    StoreClosed,
    VictorError,
)
from victor_core.eventsourcing.events import utc_now
from victor_core.repository.binding import BindsEntityType
from victor_core.repository.codec import EntityCodec
from victor_core.repository.documents import (
    DocumentQuery,
    DocumentStore,
    NewDocument,
    VersionCheck,
)
from victor_core.repository.entity import (
    Entity,
    check_entity_type,
    version_default,
    version_field,
)
from victor_core.repository.expressions import Pushdown, comparisons, expression_of
from victor_core.repository.repository import (
    DEFAULT_PAGE_SIZE,
    OrderBy,
    Repository,
    check_count,
    check_entity_id,
    check_window,
)
from victor_core.repository.specification import (
    BaseSpecification,
    check_declared_path,
    order_from,
    sort_in_python,
)

E = TypeVar("E", bound=Entity)

_EVERYTHING = Pushdown(None, exact=True)
#: Databases count in 64-bit integers: a larger limit, offset or page size asks for no
#: limit, nothing, or everything at once, and is passed on as such.
_LARGEST = 2**63 - 1


class DocumentRepository(BindsEntityType, Repository[E]):
    """A :class:`Repository` whose storage is a backend's :class:`DocumentStore`."""

    def __init__(
        self,
        entity_type: type[E],
        store: DocumentStore,
        *,
        converter: JsonConverter | None = None,
    ) -> None:
        check_entity_type(entity_type)
        self.entity_type = entity_type
        self.store = store
        self.codec = EntityCodec(self.entity_type, converter)
        self.version_field = version_field(self.entity_type)
        self._absent_version = (
            None if self.version_field is None else version_default(entity_type, self.version_field)
        )
        self._closed = False

    # -- writes ---------------------------------------------------------------------------

    async def add(self, entity: E) -> None:
        await self.add_many([entity])

    async def add_many(self, entities: Iterable[E]) -> None:
        """Store several new entities atomically: all of them, or none when one fails."""
        self._check_open()
        batch = list(entities)
        for entity in batch:
            self._check_instance(entity)
        documents, written = self.new_documents(batch)
        if not documents:
            return
        taken = await self.store.insert(documents)
        if taken is not None:
            raise self.refused_insert(taken)
        set_fields(batch, written)

    def version_check(self, expected: int) -> VersionCheck:
        """The check an update from a copy at version *expected* must pass to be stored.

        A document stored before the class declared its version field has none; it counts as
        being at the field's default, so the first update of such an entity goes through.
        """
        assert self.version_field is not None
        return VersionCheck(
            self.version_field, expected, absent_matches=expected == self._absent_version
        )

    async def update(self, entity: E) -> None:
        self._check_open()
        self._check_instance(entity)
        document, check, written = self.replacement(entity)
        if not await self.store.replace(entity.id, document, check):
            raise await self.refused_update(entity.id, check)
        # Only now, with the update stored, does the caller's object move on.
        set_fields([entity], written)

    async def delete(self, entity_id: str) -> None:
        self._check_open()
        if not await self.store.remove(check_entity_id(entity_id)):
            raise self.refused_delete(entity_id)

    # -- preparing writes -----------------------------------------------------------------
    # The methods above and a unit of work's commit both write through these, so an insert
    # or an update stores the same document, and a refusal raises the same error, whichever
    # made it.

    def new_documents(self, entities: Sequence[E]) -> tuple[list[NewDocument], dict[str, Any]]:
        """The documents that insert *entities*, and the fields they take once stored."""
        written: dict[str, Any] = {self.version_field: 1} if self.version_field else {}
        documents = [NewDocument(e.id, self.codec.encode(e, **written)) for e in entities]
        return documents, written

    def replacement(self, entity: E) -> tuple[str, VersionCheck | None, dict[str, Any]]:
        """The document that updates *entity*, its version check, and the fields it then takes.

        The check is what the stored document must pass (None without a version field); the
        fields (its timestamp, its next version) are set only once the update is stored.
        """
        written: dict[str, Any] = {"updated_at": utc_now()}
        check = None
        if self.version_field:
            expected = getattr(entity, self.version_field)
            check = self.version_check(expected)
            written[self.version_field] = expected + 1
        return self.codec.encode(entity, **written), check, written

    def refused_insert(self, taken: str) -> EntityAlreadyExists:
        """The error for an insert refused because *taken* is stored already (or repeated)."""
        return EntityAlreadyExists(self._name, taken)

    async def refused_update(self, entity_id: str, check: VersionCheck | None) -> VictorError:
        """The error for a refused update: the entity is gone, or stored at another version."""
        stored = await self.store.load(entity_id)
        if stored is None or check is None:
            return EntityNotFound(self._name, entity_id, "update")
        actual = getattr(self.codec.decode(stored, entity_id), check.field)
        return StaleEntity(self._name, entity_id, check.expected, actual)

    def refused_delete(self, entity_id: str) -> EntityNotFound:
        """The error for a delete refused because nothing is stored as *entity_id*."""
        return EntityNotFound(self._name, entity_id, "delete")

    # -- reads ----------------------------------------------------------------------------

    async def get(self, entity_id: str) -> E | None:
        self._check_open()
        document = self._loaded(await self.store.load(check_entity_id(entity_id)))
        return None if document is None else self.codec.decode(document, entity_id)

    async def exists(self, entity_id: str) -> bool:
        self._check_open()
        return self._loaded(await self.store.load(check_entity_id(entity_id))) is not None

    async def find(
        self,
        spec: BaseSpecification[Any] | None = None,
        *,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[E]:
        self._check_open()
        check_window(limit, offset)
        keys = order_from(order_by)
        for key in keys:
            check_declared_path(self.entity_type, key.path)
        plan = self._plan(spec)
        if limit == 0 or offset > _LARGEST:
            return []
        if limit is not None and limit > _LARGEST:
            limit = None  # more than any engine holds: no limit at all
        if keys and not self.store.orders_by(keys):
            # Sorting needs every match in hand: filter everything, sort here, then slice.
            matches = [
                entity
                async for entity in self._matches(spec, plan, DocumentQuery(where=plan.expression))
            ]
            sort_in_python(matches, keys, value=lambda e: e, ident=lambda e: e.id)
            return matches[offset : None if limit is None else offset + limit]
        if plan.exact:
            query = DocumentQuery(where=plan.expression, order=keys, limit=limit, offset=offset)
            return [entity async for entity in self._matches(spec, plan, query)]
        # The engine sorts but cannot filter exactly: take matches in its order, window here.
        found: list[E] = []
        skipped = 0
        query = DocumentQuery(where=plan.expression, order=keys)
        async with aclosing(self._matches(spec, plan, query)) as in_engine_order:
            async for entity in in_engine_order:
                if skipped < offset:
                    skipped += 1
                    continue
                found.append(entity)
                if limit is not None and len(found) >= limit:
                    break
        return found

    async def count(self, spec: BaseSpecification[Any] | None = None) -> int:
        self._check_open()
        plan = self._plan(spec)
        if plan.exact:
            counted = await self.store.count(plan.expression)
            if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
                raise BackendContractError.of(
                    self.store, "count", f"returned {counted!r}, where an int >= 0 is due"
                )
            return counted
        total = 0
        async for _ in self._matches(spec, plan, DocumentQuery(where=plan.expression)):
            total += 1
        return total

    async def iterate(
        self, spec: BaseSpecification[Any] | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[E]:
        self._check_open()
        check_count("page_size", page_size, minimum=1)
        page_size = min(page_size, _LARGEST)
        plan = self._plan(spec)
        after: int | None = None
        while True:
            query = DocumentQuery(where=plan.expression, limit=page_size, after=after)
            async with aclosing(self.store.select(query)) as documents:
                page = [stored async for stored in documents]
            for stored in page:
                entity = self.codec.decode(stored.document, stored.entity_id)
                if plan.exact or (spec is not None and spec.is_satisfied_by(entity)):
                    yield entity
            if len(page) < page_size:
                return
            after = page[-1].position

    async def _matches(
        self, spec: BaseSpecification[Any] | None, plan: Pushdown, query: DocumentQuery
    ) -> AsyncGenerator[E, None]:
        async with aclosing(self.store.select(query)) as documents:
            async for stored in documents:
                entity = self.codec.decode(stored.document, stored.entity_id)
                if plan.exact or (spec is not None and spec.is_satisfied_by(entity)):
                    yield entity

    def _loaded(self, document: object) -> str | None:
        if document is not None and not isinstance(document, str):
            raise BackendContractError.of(
                self.store,
                "load",
                f"returned {type(document).__qualname__}, where the document's JSON text (a "
                "str) or None is due",
            )
        return document

    def _plan(self, spec: BaseSpecification[Any] | None) -> Pushdown:
        if spec is None:
            return _EVERYTHING
        if not isinstance(spec, BaseSpecification):
            raise ConfigurationError(
                f"find() and count() take a specification such as "
                f"AttributeSpecification('active', True), got {spec!r}"
            )
        # Every path is held to the entity's declared fields before the engine sees any.
        for comparison in comparisons(expression_of(spec)):
            check_declared_path(self.entity_type, comparison.path)
        return self.store.pushdown(spec)

    # -- life cycle -----------------------------------------------------------------------

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.store.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(
                f"this {type(self).__name__} was closed; open a new one to keep working"
            )

    def _check_instance(self, entity: object) -> None:
        if type(entity) is not self.entity_type:
            raise ConfigurationError(
                f"this repository stores {self.entity_type.__qualname__} entities, got "
                f"{type(entity).__qualname__}; open a repository for that class"
            )
        check_entity_id(getattr(entity, "id", None))

    @property
    def _name(self) -> str:
        return self.entity_type.__qualname__


def set_fields(entities: Iterable[Entity], values: dict[str, Any]) -> None:
    """Give each of *entities* the field *values* a stored write gave its document."""
    for entity in entities:
        for name, value in values.items():
            setattr(entity, name, value)


__all__ = ["DocumentRepository", "set_fields"]
