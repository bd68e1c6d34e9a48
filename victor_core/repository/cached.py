"""``CachedRepository``: a read-through cache of ``get`` in front of any repository."""

from __future__ import annotations

import asyncio
import copy
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import attrs

from victor_core.errors import ConfigurationError
from victor_core.repository.entity import Entity
from victor_core.repository.repository import (
    DEFAULT_PAGE_SIZE,
    OrderBy,
    Repository,
    check_count,
    check_entity_id,
)
from victor_core.repository.specification import BaseSpecification

E = TypeVar("E", bound=Entity)

#: How many entities a cache holds unless told otherwise.
DEFAULT_MAX_SIZE = 10_000


@attrs.frozen
class CacheInfo:
    """How a :class:`CachedRepository` has been doing."""

    hits: int
    misses: int
    size: int
    max_size: int


@attrs.define
class _Entry(Generic[E]):
    entity: E
    expires_at: float


class CachedRepository(Repository[E]):
    """Caches what ``get`` returns from *base* for *ttl* seconds (``None``: until evicted).

    Every write made through the cache (``add``, ``add_many``, ``update``, ``delete``)
    invalidates the entities it touches, so reads through the cache see their own writes;
    writes made to *base* directly are seen once the entry expires. At most *max_size*
    entities are kept, the least recently read going first. Concurrent ``get`` calls that
    miss on one id share a single call to *base*. Every caller receives its own copy, which
    it may change freely. ``find``, ``count``, ``exists`` and ``iterate`` go to *base*.

    *clock* returns seconds (``time.monotonic`` by default); tests pass their own.
    Closing the cache closes *base*.
    """

    def __init__(
        self,
        base: Repository[E],
        ttl: float | None = 300,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(base, Repository):
            raise ConfigurationError(
                f"CachedRepository wraps a repository, got {type(base).__qualname__}"
            )
        if ttl is not None and (
            isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl >= 0
        ):
            raise ConfigurationError(f"ttl is a number of seconds >= 0 or None, got {ttl!r}")
        check_count("max_size", max_size, minimum=0)
        self.base = base
        self.entity_type = base.entity_type
        self.ttl = ttl
        self.max_size = max_size
        self.clock = clock
        self._entries: OrderedDict[str, _Entry[E]] = OrderedDict()
        self._loading: dict[str, asyncio.Task[E | None]] = {}
        self._hits = 0
        self._misses = 0

    # -- the cached read ------------------------------------------------------------------

    async def get(self, entity_id: str) -> E | None:
        check_entity_id(entity_id)
        entry = self._entries.get(entity_id)
        if entry is not None:
            if entry.expires_at > self.clock():
                self._entries.move_to_end(entity_id)
                self._hits += 1
                return copy.deepcopy(entry.entity)
            del self._entries[entity_id]
        loading = self._loading.get(entity_id)
        if loading is None:
            self._misses += 1
            loading = asyncio.ensure_future(self._load(entity_id))
            loading.add_done_callback(_retrieve_exception)
            self._loading[entity_id] = loading
        # Shielded: one caller giving up must not cancel the load the others wait for.
        entity = await asyncio.shield(loading)
        return None if entity is None else copy.deepcopy(entity)

    async def _load(self, entity_id: str) -> E | None:
        this = asyncio.current_task()
        try:
            entity = await self.base.get(entity_id)
        finally:
            # Still ours unless a write invalidated the id meanwhile: then it may be stale.
            current = self._loading.get(entity_id) is this
            if current:
                del self._loading[entity_id]
        if current and entity is not None:
            self._remember(entity_id, entity)
        return entity

    def _remember(self, entity_id: str, entity: E) -> None:
        if self.max_size == 0 or self.ttl == 0:
            return
        expires_at = math.inf if self.ttl is None else self.clock() + self.ttl
        self._entries[entity_id] = _Entry(entity, expires_at)
        self._entries.move_to_end(entity_id)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def invalidate(self, entity_id: str) -> None:
        """Forget what is cached for *entity_id* (and ignore a load in progress for it)."""
        self._entries.pop(entity_id, None)
        self._loading.pop(entity_id, None)

    def clear(self) -> None:
        """Forget everything cached."""
        self._entries.clear()
        self._loading.clear()

    def cache_info(self) -> CacheInfo:
        """Hits, misses and size so far."""
        return CacheInfo(self._hits, self._misses, len(self._entries), self.max_size)

    # -- writes, which invalidate -----------------------------------------------------------

    async def add(self, entity: E) -> None:
        await self._write(lambda: self.base.add(entity), [entity])

    async def add_many(self, entities: Iterable[E]) -> None:
        batch = list(entities)
        await self._write(lambda: self.base.add_many(batch), batch)

    async def update(self, entity: E) -> None:
        await self._write(lambda: self.base.update(entity), [entity])

    async def delete(self, entity_id: str) -> None:
        await self._write(lambda: self.base.delete(entity_id), [entity_id])

    async def _write(self, write: Callable[[], Awaitable[None]], touched: list[Any]) -> None:
        # Ids are read without trusting the input: the base refuses what is not an entity
        # of its class, with the error it gives everyone.
        entity_ids = [
            each if isinstance(each, str) else getattr(each, "id", None) for each in touched
        ]
        # Before: later reads must not join a load that started before the write. After:
        # a load that ran during the write may have read the old state.
        for entity_id in entity_ids:
            if isinstance(entity_id, str):
                self.invalidate(entity_id)
        try:
            await write()
        finally:
            for entity_id in entity_ids:
                if isinstance(entity_id, str):
                    self.invalidate(entity_id)

    # -- everything else goes to the base -------------------------------------------------

    async def find(
        self,
        spec: BaseSpecification[Any] | None = None,
        *,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[E]:
        return await self.base.find(spec, order_by=order_by, limit=limit, offset=offset)

    async def count(self, spec: BaseSpecification[Any] | None = None) -> int:
        return await self.base.count(spec)

    async def exists(self, entity_id: str) -> bool:
        return await self.base.exists(entity_id)

    def iterate(
        self, spec: BaseSpecification[Any] | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[E]:
        return self.base.iterate(spec, page_size=page_size)

    async def close(self) -> None:
        self.clear()
        await self.base.close()


def _retrieve_exception(task: asyncio.Task[Any]) -> None:
    # Every waiter may have gone; reading the exception keeps asyncio from logging it.
    if not task.cancelled():
        task.exception()
