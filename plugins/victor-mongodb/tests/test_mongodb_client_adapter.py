"""PyMongo async and Motor clients differ in where ``await`` goes; the adapter hides that."""

from __future__ import annotations

from typing import Any

import pymongo
import pytest
from mongodb_doubles import FLAVOURS, Noted

from victor_core.backend import ConfigurationError
from victor_mongodb import MongoDatabase, MongoEventStore
from victor_mongodb.client import ClientAdapter, Flavour, flavour_of
from victor_mongodb.testing import fake_client


def test_each_client_is_recognised() -> None:
    assert flavour_of(pymongo.AsyncMongoClient(connect=False)) is Flavour.PYMONGO
    assert flavour_of(fake_client("pymongo")) is Flavour.PYMONGO
    assert flavour_of(fake_client("motor")) is Flavour.MOTOR


def test_an_unknown_fake_flavour_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"'pymongo'.*'motor'"):
        fake_client("mongoengine")


@pytest.mark.asyncio
@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_aggregate_gives_the_documents_with_either_client(flavour: str) -> None:
    adapter = ClientAdapter(fake_client(flavour), owned=False)
    collection = adapter.database("app").get_collection("numbers")
    await collection.insert_many([{"n": n} for n in range(5)])

    found = await adapter.aggregate(
        collection, [{"$match": {"n": {"$gte": 2}}}, {"$sort": {"n": -1}}]
    )

    assert [document["n"] for document in found] == [4, 3, 2]


class RecordingSession:
    """A session of either shape: PyMongo's async API or Motor's."""

    def __init__(self, calls: list[str], motor: bool) -> None:
        self.calls = calls
        self.motor = motor

    def _call(self, name: str, awaited: bool) -> Any:
        self.calls.append(name)
        if not awaited:
            return None

        async def done() -> None:
            return None

        return done()

    def start_transaction(self) -> Any:
        # Motor: a plain call; PyMongo async: a coroutine.
        return self._call("start_transaction", awaited=not self.motor)

    def commit_transaction(self) -> Any:
        return self._call("commit_transaction", awaited=True)

    def abort_transaction(self) -> Any:
        return self._call("abort_transaction", awaited=True)

    def end_session(self) -> Any:
        return self._call("end_session", awaited=True)


class RecordingClient:
    """A client of either shape that records the calls victor makes."""

    def __init__(self, motor: bool) -> None:
        self.motor = motor
        self.calls: list[str] = []

    def get_database(self, name: str) -> Any:
        return fake_client().get_database(name)

    def start_session(self) -> Any:
        self.calls.append("start_session")
        session = RecordingSession(self.calls, self.motor)
        if not self.motor:
            return session

        async def started() -> RecordingSession:
            return session

        return started()

    def close(self) -> Any:
        self.calls.append("close")
        if self.motor:
            return None

        async def closed() -> None:
            return None

        return closed()


@pytest.mark.asyncio
@pytest.mark.parametrize("motor", [False, True], ids=["pymongo", "motor"])
async def test_a_transaction_commits_on_success_and_aborts_on_error(motor: bool) -> None:
    client = RecordingClient(motor)
    adapter = ClientAdapter(client, owned=True)

    async with adapter.transaction():
        pass
    with pytest.raises(KeyError):
        async with adapter.transaction():
            raise KeyError("boom")

    assert client.calls == [
        *("start_session", "start_transaction", "commit_transaction", "end_session"),
        *("start_session", "start_transaction", "abort_transaction", "end_session"),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("motor", [False, True], ids=["pymongo", "motor"])
async def test_only_a_client_victor_opened_is_closed(motor: bool) -> None:
    mine, theirs = RecordingClient(motor), RecordingClient(motor)

    await ClientAdapter(mine, owned=True).close()
    await ClientAdapter(theirs, owned=False).close()

    assert mine.calls == ["close"]
    assert theirs.calls == []


@pytest.mark.asyncio
@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_closing_a_store_leaves_a_client_passed_in_usable(flavour: str) -> None:
    client = fake_client(flavour)
    database = MongoDatabase(client=client, database="app")
    store = MongoEventStore(database)
    await store.append("s", Noted(text="kept"))

    await store.close()
    await database.close()
    again = MongoEventStore(client=client, database="app")

    [kept] = await again.read_stream("s")
    assert kept.event == Noted(
        text="kept", id=kept.event.id, timestamp=kept.event.timestamp, aggregate_id="s"
    )
