"""Retry commands whose failure is known to be temporary."""

from __future__ import annotations

import asyncio
import random as _random
from collections.abc import Awaitable, Callable, Iterable

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


def _exception_classes(
    retry_on: type[BaseException] | Iterable[type[BaseException]],
) -> tuple[type[BaseException], ...]:
    """*retry_on* as the tuple ``except`` needs, checked now rather than at the first failure."""
    classes = (retry_on,) if isinstance(retry_on, type | str | bytes) else retry_on
    try:
        checked = tuple(classes)
    except TypeError:
        checked = (retry_on,)  # type: ignore[assignment]
    for each in checked:
        if not (isinstance(each, type) and issubclass(each, BaseException)):
            raise ConfigurationError(
                f"RetryCommandMiddleware(retry_on=...) takes exception classes, such as "
                f"retry_on=(ConnectionError, TimeoutError); got {each!r}"
            )
    return checked


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
        retry_on: type[BaseException] | Iterable[type[BaseException]] = DEFAULT_TRANSIENT,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if isinstance(max, bool) or not isinstance(max, int) or max < 0:
            raise ConfigurationError(
                f"RetryCommandMiddleware(max={max!r}) cannot work: max is the number of "
                "retries after the first attempt, an int of 0 or more"
            )
        if not (base_delay >= 0 and max_delay >= 0):  # NaN too
            raise ConfigurationError(
                f"RetryCommandMiddleware delays must be numbers of seconds, 0 or more "
                f"(base_delay={base_delay}, max_delay={max_delay})"
            )
        self.max = max
        self.retry_on = _exception_classes(retry_on)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._random = random

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number *retry* (0 for the first retry)."""
        # 2.0**1024 overflows; by then any positive base_delay is far past the cap anyway.
        cap = min(self.max_delay, self.base_delay * 2.0 ** min(retry, 1023))
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
