"""Races between appends, decided by the unique indexes, and what each side sees.

The in-process stand-ins run every call without yielding, so "another writer" is made to
act exactly between an append's reads and its insert (see ``Interleaving``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mongodb_doubles import FLAVOURS, Interleaving, Noted

from victor_core.backend import ConcurrencyError, StreamState
from victor_mongodb import MongoDatabase, MongoEventStore
from victor_mongodb.event_log import EVENTS
from victor_mongodb.testing import fake_client

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=FLAVOURS)
def client(request: pytest.FixtureRequest) -> Any:
    return fake_client(request.param)


@pytest.fixture
def database(client: Any) -> MongoDatabase:
    return MongoDatabase(client=client, database="app")


def two_writers(client: Any) -> tuple[MongoEventStore, MongoEventStore]:
    """Two stores on one database, each with its own connection object, as in two processes."""
    return (
        MongoEventStore(client=client, database="app"),
        MongoEventStore(client=client, database="app"),
    )


def texts(recorded: list[Any]) -> list[str]:
    return [r.event.text for r in recorded]


def interleave(store: MongoEventStore, meanwhile: Any) -> Interleaving:
    """Make *store*'s next insert into the events collection run *meanwhile* first."""
    connection = store.database
    collection = connection.collection
    wrapped = Interleaving(collection(EVENTS), "insert_one", meanwhile)

    def intercepting(name: str, **options: bool) -> Any:
        return wrapped if name == EVENTS else collection(name, **options)

    connection.collection = intercepting  # type: ignore[method-assign]
    return wrapped


async def test_a_writer_that_lost_the_stream_version_gets_a_concurrency_error(client: Any) -> None:
    mine, theirs = two_writers(client)
    await mine.append("order", Noted(text="created"))

    async def they_append_first() -> None:
        await theirs.append("order", Noted(text="theirs"), expected_version=1)

    interleave(mine, they_append_first)
    with pytest.raises(ConcurrencyError) as lost:
        await mine.append("order", [Noted(text="a"), Noted(text="b")], expected_version=1)

    assert lost.value.actual == 2
    assert texts(await mine.read_stream("order")) == ["created", "theirs"]
    assert [r.position for r in [r async for r in mine.read_all()]] == [1, 2]


async def test_an_append_expecting_any_version_tries_again_after_the_other_writer(
    client: Any,
) -> None:
    mine, theirs = two_writers(client)
    await mine.append("order", Noted(text="created"))

    async def they_append_first() -> None:
        await theirs.append("order", Noted(text="theirs"))

    inserts = interleave(mine, they_append_first)
    result = await mine.append("order", Noted(text="mine"), expected_version=StreamState.ANY)

    assert inserts.calls == ["insert_one", "insert_one"]
    assert result.version == 3
    assert texts(await mine.read_stream("order")) == ["created", "theirs", "mine"]


async def test_a_lost_position_is_taken_again_after_the_winner_in_global_order(
    client: Any,
) -> None:
    mine, theirs = two_writers(client)
    await mine.append("a", Noted(text="first"))

    async def another_stream_commits_first() -> None:
        await theirs.append("b", [Noted(text="b1"), Noted(text="b2")])

    interleave(mine, another_stream_commits_first)
    result = await mine.append("a", Noted(text="second"), expected_version=1)

    assert result.positions == (4,)
    everything = [r async for r in mine.read_all()]
    assert [(r.position, r.event.text) for r in everything] == [  # type: ignore[attr-defined]
        (1, "first"),
        (2, "b1"),
        (3, "b2"),
        (4, "second"),
    ]


async def test_stores_taking_turns_keep_positions_unique_and_in_commit_order(
    client: Any,
) -> None:
    stores = [MongoEventStore(client=client, database="app") for _ in range(3)]
    written = []
    for turn in range(12):
        store = stores[turn * 7 % 3]
        batch = [Noted(text=str(turn)) for _ in range(1 + turn % 3)]
        result = await store.append(f"s{turn % 4}", batch)
        written.extend(result.positions)

    everything = [r async for r in stores[0].read_all(page_size=5)]

    assert written == list(range(1, len(written) + 1))
    assert [r.position for r in everything] == written


async def test_each_append_is_one_document_holding_all_its_events(
    database: MongoDatabase,
) -> None:
    store = MongoEventStore(database)
    await store.append("order", [Noted(text="a"), Noted(text="b"), Noted(text="c")])

    documents = [d async for d in database.collection(EVENTS).find({})]

    assert len(documents) == 1
    assert documents[0]["_id"] == 1
    assert documents[0]["last_position"] == 3
    assert (documents[0]["first_version"], documents[0]["last_version"]) == (1, 3)
    assert [e["type_name"] for e in documents[0]["events"]] == ["victor.test.mongodb.Noted"] * 3


async def test_a_stream_read_from_the_middle_of_a_batch_starts_there(
    database: MongoDatabase,
) -> None:
    store = MongoEventStore(database)
    await store.append("s", [Noted(text=t) for t in "abcde"])
    await store.append("s", [Noted(text=t) for t in "fg"])

    assert texts(await store.read_stream("s", from_version=3, to_version=6)) == list("cdef")
    assert texts(await store.read_stream("s", from_version=4, limit=3)) == list("def")
    assert [r.event.text async for r in store.read_all(from_position=5, limit=2)] == ["e", "f"]  # type: ignore[attr-defined]


async def test_version_at_counts_up_to_the_first_later_event(database: MongoDatabase) -> None:
    store = MongoEventStore(database)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    moments = [start, start + timedelta(microseconds=1), start + timedelta(hours=1)]
    await store.append("s", [Noted(text="a", timestamp=moments[0])])
    await store.append(
        "s",
        [
            Noted(text="b", timestamp=moments[1]),
            Noted(text="c", timestamp=moments[2]),
            Noted(text="d", timestamp=moments[0]),  # earlier than c, but after it in the stream
        ],
    )

    assert await store.version_at("s", start - timedelta(microseconds=1)) == 0
    assert await store.version_at("s", start) == 1
    assert await store.version_at("s", moments[1]) == 2
    assert await store.version_at("s", moments[2]) == 4
    assert await store.version_at("s", datetime(2026, 3, 1, 3)) == 4  # naive means UTC
    assert await store.version_at("nobody", start) == 0
