"""Bad input to an append or an entity write: a victor error saying what to pass, nothing written.

Python lets a ``str`` hold a lone surrogate (``"\\ud800"``, what ``errors="surrogateescape"``
leaves of undecodable bytes); no database stores it as text. The kernel refuses it, and any
argument that is not what an append takes, before a backend sees it, so every backend answers
alike and storage is exactly as it was afterwards.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from victor_contract_tests.plugin import OpenEventStore, OpenRepository, requires
from victor_contract_tests.suite.logs import shown_by_read_all
from victor_contract_tests.suite.sample_aggregates import Account
from victor_contract_tests.suite.sample_entities import Member
from victor_contract_tests.suite.sample_events import Deposited
from victor_core import (
    AggregateRepository,
    AttributeSpecification,
    Event,
    EventStore,
    Repository,
    UnitOfWork,
)
from victor_core.backend import (
    Capability,
    ConfigurationError,
    SerializationError,
    VictorError,
)

pytestmark = pytest.mark.asyncio

SURROGATE = "\ud800"


@dataclasses.dataclass
class Noted(Event):
    __event_type__ = "victor.contract.Noted"
    text: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    labels: dict[str, str] = dataclasses.field(default_factory=dict)


class NotAnEvent:
    """What a caller may pass by mistake: an object that is neither an event nor a list."""


async def log_of(store: EventStore) -> list[tuple[str, int, str]]:
    """Everything the store holds, as (stream, version, event id)."""
    return [(r.stream_id, r.version, r.event.id) async for r in store.read_all()]


async def stored_entities(repository: Repository[Member]) -> dict[str, str]:
    return {member.id: member.name for member in await repository.find()}


# -- appends --------------------------------------------------------------------------------


@requires(Capability.EVENT_STORE)
@pytest.mark.parametrize(
    "events",
    [NotAnEvent(), {"amount": 1}, "Deposited", b"Deposited", 42, None],
    ids=["object", "dict", "str", "bytes", "int", "None"],
)
async def test_an_append_of_something_that_is_not_an_event_is_refused_naming_the_argument(
    event_store: EventStore, events: Any
) -> None:
    stored = await event_store.append("acct", Deposited(amount=1))
    await shown_by_read_all(event_store, stored.positions[-1])
    before = await log_of(event_store)

    with pytest.raises(SerializationError, match=r"'acct'.*events.*Event") as caught:
        await event_store.append("acct", events)

    assert type(events).__name__ in str(caught.value), "the error names what was passed"
    assert await log_of(event_store) == before, "a refused append leaves storage as it was"


@requires(Capability.EVENT_STORE)
async def test_a_list_holding_something_that_is_not_an_event_is_refused_naming_its_place(
    event_store: EventStore,
) -> None:
    with pytest.raises(SerializationError, match=r"'acct'.*events\[1\].*dict.*derive from"):
        await event_store.append("acct", [Deposited(amount=1), {"amount": 2}])  # type: ignore[list-item]

    assert await log_of(event_store) == [], "a refused append leaves storage as it was"


@requires(Capability.EVENT_STORE)
@pytest.mark.parametrize(
    ("event", "named"),
    [
        (Noted(text=f"caf{SURROGATE}"), "text"),
        (Noted(tags=["ok", SURROGATE]), r"tags\[1\]"),
        (Noted(labels={f"k{SURROGATE}": "v"}), "labels"),
        (Noted(labels={"k": SURROGATE}), r"labels\.k"),
        (Noted(aggregate_id=f"acct{SURROGATE}"), "aggregate_id"),
    ],
    ids=["field", "list item", "dict key", "dict value", "aggregate_id"],
)
async def test_an_event_holding_a_lone_surrogate_is_refused_naming_the_field(
    event_store: EventStore, event: Noted, named: str
) -> None:
    stored = await event_store.append("acct", Deposited(amount=1))
    await shown_by_read_all(event_store, stored.positions[-1])
    before = await log_of(event_store)

    with pytest.raises(SerializationError, match=rf"Noted.*{named}.*surrogate"):
        await event_store.append("acct", [Deposited(amount=2), event])

    assert await log_of(event_store) == before, "a refused append leaves storage as it was"
    assert await event_store.stream_version("acct") == 1


@requires(Capability.EVENT_STORE)
async def test_a_stream_id_holding_a_lone_surrogate_is_refused_by_every_call(
    event_store: EventStore,
) -> None:
    stream_id = f"acct-{SURROGATE}"

    with pytest.raises(ConfigurationError, match=r"stream id.*surrogate"):
        await event_store.append(stream_id, Deposited(amount=1))
    with pytest.raises(ConfigurationError, match=r"stream id.*surrogate"):
        await event_store.read_stream(stream_id)
    with pytest.raises(ConfigurationError, match=r"stream id.*surrogate"):
        await event_store.stream_version(stream_id)

    assert await log_of(event_store) == [], "a refused append leaves storage as it was"


@requires(Capability.EVENT_STORE)
@pytest.mark.parametrize("event_id", ["", 5, None, b"id"], ids=repr)
async def test_an_event_whose_id_is_not_a_non_empty_str_is_refused_naming_it(
    event_store: EventStore, event_id: object
) -> None:
    stored = await event_store.append("acct", Deposited(amount=1))
    await shown_by_read_all(event_store, stored.positions[-1])
    before = await log_of(event_store)
    event = Deposited(amount=2)
    event.id = event_id  # type: ignore[assignment]

    with pytest.raises(SerializationError, match=rf"Deposited.*id is {re.escape(repr(event_id))}"):
        await event_store.append("acct", [Deposited(amount=3), event])

    assert await log_of(event_store) == before, "a refused append leaves storage as it was"


def nested(depth: int) -> list[Any]:
    """Lists inside each other *depth* levels deep, deeper than Python's recursion limit."""
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@requires(Capability.EVENT_STORE)
async def test_an_event_nested_deeper_than_python_can_walk_is_refused_as_serialization(
    event_store: EventStore,
) -> None:
    stored = await event_store.append("acct", Deposited(amount=1))
    await shown_by_read_all(event_store, stored.positions[-1])
    before = await log_of(event_store)

    with pytest.raises(SerializationError, match=r"Noted.*nested deeper"):
        await event_store.append("acct", [Deposited(amount=2), Noted(tags=nested(5000))])

    assert await log_of(event_store) == before, "a refused append leaves storage as it was"


