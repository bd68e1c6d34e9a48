from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from victor_core import (
    Command,
    CommandResult,
    ConfigurationError,
    Mediator,
    RetryCommandMiddleware,
    TransientError,
)


@dataclass
class Charge(Command):
    amount: int = 0


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def flaky(
    failures: list[BaseException],
) -> tuple[list[int], Callable[[Charge], Awaitable[CommandResult]]]:
    """A handler raising *failures* one by one, then succeeding; and its call count."""
    attempts = [0]

    async def handler(command: Charge) -> CommandResult:
        attempts[0] += 1
        if failures:
            raise failures.pop(0)
        return CommandResult(success=True, data=attempts[0])

    return attempts, handler


def retrying(mediator: Mediator, **options: object) -> Sleeps:
    sleeps = Sleeps()
    mediator.command_bus.use(
        RetryCommandMiddleware(sleep=sleeps, random=lambda: 1.0, **options)  # type: ignore[arg-type]
    )
    return sleeps


@pytest.mark.asyncio
async def test_transient_errors_are_retried_until_the_command_succeeds(mediator: Mediator) -> None:
    sleeps = retrying(mediator)
    attempts, handler = flaky([TransientError("busy"), ConnectionError(), TimeoutError()])
    mediator.register_command(Charge, handler)
    result = await mediator.send(Charge())
    assert result == CommandResult(success=True, data=4)
    assert attempts == [4]
    assert len(sleeps.delays) == 3


@pytest.mark.asyncio
async def test_other_errors_are_not_retried(mediator: Mediator) -> None:
    sleeps = retrying(mediator)
    attempts, handler = flaky([ValueError("bad amount")])
    mediator.register_command(Charge, handler)
    with pytest.raises(ValueError, match="bad amount"):
        await mediator.send(Charge())
    assert attempts == [1]
    assert sleeps.delays == []


@pytest.mark.asyncio
async def test_the_last_error_is_raised_when_retries_run_out(mediator: Mediator) -> None:
    retrying(mediator, max=2)
    last = TransientError("third")
    attempts, handler = flaky([TransientError("first"), TransientError("second"), last])
    mediator.register_command(Charge, handler)
    with pytest.raises(TransientError) as caught:
        await mediator.send(Charge())
    assert caught.value is last
    assert attempts == [3]
    assert any("failed 3 time(s)" in note for note in caught.value.__notes__)


@pytest.mark.asyncio
async def test_an_unsuccessful_result_is_not_retried(mediator: Mediator) -> None:
    retrying(mediator)
    attempts = [0]

    async def handler(command: Charge) -> CommandResult:
        attempts[0] += 1
        return CommandResult(success=False, error="card declined")

    mediator.register_command(Charge, handler)
    assert (await mediator.send(Charge())).error == "card declined"
    assert attempts == [1]


@pytest.mark.asyncio
async def test_retry_on_chooses_what_is_transient(mediator: Mediator) -> None:
    class Deadlock(Exception):
        pass

    retrying(mediator, retry_on=(Deadlock,))
    attempts, handler = flaky([Deadlock(), ConnectionError()])
    mediator.register_command(Charge, handler)
    with pytest.raises(ConnectionError):
        await mediator.send(Charge())
    assert attempts == [2]


@pytest.mark.asyncio
async def test_backoff_doubles_up_to_the_cap(mediator: Mediator) -> None:
    sleeps = retrying(mediator, max=5, base_delay=0.1, max_delay=0.5)
    _, handler = flaky([TransientError()] * 5)
    mediator.register_command(Charge, handler)
    await mediator.send(Charge())
    assert sleeps.delays == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


def test_jitter_scales_the_delay_by_the_random_draw() -> None:
    middleware = RetryCommandMiddleware(base_delay=1.0, max_delay=10.0, random=lambda: 0.25)
    assert [middleware.delay(n) for n in range(3)] == [0.25, 0.5, 1.0]


@pytest.mark.asyncio
async def test_max_zero_means_a_single_attempt(mediator: Mediator) -> None:
    retrying(mediator, max=0)
    attempts, handler = flaky([TransientError()])
    mediator.register_command(Charge, handler)
    with pytest.raises(TransientError):
        await mediator.send(Charge())
    assert attempts == [1]


@pytest.mark.parametrize("options", [{"max": -1}, {"base_delay": -0.1}, {"max_delay": -1.0}])
def test_impossible_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match="RetryCommandMiddleware"):
        RetryCommandMiddleware(**options)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_retries_go_through_the_middleware_inside_it(mediator: Mediator) -> None:
    # Middleware added after the retry middleware runs on every attempt.
    seen: list[int] = []

    async def count(
        message: Command, next: Callable[[Command], Awaitable[CommandResult]]
    ) -> CommandResult:
        seen.append(1)
        return await next(message)

    retrying(mediator)
    mediator.command_bus.use(count)
    _, handler = flaky([TransientError()])
    mediator.register_command(Charge, handler)
    await mediator.send(Charge())
    assert len(seen) == 2


def test_delays_stay_within_the_cap_however_many_retries() -> None:
    capped = RetryCommandMiddleware(max=10_000, base_delay=0.05, max_delay=2.0, random=lambda: 1.0)
    instant = RetryCommandMiddleware(max=10_000, base_delay=0.0, random=lambda: 1.0)

    assert [capped.delay(n) for n in (10, 1023, 1024, 9_999)] == [2.0] * 4
    assert instant.delay(9_999) == 0.0


@pytest.mark.asyncio
@pytest.mark.parametrize("retry_on", [[ConnectionError], ConnectionError, (ConnectionError,)])
async def test_retry_on_takes_an_exception_class_or_a_collection_of_them(
    mediator: Mediator, retry_on: object
) -> None:
    retrying(mediator, retry_on=retry_on)
    attempts, handler = flaky([ConnectionResetError()])
    mediator.register_command(Charge, handler)

    assert (await mediator.send(Charge())).success
    assert attempts == [2]


@pytest.mark.parametrize(
    "options",
    [
        {"retry_on": ["TimeoutError"]},
        {"retry_on": "TimeoutError"},
        {"retry_on": [TimeoutError, 3]},
        {"max": 2.5},
        {"max": "3"},
        {"base_delay": float("nan")},
    ],
    ids=repr,
)
def test_nonsense_settings_are_refused_when_made_not_when_a_command_fails(
    options: dict[str, object],
) -> None:
    with pytest.raises(ConfigurationError, match="RetryCommandMiddleware"):
        RetryCommandMiddleware(**options)  # type: ignore[arg-type]
