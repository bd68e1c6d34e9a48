"""Retry commands whose failure is known to be temporary."""

from __future__ import annotations

import asyncio
import random as _random
from collections.abc import Awaitable, Callable

from victor_core.cqrs.errors import TransientError
from victor_core.cqrs.messages import Command, CommandResult
from victor_core.cqrs.middleware.chain import NextCommand
from victor_core.errors import ConfigurationError

#: What is retried unless told otherwise: failures that say they are worth another try.
DEFAULT_TRANSIENT: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
)


class RetryCommandMiddleware:
    """Runs a command again when its handler raises a transient error.

    *max* is the number of retries after the first attempt, so ``max=3`` runs the handler
    at most four times. Only exceptions in *retry_on* are retried; any other propagates at
    once, and when the retries run out the last error propagates, noting how many attempts
    were made. Retry only handlers that are safe to run twice (idempotent), or that fail
    before changing anything.

    Between attempts it waits with exponential backoff and full jitter: a random delay up
    to ``base_delay * 2**retry`` seconds, capped at *max_delay*, so that clients failing
    together do not retry together. *sleep* and *random* are injectable for tests.
    """

    def __init__(
        self,
        max: int = 3,
        *,
        retry_on: tuple[type[BaseException], ...] = DEFAULT_TRANSIENT,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if max < 0:
            raise ConfigurationError(
                f"RetryCommandMiddleware(max={max}) cannot work: max is the number of "
                "retries after the first attempt, 0 or more"
            )
        if base_delay < 0 or max_delay < 0:
            raise ConfigurationError(
                f"RetryCommandMiddleware delays must not be negative (base_delay="
                f"{base_delay}, max_delay={max_delay})"
            )
        self.max = max
        self.retry_on = retry_on
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._random = random

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number *retry* (0 for the first retry)."""
        cap = min(self.max_delay, self.base_delay * 2.0**retry)
        return cap * self._random()

    async def __call__(self, message: Command, next: NextCommand) -> CommandResult:
        retry = 0
        while True:
            try:
                return await next(message)
            except self.retry_on as exc:
                if retry >= self.max:
                    exc.add_note(
                        f"{type(message).__qualname__} {getattr(message, 'id', '')} failed "
                        f"{retry + 1} time(s); RetryCommandMiddleware(max={self.max}) gave up"
                    )
                    raise
                await self._sleep(self.delay(retry))
                retry += 1