@requires(Capability.EVENT_STORE, Capability.CHECKPOINTS)
async def test_a_projection_name_holding_a_lone_surrogate_is_refused_by_every_call(
    event_store: EventStore,
) -> None:
    checkpoints = event_store.checkpoints
    assert checkpoints is not None
    name = f"orders-{SURROGATE}"

    with pytest.raises(ConfigurationError, match=r"projection name.*surrogate"):
        await checkpoints.save(name, 1)
    with pytest.raises(ConfigurationError, match=r"projection name.*surrogate"):
        await checkpoints.load(name)
    with pytest.raises(ConfigurationError, match=r"projection name.*surrogate"):
        await checkpoints.compare_and_set(name, 0, 1)

    assert await checkpoints.load_all() == {}, "a refused save leaves storage as it was"


@requires(Capability.EVENT_STORE, Capability.CHECKPOINT_LEASES)
async def test_a_lease_owner_holding_a_lone_surrogate_is_refused(event_store: EventStore) -> None:
    checkpoints = event_store.checkpoints
    assert checkpoints is not None

    with pytest.raises(ConfigurationError, match=r"lease owner.*surrogate"):
        await checkpoints.acquire_lease("orders", f"runner-{SURROGATE}", 30)

    assert await checkpoints.acquire_lease("orders", "runner-1", 30), "no lease was taken"


# -- entities -------------------------------------------------------------------------------


@requires(Capability.REPOSITORY)
@pytest.mark.parametrize(
    ("member", "named"),
    [
        (Member(id="m2", name=f"Ann{SURROGATE}"), "name"),
        (Member(id="m2", tags=[SURROGATE]), r"tags\[0\]"),
        (Member(id="m2", meta={SURROGATE: "x"}), "meta"),
    ],
    ids=["field", "list item", "dict key"],
)
async def test_an_entity_holding_a_lone_surrogate_is_not_added(
    open_repository: OpenRepository, member: Member, named: str
) -> None:
    repository = await open_repository(Member)
    await repository.add(Member(id="m1", name="Ann"))

    with pytest.raises(SerializationError, match=rf"Member.*{named}.*surrogate"):
        await repository.add_many([Member(id="m3", name="Bob"), member])

    assert await stored_entities(repository) == {"m1": "Ann"}, (
        "a refused add leaves storage as it was"
    )


@requires(Capability.REPOSITORY)
async def test_an_update_to_a_lone_surrogate_is_refused_and_the_entity_is_unchanged(
    open_repository: OpenRepository,
) -> None:
    repository = await open_repository(Member)
    member = Member(id="m1", name="Ann")
    await repository.add(member)
    updated_at = member.updated_at

    member.name = f"Ann{SURROGATE}"
    with pytest.raises(SerializationError, match=r"Member.*name.*surrogate"):
        await repository.update(member)

    assert await stored_entities(repository) == {"m1": "Ann"}, (
        "a refused update leaves storage as it was"
    )
    assert member.updated_at == updated_at, "a refused update leaves the object as it was"


