from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from victor_core import CachingQueryMiddleware, ConfigurationError, Mediator, Query, QueryResult
from victor_core.cqrs.middleware.caching import cache_key


@dataclass
class GetUser(Query[str]):
    user_id: object = ""


@dataclass
class GetProfile(Query[str]):
    user_id: object = ""


@dataclass
class Search(Query[list[str]]):
    terms: list[str] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)


@attrs.define
class CountUsers(Query[int]):
    active: bool = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """A query handler that answers with how many times it was called."""

    def __init__(self, success: bool = True) -> None:
        self.calls = 0
        self.success = success

    async def handle(self, query: Query[Any]) -> QueryResult[Any]:
        self.calls += 1
        if self.success:
            return QueryResult(success=True, data=self.calls)
        return QueryResult(success=False, error="not found")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> CachingQueryMiddleware:
    return CachingQueryMiddleware(ttl=60, max_size=3, clock=clock)


@pytest.fixture
def handler(mediator: Mediator, cache: CachingQueryMiddleware) -> Counting:
    handler = Counting()
    mediator.query_bus.use(cache)
    for query_type in (GetUser, GetProfile, Search, CountUsers):
        mediator.register_query(query_type, handler)
    return handler


@pytest.mark.asyncio
async def test_an_equal_query_is_answered_from_the_cache(
    mediator: Mediator, handler: Counting
) -> None:
    first = await mediator.send(GetUser(user_id="1"))
    again = await mediator.send(GetUser(user_id="1"))
    assert first is again
    assert handler.calls == 1


@pytest.mark.asyncio
async def test_different_values_or_types_are_different_questions(
    mediator: Mediator, handler: Counting
) -> None:
    await mediator.send(GetUser(user_id="1"))
    await mediator.send(GetUser(user_id="2"))
    await mediator.send(GetProfile(user_id="1"))
    await mediator.send(GetUser(user_id=1))
    assert handler.calls == 4


@pytest.mark.asyncio
async def test_true_and_one_are_not_the_same_question(
    mediator: Mediator, handler: Counting
) -> None:
    await mediator.send(GetUser(user_id=1))
    await mediator.send(GetUser(user_id=True))
    await mediator.send(GetUser(user_id=1.0))
    assert handler.calls == 3


@pytest.mark.asyncio
async def test_unhashable_field_values_are_compared_by_content(
    mediator: Mediator, handler: Counting
) -> None:
    query = Search(terms=["a", "b"], filters={"age": [1, 2], "x": {"y": 1}}, tags={"t"})
    await mediator.send(query)
    await mediator.send(copy.deepcopy(query))
    assert handler.calls == 1
    await mediator.send(Search(terms=["b", "a"], filters=query.filters, tags={"t"}))
    assert handler.calls == 2


@pytest.mark.asyncio
async def test_a_value_without_known_fields_is_not_cached(
    mediator: Mediator, handler: Counting
) -> None:
    class Opaque:
        __slots__ = ()
        __hash__ = None  # type: ignore[assignment]

    await mediator.send(GetUser(user_id=Opaque()))
    await mediator.send(GetUser(user_id=Opaque()))
    assert handler.calls == 2


@pytest.mark.asyncio
async def test_results_expire_after_ttl(
    mediator: Mediator, handler: Counting, clock: Clock
) -> None:
    await mediator.send(CountUsers())
    clock.now += 59.9
    await mediator.send(CountUsers())
    assert handler.calls == 1
    clock.now += 0.2
    assert (await mediator.send(CountUsers())).data == 2


@pytest.mark.asyncio
async def test_the_least_recently_used_result_goes_first(
    mediator: Mediator, handler: Counting, cache: CachingQueryMiddleware
) -> None:
    for user_id in ("a", "b", "c"):
        await mediator.send(GetUser(user_id=user_id))
    await mediator.send(GetUser(user_id="a"))  # a is now the most recently used
    await mediator.send(GetUser(user_id="d"))  # evicts b
    assert len(cache) == 3
    assert handler.calls == 4
    await mediator.send(GetUser(user_id="a"))
    await mediator.send(GetUser(user_id="c"))
    assert handler.calls == 4
    await mediator.send(GetUser(user_id="b"))
    assert handler.calls == 5


