"""Two small command middlewares of the tracker's own, beside the built-in ones.

:class:`InvalidateAfterWrite` keeps the query cache honest: a command that succeeded may
have changed what cached answers say, so they are dropped. :class:`SimulatedOutage` makes
the next few commands fail the way a busy database does, so that the demo can show
:class:`~victor_core.RetryCommandMiddleware` at work without a real outage.
"""

from __future__ import annotations

from typing import Any

from victor_core import CachingQueryMiddleware, Command, CommandResult, Query, TransientError
from victor_core.cqrs import NextCommand


class InvalidateAfterWrite:
    """After each successful command, forget the cached answers of *query_type*."""

    def __init__(self, cache: CachingQueryMiddleware, query_type: type[Query[Any]]) -> None:
        self.cache = cache
        self.query_type = query_type
        #: How many cached answers the last successful command invalidated.
        self.last_dropped = 0

    async def __call__(self, message: Command, next: NextCommand) -> CommandResult:
        result = await next(message)
        if result.success:
            self.last_dropped = self.cache.invalidate(self.query_type)
        return result


class SimulatedOutage:
    """Fails the next *n* commands with a :class:`~victor_core.TransientError`.

    It sits inside the retry middleware, just before the handler, and fails before the
    handler runs, so a failed attempt changes nothing: exactly the kind of failure that is
    safe to retry.
    """

    def __init__(self) -> None:
        self._remaining = 0
        #: Attempts this middleware turned away, in all.
        self.failures = 0

    def fail_next(self, attempts: int = 1) -> None:
        """Make the next *attempts* commands fail as if the storage were busy."""
        self._remaining = attempts

    async def __call__(self, message: Command, next: NextCommand) -> CommandResult:
        if self._remaining > 0:
            self._remaining -= 1
            self.failures += 1
            raise TransientError(
                f"the storage was busy and {type(message).__name__} was not run (simulated)"
            )
        return await next(message)
