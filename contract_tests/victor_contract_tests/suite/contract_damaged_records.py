"""A damaged record comes back as stored or not at all, and the rest of the storage stays usable.

A payload that another program, an edit by hand or a bad migration left in the storage (a
JSON array, a string, ``{}``, an object without a field the class requires, another event's
payload) must not be read as an event made of defaults, with a new random id and the current
time: it raises :class:`~victor_core.CorruptEvent` naming where it is, and every other event
can still be read, and the store written. A damaged entity document raises
:class:`~victor_core.CorruptEntity`; a damaged snapshot, which is only a cache, is ignored
(with a warning) and the aggregate is replayed from its events.

The damage is written past the kernel, in the backend's own storage, through the contract
instance's :class:`~victor_core.backend.RawStorage`; the tests are skipped for an instance
without one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.sample_aggregates import Account
from victor_contract_tests.suite.sample_entities import Ledger
from victor_contract_tests.suite.sample_events import Deposited, Withdrawn
from victor_core import (
    AggregateRepository,
    CorruptEntity,
    CorruptEvent,
    CorruptRecord,
    Event,
    EventStore,
    SerializationError,
    VictorError,
)
from victor_core.backend import (
    Capability,
    ContractInstance,
    EntityCodec,
    RawStorage,
    entity_name,
)

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Titled(Event):
    """An event with a field without a default, which every stored payload of it holds."""

    __event_type__ = "victor.contract.Titled"
    title: str


def raw_storage(instance: ContractInstance) -> RawStorage:
    """The instance's way past the kernel, or a skip saying why there is none."""
    if instance.raw is None:
        pytest.skip(
            "this backend's ContractInstance has no `raw` (victor_core.backend.RawStorage), "
            "so the suite cannot damage its records; give it one to run the damage tests"
        )
    return instance.raw


async def read_all_until_error(store: EventStore) -> tuple[list[int], Exception | None]:
    """The positions read_all yields, and the error it stops with (None at the end)."""
    positions: list[int] = []
    try:
        async for recorded in store.read_all():
            positions.append(recorded.position)
    except Exception as exc:
        return positions, exc
    return positions, None


def without(text: str, name: str) -> str:
    payload = json.loads(text)
    payload.pop(name, None)
    return json.dumps(payload)


#: name -> the damaged payload, from (the stored payload, the payload of another event).
EVENT_DAMAGE: dict[str, Callable[[str, str], str]] = {
    "array": lambda mine, other: "[]",
    "string": lambda mine, other: '"a string"',
    "empty object": lambda mine, other: "{}",
    "missing required field": lambda mine, other: without(mine, "title"),
    "missing id": lambda mine, other: without(mine, "id"),
    "another event's payload": lambda mine, other: other,
}


@requires(Capability.EVENT_STORE)
@pytest.mark.parametrize("damage", sorted(EVENT_DAMAGE))
async def test_a_damaged_event_is_refused_naming_where_it_is_and_the_rest_stays_usable(
    open_event_store: OpenEventStore, contract_instance: ContractInstance, damage: str
) -> None:
    raw = raw_storage(contract_instance)
    store = await open_event_store()
    first = Deposited(amount=1)
    # An event whose fields all have defaults, which a made-up payload would fit, unless the
    # damage is to a field without a default.
    second: Event = Titled(title="kept") if damage == "missing required field" else Withdrawn()
    type_name = store.serializer.registry.name_of(type(second))
    await store.append("acct", [first, second, Withdrawn(amount=3)])
    await store.append("other", Deposited(amount=9))
    [stored] = await store.read_stream("acct", from_version=2, to_version=2)
    log = [r.position async for r in store.read_all()]
    damaged_at = log.index(stored.position)
    mine = store.serializer.serialize(second, "acct").data
    other = store.serializer.serialize(first, "acct").data
    await raw.write_event_payload("acct", 2, EVENT_DAMAGE[damage](mine, other))

    reader = await open_event_store()
    with pytest.raises(CorruptEvent) as caught:
        await reader.read_stream("acct")
    error = caught.value
    assert isinstance(error, CorruptRecord | SerializationError | VictorError)
    where = (error.stream_id, error.version, error.position, error.type_name)
    assert where == ("acct", 2, stored.position, type_name), (
        f"CorruptEvent must name the damaged event's stream, version, position and type: {where}"
    )
    message = str(error)
    for part in ("'acct'", "version 2", f"position {stored.position}", type_name):
        assert part in message, f"the message must name {part}: {message}"
    assert "must be a JSON object" in message, "the message must say what a payload must be"
    with pytest.raises(CorruptEvent) as again:
        await reader.read_stream("acct", from_version=2)
    assert str(again.value) == message, "the damaged event must be refused the same way each time"

    assert [r.event.id for r in await reader.read_stream("acct", to_version=1)] == [first.id], (
        "the events before the damaged one must stay readable"
    )
    assert [r.version for r in await reader.read_stream("acct", from_version=3)] == [3], (
        "the events after the damaged one must stay readable"
    )
    assert [r.version for r in await reader.read_stream("other")] == [1], (
        "the other streams must stay readable"
    )

    before, failure = await read_all_until_error(reader)
    assert isinstance(failure, CorruptEvent), (
        f"read_all must raise CorruptEvent at the damaged event, got {failure!r}"
    )
    assert before == log[:damaged_at], (
        "read_all must yield the events before the damaged one, then raise CorruptEvent"
    )
    after = [r.position async for r in reader.read_all(from_position=stored.position + 1)]
    assert after == log[damaged_at + 1 :], (
        "read_all from past the damaged event must read on to the end of the log"
    )

    result_event = Deposited(amount=4)
    result = await reader.append("acct", result_event, expected_version=3)
    assert result.version == 4, "the store must stay writable after a damaged event"
    [appended] = await (await open_event_store()).read_stream("acct", from_version=4)
    assert appended.event.id == result_event.id


