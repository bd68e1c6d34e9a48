"""Write and read concerns, read preferences and unknown outcomes, through the real driver.

Each test connects ``pymongo.AsyncMongoClient`` to a scripted server and checks the commands
victor sends (``writeConcern``, ``readConcern``, ``$readPreference``) or what it makes of a
reply a real deployment gives under failure.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("mockupdb", reason="pip install 'victor-mongodb[fake]'")

from mongodb_doubles import Note, Noted
from scripted_server import (
    HANG_UP,
    WRITE_CONCERN_TIMEOUT,
    ScriptedServer,
    cursor,
    duplicate_key,
)

from victor_core import BackendError, BackendUnavailable, ConfigurationError
from victor_core.backend import Capability
from victor_mongodb import MongoEventStore, MongoRepository
from victor_mongodb.capabilities import server_capabilities

pytestmark = pytest.mark.asyncio

MAJORITY_JOURNALED = {"w": "majority", "j": True}


def mode(command: dict[str, Any]) -> str:
    """The read preference a command carries (the driver leaves out "primary")."""
    return str(command.get("$readPreference", {}).get("mode", "primary"))


async def test_victors_writes_are_majority_and_journaled_by_default(
    scripted: ScriptedServer,
) -> None:
    store = MongoEventStore(scripted.url())
    notes = MongoRepository(Note, store.database)

    await store.append("book-1", Noted(text="first"))
    await notes.add(Note(id="n1"))

    writes = scripted.sent("insert") + scripted.sent("findAndModify")
    assert writes
    assert all(c.get("writeConcern") == MAJORITY_JOURNALED for c in writes), writes
    await store.close()


async def test_a_write_concern_the_url_names_is_kept(scripted: ScriptedServer) -> None:
    store = MongoEventStore(scripted.url(w="2", wtimeoutMS="5000"))

    await store.append("book-1", Noted(text="first"))

    assert scripted.sent("insert")[0]["writeConcern"] == {"w": 2, "wtimeout": 5000}
    await store.close()


@pytest.mark.parametrize("url_option", [{"w": "0"}, {"w": "0", "journal": "false"}])
async def test_unacknowledged_writes_are_refused_before_anything_is_sent(
    scripted: ScriptedServer, url_option: dict[str, str]
) -> None:
    with pytest.raises(ConfigurationError, match="unacknowledged writes"):
        MongoEventStore(scripted.url(**url_option))

    assert scripted.commands == []


async def test_read_all_reads_only_what_a_majority_has(scripted: ScriptedServer) -> None:
    store = MongoEventStore(scripted.url())

    assert [record async for record in store.read_all()] == []

    finds = [c for c in scripted.sent("find") if c["find"] == "victor_events"]
    assert finds
    assert all(c.get("readConcern") == {"level": "majority"} for c in finds), finds
    await store.close()


async def test_a_secondary_read_preference_does_not_reach_the_appenders_reads(
    scripted: ScriptedServer,
) -> None:
    """A lagging secondary shows an old head; the primary has commits up to position 5."""
    head = {"_id": 5, "last_position": 5}

    def find(command: dict[str, Any]) -> dict[str, Any]:
        if "stream_id" in command["filter"] or mode(command) != "primary":
            return cursor()  # the stream is new; a secondary has not seen anything yet
        return cursor(head)

    def insert(command: dict[str, Any]) -> dict[str, Any]:
        taken = command["documents"][0]["_id"] <= head["_id"]
        return duplicate_key() if taken else {"ok": 1, "n": 1}

    scripted.always("find", find)
    scripted.always("insert", insert)
    store = MongoEventStore(scripted.url(readPreference="secondaryPreferred"))

    result = await store.append("book-1", Noted(text="first"))

    assert result.positions == (6,)
    appender_reads = [c for c in scripted.sent("find") if c["find"] == "victor_events"]
    # The stream's version, the event ids it holds already, the last position.
    assert [mode(c) for c in appender_reads] == ["primary", "primary", "primary"]
    assert len(scripted.sent("insert")) == 1
    await store.close()


async def test_a_write_concern_timeout_is_an_unknown_outcome(scripted: ScriptedServer) -> None:
    store = MongoEventStore(scripted.url())
    scripted.script("insert", WRITE_CONCERN_TIMEOUT)

    with pytest.raises(BackendError, match="outcome unknown: reread before retrying"):
        await store.append("book-1", Noted(text="first"))

    await store.close()


async def test_a_connection_lost_after_sending_a_write_is_an_unknown_outcome(
    scripted: ScriptedServer,
) -> None:
    notes = MongoRepository(Note, scripted.url())
    await notes.count()  # connected
    scripted.script("insert", HANG_UP, HANG_UP)  # the driver retries a write once

    with pytest.raises(BackendError, match="outcome unknown: reread before retrying"):
        await notes.add(Note(id="n1"))

    await notes.close()


async def test_an_unreachable_server_is_not_an_unknown_outcome() -> None:
    store = MongoEventStore("mongodb://localhost:1/app?serverSelectionTimeoutMS=100")

    with pytest.raises(BackendUnavailable, match="could not be reached") as raised:
        await store.append("book-1", Noted(text="first"))

    assert "outcome unknown" not in str(raised.value)
    await store.close()


async def test_durability_is_declared_only_for_journaled_write_concerns(
    scripted: ScriptedServer, scripted_standalone: ScriptedServer
) -> None:
    assert Capability.DURABILITY in server_capabilities(scripted.url())
    assert Capability.DURABILITY in server_capabilities(scripted_standalone.url())
    assert Capability.DURABILITY in server_capabilities(scripted.url(w="majority"))
    unjournaled = server_capabilities(scripted_standalone.url(w="1"))
    assert Capability.DURABILITY not in unjournaled
    assert Capability.DURABILITY not in server_capabilities(scripted.url(journal="false"))
    assert Capability.TRANSACTIONS in server_capabilities(scripted.url())
    assert Capability.TRANSACTIONS not in unjournaled
