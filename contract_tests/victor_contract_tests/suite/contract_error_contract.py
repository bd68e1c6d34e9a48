"""The error contract: what a backend raises when the engine cannot do what it was asked.

A caller handles failures of storage by victor's error classes alone, whatever the backend:
``BackendUnavailable`` when no server answers, ``TransientBackendError`` when the engine
refuses for now (a lock, a deadlock) and a retry may succeed, ``SerializationError`` when a
value cannot be stored. No driver's own exception ever escapes, and a refused write leaves
storage as it was. The conditions are injected where the contract instance can make them
(``ContractInstance.unreachable_url``, ``ContractInstance.contention``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.sample_entities import Member
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import Backend, Event, EventStore
from victor_core.backend import (
    BackendUnavailable,
    Capability,
    ContractInstance,
    SerializationError,
    TransientBackendError,
    TransientError,
    parse_url,
)

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class AwkwardNote(Event):
    __event_type__ = "victor.contract.AwkwardNote"
    text: str = ""
    number: int = 0
    extra: Any = None


#: Values some engines cannot hold: beyond 64 bits (BSON, BIGINT), a NUL character
#: (PostgreSQL text and JSONB), keys that are operators or paths elsewhere. (Text that is not
#: valid Unicode is refused by the kernel before a backend sees it.)
AWKWARD_VALUES: list[tuple[str, dict[str, Any]]] = [
    ("an integer beyond 64 bits", {"number": 2**80}),
    ("a negative integer beyond 64 bits", {"number": -(2**70)}),
    ("a NUL character", {"text": "before\x00after"}),
    ("a nested integer beyond 64 bits", {"extra": {"deep": [1, 2**65]}}),
    ("a key with a dot and a dollar", {"extra": {"a.b": 1, "$set": 2}}),
]


def _instance_facility(instance: ContractInstance, name: str) -> Any:
    facility = getattr(instance, name)
    if facility is None:
        pytest.skip(f"this contract instance offers no {name} (ContractInstance.{name})")
    return facility


@requires(Capability.EVENT_STORE)
@pytest.mark.parametrize(("what", "fields"), AWKWARD_VALUES, ids=[w for w, _ in AWKWARD_VALUES])
async def test_an_event_value_the_engine_cannot_hold_is_kept_exactly_or_refused_as_serialization(
    event_store: EventStore, what: str, fields: dict[str, Any]
) -> None:
    await event_store.append("notes", AwkwardNote(text="first"))
    event = AwkwardNote(**fields)

    try:
        await event_store.append("notes", event)
    except SerializationError:
        stored = await event_store.read_stream("notes")
        assert [r.event for r in stored] == [stored[0].event], (
            f"an append refused for {what} left part of itself behind"
        )
        return
    [_, again] = await event_store.read_stream("notes")
    assert again.event == dataclasses.replace(event, aggregate_id="notes"), (
        f"an event holding {what} was stored, but came back different"
    )


@requires(Capability.REPOSITORY)
@pytest.mark.parametrize(("what", "fields"), AWKWARD_VALUES, ids=[w for w, _ in AWKWARD_VALUES])
async def test_an_entity_value_the_engine_cannot_hold_is_kept_exactly_or_refused_as_serialization(
    open_repository: OpenRepository, what: str, fields: dict[str, Any]
) -> None:
    repo = await open_repository(Member)
    values = {
        "name": fields.get("text", "plain"),
        "age": fields.get("number", 1),
        "payload": fields.get("extra"),
    }
    member = Member(id="awkward", **values)

    try:
        await repo.add(member)
    except SerializationError:
        assert await repo.get("awkward") is None, f"an add refused for {what} stored it"
        assert await repo.count() == 0, f"an add refused for {what} stored something"
        return
    assert await repo.get("awkward") == member, (
        f"an entity holding {what} was stored, but came back different"
    )


@requires(Capability.EVENT_STORE)
async def test_an_unreachable_server_is_reported_as_backend_unavailable(
    contract_instance: ContractInstance, victor_backend: Backend
) -> None:
    url = parse_url(_instance_facility(contract_instance, "unreachable_url"))
    store = victor_backend.create_event_store(url, {**url.options, **contract_instance.options})
    try:
        for operation in (
            lambda: store.append("s-1", Deposited(amount=1)),
            lambda: store.read_stream("s-1"),
            lambda: store.stream_version("s-1"),
        ):
            with pytest.raises(BackendUnavailable) as caught:
                await operation()
            assert isinstance(caught.value, TransientError)  # RetryCommandMiddleware retries
    finally:
        await store.close()


@requires(Capability.REPOSITORY)
async def test_an_unreachable_server_is_reported_as_backend_unavailable_by_repositories(
    contract_instance: ContractInstance, victor_backend: Backend
) -> None:
    url = parse_url(_instance_facility(contract_instance, "unreachable_url"))
    repo = victor_backend.create_repository(
        url, Member, {**url.options, **contract_instance.options}
    )
    try:
        with pytest.raises(BackendUnavailable):
            await repo.add(Member(id="m-1"))
        with pytest.raises(BackendUnavailable):
            await repo.find()
    finally:
        await repo.close()


@requires(Capability.EVENT_STORE)
async def test_a_write_meeting_a_lock_held_elsewhere_fails_as_transient_and_stores_nothing(
    contract_instance: ContractInstance, open_event_store: OpenEventStore
) -> None:
    contention = _instance_facility(contract_instance, "contention")
    store = await open_event_store()
    await store.append("acct", Deposited(amount=1))

    async with contention() as options:
        blocked = await open_event_store(**options)
        with pytest.raises(TransientBackendError) as caught:
            await blocked.append("acct", Deposited(amount=2))
        assert isinstance(caught.value, TransientError)

    await blocked.append("acct", Deposited(amount=3))  # the lock is gone: a retry succeeds
    amounts = [r.event.amount for r in await store.read_stream("acct")]  # type: ignore[attr-defined]
    assert amounts == [1, 3], "the write refused as transient left something behind"