SNAPSHOT_DAMAGE = ["[]", '"state"', "{}", '{"owner": "ann"}', "null"]


@requires(Capability.EVENT_STORE, Capability.SNAPSHOTS)
@pytest.mark.parametrize("state", SNAPSHOT_DAMAGE)
async def test_a_damaged_snapshot_is_ignored_with_a_warning_and_the_events_replayed(
    open_event_store: OpenEventStore,
    contract_instance: ContractInstance,
    caplog: pytest.LogCaptureFixture,
    state: str,
) -> None:
    raw = raw_storage(contract_instance)
    repository = AggregateRepository(await open_event_store(), Account, snapshots=True)
    account = Account.open("acct-1", "ann")
    for amount in (1, 2, 3):
        account.deposit(amount)
    await repository.save(account)
    await repository.take_snapshot(await repository.load("acct-1"))
    await raw.write_snapshot_state("acct-1", 4, state)

    reader = AggregateRepository(await open_event_store(), Account, snapshots=True)
    Account.replayed = 0
    with caplog.at_level(logging.WARNING, logger="victor_core"):
        loaded = await reader.load("acct-1")

    assert Account.replayed == 4, "a damaged snapshot must be ignored: every event replayed"
    assert (loaded.id, loaded.owner, loaded.balance, loaded.movements, loaded.version) == (
        "acct-1",
        "ann",
        6,
        [1, 2, 3],
        4,
    ), "the aggregate must be loaded from its events, as if there were no snapshot"
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("acct-1" in r.getMessage() for r in warned), (
        "ignoring a damaged snapshot must log a warning naming its stream"
    )


def entity_damage(mine: str, other: str) -> dict[str, str]:
    return {
        "array": "[]",
        "string": '"Ledger"',
        "empty object": "{}",
        "missing required field": without(mine, "owner"),
        "missing id": without(mine, "id"),
        "nothing but the id": '{"id": "l1"}',
        "another entity's document": other,
    }


@requires(Capability.REPOSITORY)
@pytest.mark.parametrize("damage", sorted(entity_damage("{}", "{}")))
async def test_a_damaged_entity_is_refused_naming_it_and_the_rest_stays_usable(
    open_repository: OpenRepository, contract_instance: ContractInstance, damage: str
) -> None:
    raw = raw_storage(contract_instance)
    repository = await open_repository(Ledger)
    damaged, kept = Ledger(id="l1", owner="ann"), Ledger(id="l2", owner="bob", total=5)
    await repository.add_many([damaged, kept])
    codec = EntityCodec(Ledger)
    text = entity_damage(codec.encode(damaged), codec.encode(kept))[damage]
    try:
        await raw.write_document(entity_name(Ledger), "l1", text)
    except ValueError as exc:
        pytest.skip(f"this storage cannot hold that damage: {exc}")

    reader = await open_repository(Ledger)
    with pytest.raises(CorruptEntity) as caught:
        await reader.get("l1")
    error = caught.value
    assert (error.entity_type, error.entity_id) == ("Ledger", "l1"), (
        f"CorruptEntity must name the entity's class and id ({damage})"
    )
    assert "Ledger 'l1'" in str(error), "the message must name the entity"
    assert "must be a JSON object" in str(error), "the message must say what a document must be"
    with pytest.raises(CorruptEntity):
        await reader.find()

    got = await reader.get("l2")
    assert got is not None, "the other entities must stay readable"
    assert (got.owner, got.total) == ("bob", 5), "the other entities must stay as stored"
    await reader.add(Ledger(id="l3", owner="cy"))
    got.total = 6
    await reader.update(got)
    await reader.delete("l1")  # the way out: remove (or rewrite) what is damaged
    found = sorted((e.id, e.total) for e in await reader.find())
    assert found == [("l2", 6), ("l3", 0)], "the repository must stay writable"
