"""Cache query results by the query's value."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from victor_core.cqrs.messages import Query, QueryResult
from victor_core.cqrs.middleware._values import message_values
from victor_core.cqrs.middleware.chain import NextQuery
from victor_core.errors import ConfigurationError


class _UncacheableError(Exception):
    pass


_SCALARS = frozenset({str, int, float, bool, type(None), bytes, complex})


def _frozen(value: Any) -> Hashable:
    # The value's type is part of the key, so that 1, 1.0 and True are different questions.
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if isinstance(value, Mapping):
        return (kind, frozenset((_frozen(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (kind, tuple(_frozen(item) for item in value))
    if isinstance(value, set | frozenset):
        return (kind, frozenset(_frozen(item) for item in value))
    try:
        hash(value)
    except TypeError:
        values = message_values(value)
        if values is None:
            raise _UncacheableError from None
        return (kind, tuple((name, _frozen(item)) for name, item in values))
    return (kind, value)


def cache_key(query: Query[Any]) -> tuple[type, Hashable] | None:
    """The query's type and field values, as a hashable key; None if it has none."""
    values = message_values(query)
    if values is None:
        return None
    try:
        return (type(query), tuple((name, _frozen(value)) for name, value in values))
    except _UncacheableError:
        return None


class CachingQueryMiddleware:
    """Answers a query from a cache of earlier successful results for an equal query.

    Equal means the same query class with equal field values; list, dict and set values are
    compared by content. A result is kept for *ttl* seconds (``None``: until invalidated),
    at most *max_size* results are kept, the least recently used going first, and failures
    (an exception, or ``success=False``) are never kept. *clock* is injectable for tests.

    Cached results are shared, not copied: treat ``result.data`` as read-only. After a
    command changes what a query reads, call :meth:`invalidate` with the query type (or one
    query) so that the next read sees the change.
    """

    def __init__(
        self,
        ttl: float | None = 60,
        *,
        max_size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl is not None and ttl <= 0:
            raise ConfigurationError(
                f"CachingQueryMiddleware(ttl={ttl}) would never keep a result; give a "
                "positive number of seconds, or ttl=None to keep results until invalidated"
            )
        if max_size < 1:
            raise ConfigurationError(
                f"CachingQueryMiddleware(max_size={max_size}) cannot keep anything; give 1 or more"
            )
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[type, Hashable], tuple[float, QueryResult[Any]]] = (
            OrderedDict()
        )
        # Handler calls under way, by key; an invalidation drops theirs, so that a result
        # read before the change it invalidates for is not kept.
        self._loading: dict[tuple[type, Hashable], set[object]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def __call__(self, message: Query[Any], next: NextQuery) -> QueryResult[Any]:
        key = cache_key(message)
        if key is None:
            return await next(message)
        now = self._clock()
        load = object()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                if entry[0] > now:
                    self._entries.move_to_end(key)
                    return entry[1]
                del self._entries[key]
            self._loading.setdefault(key, set()).add(load)
        try:
            result = await next(message)
        except BaseException:
            with self._lock:
                self._finish(key, load)
            raise
        with self._lock:
            if self._finish(key, load) and getattr(result, "success", False):
                expires = float("inf") if self.ttl is None else self._clock() + self.ttl
                self._entries[key] = (expires, result)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_size:
                    self._entries.popitem(last=False)
        return result

    def _finish(self, key: tuple[type, Hashable], load: object) -> bool:
        """Forget the handler call *load*; False when an invalidation came since it began."""
        loads = self._loading.get(key)
        if loads is None or load not in loads:
            return False
        loads.discard(load)
        if not loads:
            del self._loading[key]
        return True

    def invalidate(self, target: type[Query[Any]] | Query[Any] | None = None) -> int:
        """Forget cached results, and say how many were dropped.

        ``invalidate(GetUserQuery)`` drops every result of that query class (and of its
        subclasses), ``invalidate(GetUserQuery(user_id="1"))`` the result of that one query,
        and ``invalidate()`` everything. Results of those queries whose handlers are still
        running will not be kept either: they may have read the state before the change.
        """
        with self._lock:
            doomed = self._matching(self._entries, target)
            for key in doomed:
                del self._entries[key]
            for key in self._matching(self._loading, target):
                del self._loading[key]
            return len(doomed)

    @staticmethod
    def _matching(
        keyed: Mapping[tuple[type, Hashable], object], target: type[Query[Any]] | Query[Any] | None
    ) -> list[tuple[type, Hashable]]:
        if target is None:
            return list(keyed)
        if isinstance(target, type):
            return [k for k in keyed if issubclass(k[0], target)]
        one = cache_key(target)
        return [one] if one is not None and one in keyed else []