@requires(Capability.REPOSITORY)
async def test_an_entity_id_holding_a_lone_surrogate_is_refused_by_every_call(
    open_repository: OpenRepository,
) -> None:
    repository = await open_repository(Member)
    entity_id = f"m{SURROGATE}"

    with pytest.raises(ConfigurationError, match=r"entity id.*surrogate"):
        await repository.add(Member(id=entity_id, name="Ann"))
    with pytest.raises(ConfigurationError, match=r"entity id.*surrogate"):
        await repository.get(entity_id)
    with pytest.raises(ConfigurationError, match=r"entity id.*surrogate"):
        await repository.delete(entity_id)

    assert await stored_entities(repository) == {}, "a refused add leaves storage as it was"


@requires(Capability.REPOSITORY)
async def test_an_entity_nested_deeper_than_python_can_walk_is_not_added(
    open_repository: OpenRepository,
) -> None:
    repository = await open_repository(Member)
    await repository.add(Member(id="m1", name="Ann"))

    with pytest.raises(SerializationError, match=r"Member.*nested deeper"):
        await repository.add_many(
            [Member(id="m2", name="Bob"), Member(id="m3", payload=nested(5000))]
        )

    assert await stored_entities(repository) == {"m1": "Ann"}, (
        "a refused add leaves storage as it was"
    )


@requires(Capability.REPOSITORY)
@pytest.mark.parametrize(
    ("path", "value", "op"),
    [
        ("name", f"Ann{SURROGATE}", "=="),
        ("name", SURROGATE, "contains"),
        ("name", ["Ann", SURROGATE], "in"),
        ("name", SURROGATE, ">="),
        ("meta.team", SURROGATE, "!="),
        ("tags", [SURROGATE], "=="),
    ],
    ids=["equal", "contains", "in", "order", "mapping key", "list"],
)
async def test_a_specification_comparing_with_a_lone_surrogate_is_refused_when_made(
    open_repository: OpenRepository, path: str, value: object, op: str
) -> None:
    repository = await open_repository(Member)
    await repository.add(Member(id="m1", name="Ann"))

    # Refused before any backend sees it: engines fail to encode such text mid-query.
    with pytest.raises(ConfigurationError, match=rf"{path}.*lone surrogate"):
        AttributeSpecification(path, value, op=op)

    assert await stored_entities(repository) == {"m1": "Ann"}


# -- the unit of work -----------------------------------------------------------------------


async def open_unit(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> tuple[UnitOfWork, Repository[Member], EventStore]:
    members = await open_repository(Member)
    store = await open_event_store()
    uow = UnitOfWork()
    uow.register_repository(members, Member)
    uow.register_repository(AggregateRepository(store, Account), Account)
    return uow, members, store


@requires(Capability.REPOSITORY, Capability.EVENT_STORE, Capability.TRANSACTIONS)
async def test_a_commit_with_an_event_holding_a_lone_surrogate_writes_nothing(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    uow, members, store = await open_unit(open_repository, open_event_store)
    uow.register_new(Member(id="ann", name="Ann"))
    uow.register_new(Account.open("acct-1", f"Ann{SURROGATE}"))

    with pytest.raises(SerializationError, match=r"owner.*surrogate"):
        await uow.commit()

    assert await stored_entities(members) == {}, "a refused commit leaves storage as it was"
    assert await log_of(store) == [], "a refused commit leaves storage as it was"


@requires(Capability.REPOSITORY, Capability.EVENT_STORE, Capability.TRANSACTIONS)
async def test_a_commit_with_an_aggregate_id_holding_a_lone_surrogate_writes_nothing(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    uow, members, store = await open_unit(open_repository, open_event_store)
    account = Account.open("acct-1", "Ann")
    account.id = f"acct-{SURROGATE}"  # a stream id no database can store
    uow.register_new(Member(id="ann", name="Ann"))
    uow.register_new(account)

    with pytest.raises(VictorError, match="surrogate"):
        await uow.commit()

    assert await stored_entities(members) == {}, "a refused commit leaves storage as it was"
    assert await log_of(store) == [], "a refused commit leaves storage as it was"


@requires(Capability.REPOSITORY, Capability.EVENT_STORE, Capability.TRANSACTIONS)
async def test_a_commit_with_an_entity_changed_to_a_lone_surrogate_writes_nothing(
    open_repository: OpenRepository, open_event_store: OpenEventStore
) -> None:
    uow, members, store = await open_unit(open_repository, open_event_store)
    await members.add(Member(id="ann", name="Ann"))
    loaded = await uow.get(Member, "ann")
    assert loaded is not None
    loaded.name = f"Ann{SURROGATE}"
    uow.register_new(Account.open("acct-1", "Ann"))

    with pytest.raises(SerializationError, match=r"Member.*name.*surrogate"):
        await uow.commit()

    assert await stored_entities(members) == {"ann": "Ann"}, (
        "a refused commit leaves storage as it was"
    )
    assert await log_of(store) == [], "a refused commit leaves storage as it was"
