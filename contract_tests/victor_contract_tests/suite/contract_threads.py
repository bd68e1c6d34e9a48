"""Beyond one event loop: a store shared by threads, or a clear refusal to be shared.

A backend that declares ``threads`` lets one store object serve several threads at once,
each running its own event loop (a web server's worker threads, a thread pool), and then
appends from all of them never interleave and racing appends have one winner per version.
A backend that does not declare it must refuse such use at once with
:class:`~victor_core.backend.WrongEventLoop`, and leave storage as it was, rather than fail
somewhere deep in its driver or store something wrong.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.processes import BatchEvent, Tally, batch_events
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import Backend, EventStore
from victor_core.backend import Capability, ConcurrencyError, ContractInstance, WrongEventLoop

pytestmark = [pytest.mark.asyncio]

THREADS = 4
BATCHES = 15
T = TypeVar("T")


def in_threads(work: Callable[[int], Awaitable[T]], count: int = THREADS) -> list[T]:
    """Run ``work(n)`` in *count* threads at once, each in an event loop of its own."""
    results: dict[int, T] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(number: int) -> None:
        async def started() -> T:
            start.wait()
            return await work(number)

        try:
            results[number] = asyncio.run(started())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [results[n] for n in range(count)]


def provides_threads(backend: Backend, instance: ContractInstance) -> bool:
    declared = backend.info.capabilities if instance.capabilities is None else instance.capabilities
    return Capability.THREADS in declared


@requires(Capability.EVENT_STORE, Capability.THREADS)
async def test_appends_from_several_threads_to_one_store_never_interleave(
    event_store: EventStore,
) -> None:
    async def append_batches(number: int) -> None:
        for batch in range(BATCHES):
            await event_store.append("shared", batch_events(f"t{number}", batch))
            await event_store.append(f"own-{number}", Deposited(amount=batch))

    await asyncio.to_thread(in_threads, append_batches)

    shared = await event_store.read_stream("shared")
    assert [r.version for r in shared] == list(range(1, len(shared) + 1))
    runs: list[tuple[str, int]] = []
    for recorded in shared:
        event = recorded.event
        assert isinstance(event, BatchEvent)
        if event.index == 0:
            runs.append((event.writer, event.batch))
        assert runs[-1] == (event.writer, event.batch), (
            f"appends from several threads must not interleave: an event of batch {event.batch} "
            f"of {event.writer} lies inside batch {runs[-1][1]} of {runs[-1][0]}"
        )
    assert sorted(runs) == sorted((f"t{n}", b) for n in range(THREADS) for b in range(BATCHES))
    for number in range(THREADS):
        assert await event_store.stream_version(f"own-{number}") == BATCHES
    positions = [r.position async for r in event_store.read_all()]
    assert positions == sorted(set(positions)), "positions stay unique and increasing"


@requires(Capability.EVENT_STORE, Capability.THREADS)
async def test_threads_racing_on_one_stream_of_one_store_have_one_winner_per_version(
    event_store: EventStore,
) -> None:
    async def win(number: int) -> list[int]:
        won: list[int] = []
        while len(won) < BATCHES:
            version = await event_store.stream_version("hot")
            try:
                await event_store.append("hot", Deposited(amount=number), expected_version=version)
            except ConcurrencyError:
                continue
            won.append(version + 1)
        return won

    wins = await asyncio.to_thread(in_threads, win)

    claimed = sorted(version for won in wins for version in won)
    assert claimed == list(range(1, THREADS * BATCHES + 1)), "one winner per version"
    assert await event_store.stream_version("hot") == THREADS * BATCHES


async def test_a_store_used_from_another_event_loop_is_refused_and_nothing_is_written(
    victor_backend: Backend, contract_instance: ContractInstance, open_event_store: OpenEventStore
) -> None:
    if provides_threads(victor_backend, contract_instance):
        pytest.skip(f"backend {victor_backend.name!r} declares 'threads'")
    if not victor_backend.info.supports(Capability.EVENT_STORE):
        pytest.skip(f"backend {victor_backend.name!r} does not declare 'event_store'")
    store = await open_event_store()
    await store.append("acct", Deposited(amount=1))

    async def append_elsewhere(number: int) -> str:
        with pytest.raises(WrongEventLoop) as refused:
            await store.append("acct", Deposited(amount=2))
        with pytest.raises(WrongEventLoop):
            await store.read_stream("acct")
        return str(refused.value)

    [message] = await asyncio.to_thread(in_threads, append_elsewhere, 1)

    assert "threads" in message, "the refusal says which capability is missing"
    assert [r.event.amount for r in await store.read_stream("acct")] == [1]  # type: ignore[attr-defined]
    await store.append("acct", Deposited(amount=3))  # still fine on its own loop
    assert await store.stream_version("acct") == 2


async def test_a_repository_used_from_another_event_loop_is_refused_and_nothing_is_written(
    victor_backend: Backend, contract_instance: ContractInstance, open_repository: OpenRepository
) -> None:
    if provides_threads(victor_backend, contract_instance):
        pytest.skip(f"backend {victor_backend.name!r} declares 'threads'")
    if not victor_backend.info.supports(Capability.REPOSITORY):
        pytest.skip(f"backend {victor_backend.name!r} does not declare 'repository'")
    repo = await open_repository(Tally)
    await repo.add(Tally(id="t1", total=1))

    async def use_elsewhere(number: int) -> None:
        with pytest.raises(WrongEventLoop):
            await repo.add(Tally(id="t2"))
        with pytest.raises(WrongEventLoop):
            await repo.get("t1")

    await asyncio.to_thread(in_threads, use_elsewhere, 1)

    assert [(t.id, t.total) for t in await repo.find()] == [("t1", 1)]
