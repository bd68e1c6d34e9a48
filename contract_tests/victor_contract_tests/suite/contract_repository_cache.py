"""``CachedRepository`` over the backend's repository: read-through, invalidation, TTL, bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
import pytest_asyncio

from victor_contract_tests.plugin import OpenRepository, requires
from victor_contract_tests.suite.sample_entities import Ledger, Member, members
from victor_core import AttributeSpecification, CachedRepository, Repository
from victor_core.backend import (
    BaseSpecification,
    Capability,
    ConfigurationError,
    EntityNotFound,
    OrderBy,
    StaleEntity,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.REPOSITORY)]


class Spy(Repository[Member]):
    """Passes everything to the backend's repository, counting ``get`` calls.

    While ``gate`` is cleared, ``get`` waits for it after reading, so tests can make loads
    overlap each other and writes.
    """

    def __init__(self, base: Repository[Member]) -> None:
        self.base = base
        self.entity_type = base.entity_type
        self.gets: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.failure: Exception | None = None

    async def get(self, entity_id: str) -> Member | None:
        self.gets.append(entity_id)
        found = await self.base.get(entity_id)
        await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        return found

    async def add(self, entity: Member) -> None:
        await self.base.add(entity)

    async def add_many(self, entities: Iterable[Member]) -> None:
        await self.base.add_many(entities)

    async def update(self, entity: Member) -> None:
        await self.base.update(entity)

    async def delete(self, entity_id: str) -> None:
        await self.base.delete(entity_id)

    async def find(
        self,
        spec: BaseSpecification[Any] | None = None,
        *,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Member]:
        return await self.base.find(spec, order_by=order_by, limit=limit, offset=offset)

    async def count(self, spec: BaseSpecification[Any] | None = None) -> int:
        return await self.base.count(spec)

    def iterate(
        self, spec: BaseSpecification[Any] | None = None, *, page_size: int = 500
    ) -> AsyncIterator[Member]:
        return self.base.iterate(spec, page_size=page_size)

    async def close(self) -> None:
        await self.base.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def base(open_repository: OpenRepository) -> Repository[Member]:
    repo: Repository[Member] = await open_repository(Member)
    await repo.add_many(members())
    return repo


@pytest.fixture
def spy(base: Repository[Member]) -> Spy:
    return Spy(base)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(spy: Spy, clock: Clock) -> CachedRepository[Member]:
    return CachedRepository(spy, ttl=300, clock=clock)


async def test_get_reads_through_once_then_from_the_cache(
    cache: CachedRepository[Member], spy: Spy
) -> None:
    first = await cache.get("m1")
    second = await cache.get("m1")

    assert first is not None
    assert first == second
    assert first is not second
    assert spy.gets == ["m1"]
    info = cache.cache_info()
    assert (info.hits, info.misses, info.size) == (1, 1, 1)


async def test_callers_get_copies_they_can_change(
    cache: CachedRepository[Member], spy: Spy
) -> None:
    mine = await cache.get("m1")
    assert mine is not None
    mine.name = "Changed"
    mine.tags.append("mine")

    again = await cache.get("m1")

    assert again is not None
    assert again.name == "Alice"
    assert again.tags == ["admin", "vip"]
    assert spy.gets == ["m1"]


async def test_entries_expire_after_ttl(
    cache: CachedRepository[Member], spy: Spy, base: Repository[Member], clock: Clock
) -> None:
    await cache.get("m1")
    changed = await base.get("m1")
    assert changed is not None
    changed.name = "Behind the cache's back"
    await base.update(changed)

    clock.now += 299
    assert (await cache.get("m1")).name == "Alice"  # type: ignore[union-attr]
    clock.now += 1
    assert (await cache.get("m1")).name == "Behind the cache's back"  # type: ignore[union-attr]
    assert spy.gets == ["m1", "m1"]


async def test_writes_through_the_cache_invalidate_what_they_touch(
    cache: CachedRepository[Member], spy: Spy
) -> None:
    alice = await cache.get("m1")
    await cache.get("m2")
    assert alice is not None

    alice.name = "Alicia"
    await cache.update(alice)
    await cache.delete("m2")
    await cache.add(Member(id="m9", name="Nina"))

    assert (await cache.get("m1")).name == "Alicia"  # type: ignore[union-attr]
    assert await cache.get("m2") is None
    assert (await cache.get("m9")).name == "Nina"  # type: ignore[union-attr]
    assert spy.gets == ["m1", "m2", "m1", "m2", "m9"]


async def test_a_failed_write_still_invalidates_and_raises(
    open_repository: OpenRepository,
) -> None:
    ledgers: Repository[Ledger] = await open_repository(Ledger)
    cached = CachedRepository(ledgers, ttl=None)
    await cached.add(Ledger(id="l", owner="ann"))
    stale = await cached.get("l")
    fresh = await cached.get("l")
    assert stale is not None
    assert fresh is not None
    fresh.total = 5
    await cached.update(fresh)

    stale.total = 7
    with pytest.raises(StaleEntity):
        await cached.update(stale)
    with pytest.raises(EntityNotFound):
        await cached.delete("nobody")

    stored = await cached.get("l")
    assert stored is not None
    assert (stored.total, stored.version) == (5, 2)


async def test_absence_is_not_cached(
    cache: CachedRepository[Member], base: Repository[Member], spy: Spy
) -> None:
    assert await cache.get("later") is None

    await base.add(Member(id="later"))

    assert await cache.get("later") is not None
    assert spy.gets == ["later", "later"]


async def test_the_cache_is_bounded_and_drops_the_least_recently_read(
    spy: Spy, clock: Clock
) -> None:
    cache = CachedRepository(spy, ttl=300, max_size=2, clock=clock)
    await cache.get("m1")
    await cache.get("m2")
    await cache.get("m1")  # m2 is now the least recently read
    await cache.get("m3")

    await cache.get("m1")
    await cache.get("m3")
    await cache.get("m2")

    assert spy.gets == ["m1", "m2", "m3", "m2"]
    assert cache.cache_info().size == 2


async def test_concurrent_misses_on_one_id_cost_one_backend_call(
    cache: CachedRepository[Member], spy: Spy
) -> None:
    spy.gate.clear()
    waiting = [asyncio.ensure_future(cache.get("m3")) for _ in range(10)]
    await asyncio.sleep(0)
    spy.gate.set()

    results = await asyncio.gather(*waiting)

    assert spy.gets == ["m3"]
    assert all(r is not None and r.name == "Carol" for r in results)
    assert len({id(r) for r in results}) == 10


async def test_one_waiter_giving_up_does_not_cancel_the_others(
    cache: CachedRepository[Member], spy: Spy
) -> None:
    spy.gate.clear()
    quitter = asyncio.ensure_future(cache.get("m3"))
    stayer = asyncio.ensure_future(cache.get("m3"))
    await asyncio.sleep(0)
    quitter.cancel()
    spy.gate.set()

    found = await stayer

    assert found is not None
    assert found.name == "Carol"
    assert quitter.cancelled()
    assert spy.gets == ["m3"]


async def test_a_failing_load_reaches_every_waiter_and_is_not_cached(
    cache: CachedRepository[Member], spy: Spy
) -> None:
    spy.gate.clear()
    spy.failure = RuntimeError("backend down")
    waiting = [asyncio.ensure_future(cache.get("m1")) for _ in range(3)]
    await asyncio.sleep(0)
    spy.gate.set()

    outcomes = await asyncio.gather(*waiting, return_exceptions=True)

    assert all(isinstance(o, RuntimeError) for o in outcomes)
    spy.failure = None
    assert await cache.get("m1") is not None
    assert spy.gets == ["m1", "m1"]


async def test_a_load_racing_a_write_does_not_cache_the_old_state(
    cache: CachedRepository[Member], spy: Spy
) -> None:
    spy.gate.clear()
    early = asyncio.ensure_future(cache.get("m1"))
    await asyncio.sleep(0)  # the load has read the old state and waits
    alice = await spy.base.get("m1")
    assert alice is not None
    alice.name = "Written meanwhile"
    await cache.update(alice)
    spy.gate.set()
    await early

    after = await cache.get("m1")

    assert after is not None
    assert after.name == "Written meanwhile"


async def test_queries_go_to_the_base_repository(cache: CachedRepository[Member]) -> None:
    active = AttributeSpecification("active", True)

    assert [m.id for m in await cache.find(active, order_by="age", limit=2)] == ["m7", "m1"]
    assert await cache.count(active) == 6
    assert await cache.exists("m8")
    assert len([m async for m in cache.iterate(page_size=3)]) == 8


async def test_ttl_and_size_are_checked(base: Repository[Member]) -> None:
    bad_settings: list[dict[str, Any]] = [{"ttl": -1}, {"ttl": "300"}, {"max_size": -1}]
    for bad in bad_settings:
        with pytest.raises(ConfigurationError):
            CachedRepository(base, **bad)
    with pytest.raises(ConfigurationError):
        CachedRepository({}, ttl=1)  # type: ignore[arg-type]


async def test_writing_what_is_not_an_entity_is_refused_as_by_the_base(
    cache: CachedRepository[Member], base: Repository[Member]
) -> None:
    for write in (cache.add, cache.update):
        with pytest.raises(ConfigurationError, match="stores Member entities"):
            await write({"id": "m1", "name": "not an entity"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="stores Member entities"):
        await cache.add_many([Member(id="fresh"), "m9"])  # type: ignore[list-item]

    assert await base.count() == 8
    assert not await base.exists("fresh")