@pytest.mark.asyncio
async def test_invalidate_by_type_by_query_and_everything(
    mediator: Mediator, handler: Counting, cache: CachingQueryMiddleware
) -> None:
    await mediator.send(GetUser(user_id="1"))
    await mediator.send(GetUser(user_id="2"))
    await mediator.send(GetProfile(user_id="1"))
    assert cache.invalidate(GetUser(user_id="1")) == 1
    await mediator.send(GetUser(user_id="2"))
    assert handler.calls == 3
    assert cache.invalidate(GetUser) == 1
    await mediator.send(GetProfile(user_id="1"))
    assert handler.calls == 3
    assert cache.invalidate() == 1
    await mediator.send(GetProfile(user_id="1"))
    assert handler.calls == 4


@pytest.mark.asyncio
async def test_unsuccessful_results_are_not_cached(
    mediator: Mediator, cache: CachingQueryMiddleware
) -> None:
    failing = Counting(success=False)
    mediator.query_bus.use(cache)
    mediator.register_query(GetUser, failing)
    await mediator.send(GetUser())
    await mediator.send(GetUser())
    assert failing.calls == 2
    assert len(cache) == 0


@pytest.mark.asyncio
async def test_exceptions_are_not_cached(mediator: Mediator, cache: CachingQueryMiddleware) -> None:
    calls = [0]

    async def flaky(query: GetUser) -> QueryResult[str]:
        calls[0] += 1
        if calls[0] == 1:
            raise ConnectionError("down")
        return QueryResult(success=True, data="up")

    mediator.query_bus.use(cache)
    mediator.register_query(GetUser, flaky)
    with pytest.raises(ConnectionError):
        await mediator.send(GetUser())
    assert (await mediator.send(GetUser())).data == "up"
    assert (await mediator.send(GetUser())).data == "up"
    assert calls == [2]


@pytest.mark.asyncio
async def test_ttl_none_keeps_results_until_invalidated(mediator: Mediator, clock: Clock) -> None:
    handler = Counting()
    mediator.query_bus.use(CachingQueryMiddleware(ttl=None, clock=clock))
    mediator.register_query(CountUsers, handler)
    await mediator.send(CountUsers())
    clock.now += 10**9
    await mediator.send(CountUsers())
    assert handler.calls == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "invalidation",
    [lambda: GetUser, lambda: GetUser(user_id="1"), lambda: None],
    ids=["by type", "one query", "everything"],
)
async def test_a_result_read_before_an_invalidation_is_not_kept(
    mediator: Mediator, cache: CachingQueryMiddleware, invalidation: Any
) -> None:
    names = {"1": "Ann"}
    read, release = asyncio.Event(), asyncio.Event()

    async def get_name(query: GetUser) -> QueryResult[str]:
        name = names[str(query.user_id)]
        read.set()
        await release.wait()  # a slow reply: the state changes while it is on its way
        return QueryResult(success=True, data=name)

    mediator.query_bus.use(cache)
    mediator.register_query(GetUser, get_name)
    slow = asyncio.ensure_future(mediator.send(GetUser(user_id="1")))
    await read.wait()
    names["1"] = "Anna"  # a command changes the name...
    cache.invalidate(invalidation())  # ...and invalidates what queries read
    release.set()
    assert (await slow).data == "Ann"  # this caller asked before the change

    assert (await mediator.send(GetUser(user_id="1"))).data == "Anna"
    assert (await mediator.send(GetUser(user_id="1"))).data == "Anna"


@pytest.mark.parametrize("options", [{"ttl": 0}, {"ttl": -1}, {"max_size": 0}])
def test_impossible_settings_are_refused(options: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError, match="CachingQueryMiddleware"):
        CachingQueryMiddleware(**options)  # type: ignore[arg-type]


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(json_like, json_like)
def test_cache_keys_are_equal_exactly_when_the_queries_are(a: object, b: object) -> None:
    key_a = cache_key(GetUser(user_id=a))
    assert key_a == cache_key(GetUser(user_id=copy.deepcopy(a)))
    if key_a == cache_key(GetUser(user_id=b)):
        assert GetUser(user_id=a) == GetUser(user_id=b)
