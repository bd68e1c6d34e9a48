"""Appends are idempotent by event id: a retried append never stores its events twice.

An append whose acknowledgement was lost (a timeout, a dropped connection) is retried by its
caller with the very same events. When they are the last events of the stream, in the same
order, with the same content, and the retry's expected version is met by the version the
stream had before them, the retry writes nothing and returns what the first attempt
returned. Any other append that reuses an event id of the stream is refused with
:class:`~victor_core.DuplicateEventId`, and nothing of it is written. Event ids are unique
per stream: the same event may be stored in another stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.sample_aggregates import Account
from victor_contract_tests.suite.sample_entities import Member
from victor_contract_tests.suite.sample_events import Deposited, Withdrawn
from victor_core import (
    AggregateRepository,
    Backend,
    DuplicateEventId,
    EventStore,
    TransientError,
    UnitOfWork,
)
from victor_core.backend import (
    AppendResult,
    Capability,
    ConcurrencyError,
    ContractInstance,
    StreamState,
    VictorError,
)

pytestmark = [pytest.mark.asyncio, requires(Capability.EVENT_STORE)]


#: Every stream the tests of this module write to.
STREAMS = ("acct", "acct-1", "archive", "other")


async def log_of(store: EventStore) -> list[tuple[str, int, int, str]]:
    """Everything the module's streams hold, as (stream, version, position, event id).

    Read stream by stream: an append is in its stream as soon as it returns, whereas a
    backend without ``immediate_read_all`` (PostgreSQL, while another transaction on the
    server is open) may show it in ``read_all`` only later, so that two reads of the log
    around a retry that writes nothing could differ.
    """
    return [
        (r.stream_id, r.version, r.position, r.event.id)
        for stream in STREAMS
        for r in await store.read_stream(stream)
    ]


def deposits(*amounts: int) -> list[Deposited]:
    return [Deposited(amount=amount) for amount in amounts]


# -- retries --------------------------------------------------------------------------------


async def test_a_retried_append_returns_the_first_result_and_writes_nothing(
    event_store: EventStore,
) -> None:
    await event_store.append("acct", deposits(1))
    batch = deposits(2, 3)
    first = await event_store.append("acct", batch)
    await event_store.append("other", deposits(9))  # other streams do not matter
    before = await log_of(event_store)

    again = await event_store.append("acct", batch)

    assert again == first, "a retried append returns the result of the first attempt"
    assert await log_of(event_store) == before, "a retried append writes nothing"
    single = Deposited(amount=4)
    assert await event_store.append("acct", single) == await event_store.append("acct", single)
    assert await event_store.stream_version("acct") == 4, "a retried append writes nothing"


@pytest.mark.parametrize("expected", [0, StreamState.NO_STREAM, "any"])
async def test_a_retry_expecting_the_version_the_first_attempt_expected_succeeds(
    event_store: EventStore, expected: Any
) -> None:
    batch = deposits(1, 2)
    first = await event_store.append("acct", batch, expected_version=expected)
    before = await log_of(event_store)

    again = await event_store.append("acct", batch, expected_version=expected)

    assert again == first, (
        "a retry whose first attempt was stored is not a concurrency conflict: it returns "
        "the first result"
    )
    assert await log_of(event_store) == before, "a retried append writes nothing"


async def test_a_retry_after_earlier_events_expecting_their_version_succeeds(
    event_store: EventStore,
) -> None:
    await event_store.append("acct", deposits(1, 2))
    batch = deposits(3)
    first = await event_store.append("acct", batch, expected_version=2)

    again = await event_store.append("acct", batch, expected_version=2)

    assert again == first, "a retried append returns the result of the first attempt"
    assert await event_store.stream_version("acct") == 3, "a retried append writes nothing"


async def test_a_retry_expecting_another_version_than_the_events_were_stored_at_is_refused(
    event_store: EventStore,
) -> None:
    batch = deposits(1, 2)
    await event_store.append("acct", batch, expected_version=0)
    before = await log_of(event_store)

    with pytest.raises((DuplicateEventId, ConcurrencyError)):
        await event_store.append("acct", batch, expected_version=2)
    with pytest.raises((DuplicateEventId, ConcurrencyError)):
        await event_store.append("acct", batch, expected_version="stream_exists")

    assert await log_of(event_store) == before, "a refused append writes nothing"


# -- reuse that is not a retry --------------------------------------------------------------


async def test_a_retry_after_the_stream_moved_on_is_refused_and_writes_nothing(
    event_store: EventStore,
) -> None:
    batch = deposits(1, 2)
    await event_store.append("acct", batch)
    await event_store.append("acct", deposits(3))
    before = await log_of(event_store)

    with pytest.raises(DuplicateEventId) as caught:
        await event_store.append("acct", batch)

    assert caught.value.stream_id == "acct"
    assert caught.value.event_id == batch[0].id
    assert batch[0].id in str(caught.value)
    assert "'acct'" in str(caught.value)
    assert await log_of(event_store) == before, "a refused append writes nothing"


@pytest.mark.parametrize(
    "reuse",
    [
        lambda stored: [stored[1], Deposited(amount=9)],  # partial overlap at the end
        lambda stored: [Deposited(amount=9), stored[0]],  # a new event, then a stored one
        lambda stored: [stored[0]],  # a stored event that is not the last
        lambda stored: [stored[1], stored[0]],  # the last events, in another order
        lambda stored: [stored[0], stored[1], stored[2], Deposited(amount=9)],  # more than them
    ],
    ids=["partial overlap", "new then stored", "not the last", "reordered", "extended"],
)
async def test_an_append_reusing_a_stored_event_id_elsewhere_is_refused_and_writes_nothing(
    event_store: EventStore, reuse: Any
) -> None:
    stored = deposits(1, 2, 3)
    await event_store.append("acct", stored)
    before = await log_of(event_store)

    with pytest.raises(DuplicateEventId):
        await event_store.append("acct", reuse(stored))

    assert await log_of(event_store) == before, "a refused append writes nothing"


async def test_an_event_id_stored_with_other_content_is_refused_and_writes_nothing(
    event_store: EventStore,
) -> None:
    first = Deposited(amount=1)
    await event_store.append("acct", first)
    before = await log_of(event_store)
    same_id_other_amount = Deposited(id=first.id, timestamp=first.timestamp, amount=2)
    same_id_other_type = Withdrawn(id=first.id, timestamp=first.timestamp, amount=1)

    with pytest.raises(DuplicateEventId, match="content"):
        await event_store.append("acct", same_id_other_amount)
    with pytest.raises(DuplicateEventId, match="content"):
        await event_store.append("acct", same_id_other_type)

    assert await log_of(event_store) == before, "a refused append writes nothing"


async def test_an_append_giving_one_event_id_twice_is_refused_and_writes_nothing(
    event_store: EventStore,
) -> None:
    event = Deposited(amount=1)

    with pytest.raises(DuplicateEventId, match="twice"):
        await event_store.append("acct", [event, Deposited(amount=2), event])

    assert await log_of(event_store) == [], "a refused append writes nothing"


async def test_event_ids_are_unique_per_stream_so_another_stream_may_hold_the_same_event(
    event_store: EventStore,
) -> None:
    event = Deposited(amount=1)
    await event_store.append("acct", event)

    result = await event_store.append("archive", event)

    assert result.version == 1, "event ids are unique per stream, not across the store"
    assert [r.event.id for r in await event_store.read_stream("archive")] == [event.id]


# -- races ----------------------------------------------------------------------------------


@pytest.mark.parametrize("expected", [0, "any"])
async def test_racing_writers_retrying_one_append_store_it_once(
    open_event_store: OpenEventStore, expected: Any
) -> None:
    stores = [await open_event_store() for _ in range(3)]
    batch = deposits(1, 2, 3)

    results = await asyncio.gather(
        *(stores[n % 3].append("acct", batch, expected_version=expected) for n in range(9))
    )

    assert len(set(results)) == 1, "every attempt of one append reports the same result"
    log = await log_of(stores[0])
    assert [entry[3] for entry in log] == [e.id for e in batch], (
        "racing retries of one append store its events once"
    )


CHILD = """
import asyncio, json, sys, time
from datetime import datetime
from pathlib import Path

from victor_contract_tests.suite.sample_events import Deposited
from victor_core import default_registry
from victor_core.backend import parse_url

async def main(name, url, options, batch, rounds, go):
    url = parse_url(url)
    store = default_registry().backend(name).create_event_store(url, {**url.options, **options})
    events = [
        Deposited(id=i, timestamp=datetime.fromisoformat(t), amount=a) for i, t, a in batch
    ]
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.005)
    results = []
    for _ in range(rounds):
        result = await store.append("acct", events, expected_version=0)
        results.append([result.version, list(result.positions)])
    await store.close()
    print(json.dumps(results), flush=True)

asyncio.run(main(*json.loads(sys.argv[1])))
"""


@requires(Capability.MULTI_PROCESS)
async def test_processes_racing_to_retry_one_append_store_it_once(
    victor_backend: Backend,
    contract_instance: ContractInstance,
    event_store: EventStore,
    tmp_path: Path,
) -> None:
    try:
        options = json.dumps(dict(contract_instance.options))
    except TypeError:
        pytest.skip("this instance's options cannot be handed to another process")
    batch = deposits(1, 2, 3)
    described = [[e.id, e.timestamp.isoformat(), e.amount] for e in batch]
    go = tmp_path / "go"
    arguments = [victor_backend.name, contract_instance.url, json.loads(options)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argument = json.dumps([*arguments, described, 3, str(go)])
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            argument,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in range(3)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert await asyncio.wait_for(child.stdout.readline(), 120) == b"ready\n"
        go.touch()  # all three are ready: let them race
        outcomes = [await asyncio.wait_for(child.communicate(), 120) for child in children]
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
    for child, (_, errors) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, errors.decode()

    results = {json.dumps(result) for out, _ in outcomes for result in json.loads(out)}
    assert len(results) == 1, "every process's attempt of one append reports the same result"
    assert [entry[3] for entry in await log_of(event_store)] == [e.id for e in batch], (
        "processes racing to retry one append store its events once"
    )


# -- the unit of work -----------------------------------------------------------------------


async def test_a_unit_of_work_retrying_a_commit_whose_events_were_stored_writes_nothing(
    open_event_store: OpenEventStore,
) -> None:
    store = await open_event_store()
    account = Account.open("acct-1", "ann")
    account.deposit(5)
    # The first commit's append was stored, but its answer never came back.
    lost = await store.append("acct-1", account.pending_events, expected_version=0)
    before = await log_of(store)
    uow = UnitOfWork(best_effort=True)
    uow.register_repository(AggregateRepository(store, Account), Account)
    uow.register_new(account)

    await uow.commit()

    assert await log_of(store) == before, "a retried commit does not store its events twice"
    assert account.pending_events == []
    assert account.committed_version == lost.version


@requires(Capability.REPOSITORY, Capability.TRANSACTIONS)
async def test_a_commit_reusing_a_stored_event_id_is_refused_and_writes_nothing(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    store = await open_event_store()
    account = Account.open("acct-1", "ann")
    await AggregateRepository(store, Account).save(account)
    reused = Deposited(amount=5)
    await store.append("acct-1", [reused, Deposited(amount=6)])
    before = await log_of(store)
    members = await open_repository(Member)
    uow = UnitOfWork()
    uow.register_repository(members, Member)
    uow.register_repository(AggregateRepository(store, Account), Account)
    loaded = await uow.get(Account, "acct-1")
    assert loaded is not None
    loaded.apply(reused)  # an event already stored, applied again
    uow.register_new(Member(id="ann", name="Ann"))

    with pytest.raises(DuplicateEventId):
        await uow.commit()

    assert await log_of(store) == before, "a refused commit writes no events"
    assert await members.find() == [], "a refused commit writes no entities"


async def test_a_reused_event_id_is_a_victor_error_that_neither_reloading_nor_retrying_cures(
    event_store: EventStore,
) -> None:
    stored = deposits(1, 2)
    await event_store.append("acct", stored)

    with pytest.raises(DuplicateEventId) as caught:
        await event_store.append("acct", stored[:1])

    assert isinstance(caught.value, VictorError)
    assert not isinstance(caught.value, ConcurrencyError | TransientError), (
        "reloading or trying again cannot cure a reused event id, so it is neither a "
        "concurrency error nor a transient one"
    )
    assert isinstance(await event_store.append("acct", deposits(3)), AppendResult), (
        "a refused append leaves the stream writable"
    )
