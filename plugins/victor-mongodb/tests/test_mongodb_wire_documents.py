"""Entities and snapshots on the wire: whole replacements, all-or-nothing batches, bad values.

Through the real driver against a scripted server: the commands victor sends for an update
or a sorted query, what it does when a standalone server refuses a document in the middle of
a batch, and that a value BSON cannot hold is refused before anything is sent.
"""

from __future__ import annotations

import pytest

pytest.importorskip("mockupdb", reason="pip install 'victor-mongodb[fake]'")

from mongodb_doubles import Note
from scripted_server import ScriptedServer, cursor, document_invalid

from victor_core import BackendError, ConfigurationError, SerializationError, utc_now
from victor_core.backend import SnapshotRecord
from victor_mongodb import MongoEventStore, MongoRepository
from victor_mongodb.documents import POSITION

pytestmark = pytest.mark.asyncio

SIMPLE = {"locale": "simple"}
#: Over MongoDB's 16 MB document limit.
TOO_LARGE = "x" * (17 * 1024 * 1024)


async def test_an_update_replaces_the_whole_document_keeping_id_and_position(
    scripted: ScriptedServer,
) -> None:
    notes = MongoRepository(Note, scripted.url())
    scripted.script("find", cursor({"_id": "n1", POSITION: 7}))

    await notes.update(Note(id="n1", text="final"))

    (update,) = scripted.sent("update")
    (change,) = update["updates"]
    replacement = change["u"]
    assert not any(key.startswith("$") for key in replacement), replacement
    assert replacement["_id"] == "n1"
    assert replacement[POSITION] == 7
    assert replacement["text"] == "final"
    assert change["q"][POSITION] == {"$eq": 7}
    await notes.close()


async def test_a_standalone_batch_refused_in_the_middle_leaves_nothing_behind(
    scripted_standalone: ScriptedServer,
) -> None:
    notes = MongoRepository(Note, scripted_standalone.url())
    scripted_standalone.script(
        "findAndModify", {"ok": 1, "value": {"_id": "victor_test_notes", "last": 3}}
    )
    scripted_standalone.script("insert", document_invalid(index=1))

    with pytest.raises(BackendError, match="Document failed validation"):
        await notes.add_many([Note(id="n1"), Note(id="n2"), Note(id="n3")])

    (delete,) = scripted_standalone.sent("delete")
    (removal,) = delete["deletes"]
    assert removal["q"] == {"_id": {"$in": ["n1"]}, POSITION: {"$in": [1]}}
    assert scripted_standalone.sent("commitTransaction") == []
    await notes.close()


async def test_queries_compare_strings_byte_by_byte_and_may_sort_on_disk(
    scripted: ScriptedServer,
) -> None:
    notes = MongoRepository(Note, scripted.url())

    await notes.find(order_by="-text")
    await notes.count()
    await notes.find()

    finds = [c for c in scripted.sent("find") if c["find"] == "victor_test_notes"]
    sorted_find, in_order_added = finds
    assert next(iter(sorted_find["sort"].items())) == ("text", -1)
    assert sorted_find.get("allowDiskUse") is True
    assert "allowDiskUse" not in in_order_added  # sorted by an index, in memory or not
    assert all(c.get("collation") == SIMPLE for c in finds), finds
    counts = [c for c in scripted.sent("aggregate") if c["aggregate"] == "victor_test_notes"]
    assert counts
    assert all(c.get("collation") == SIMPLE for c in counts)
    await notes.close()


async def test_a_stream_is_read_with_the_simple_collation(scripted: ScriptedServer) -> None:
    store = MongoEventStore(scripted.url())

    assert await store.read_stream("book-1") == []

    finds = [c for c in scripted.sent("find") if c["find"] == "victor_events"]
    assert finds
    assert all(c.get("collation") == SIMPLE for c in finds), finds
    await store.close()


@pytest.mark.parametrize(
    "entity",
    [Note(id="\ud800"), Note(id="n1", text="\udfff"), Note(id="n1", labels={"\ud83d": "x"})],
    ids=["id", "field", "key"],
)
async def test_a_lone_surrogate_in_an_entity_is_refused_before_anything_is_sent(
    scripted: ScriptedServer, entity: Note
) -> None:
    notes = MongoRepository(Note, scripted.url())

    with pytest.raises((SerializationError, ConfigurationError), match="Unicode"):
        await notes.add(entity)

    assert [c for c in scripted.commands if c.get("insert") == "victor_test_notes"] == []
    await notes.close()


async def test_a_lone_surrogate_in_a_snapshot_is_refused_before_anything_is_sent(
    scripted: ScriptedServer,
) -> None:
    store = MongoEventStore(scripted.url())
    assert store.snapshots is not None

    with pytest.raises(SerializationError, match="not valid Unicode"):
        await store.snapshots.save_snapshot(
            SnapshotRecord("book-1", 1, "Notebook", "f", '"\ud800"', utc_now())
        )

    assert scripted.sent("update") == []
    await store.close()


async def test_an_entity_over_16_mb_is_refused_naming_entities(scripted: ScriptedServer) -> None:
    notes = MongoRepository(Note, scripted.url())

    with pytest.raises(ConfigurationError, match="16 MB") as raised:
        await notes.add(Note(id="big", text=TOO_LARGE))

    assert "an entity is stored as one document" in str(raised.value)
    assert "append" not in str(raised.value)
    await notes.close()


async def test_a_snapshot_over_16_mb_is_refused_naming_snapshots(
    scripted: ScriptedServer,
) -> None:
    store = MongoEventStore(scripted.url())
    assert store.snapshots is not None

    with pytest.raises(ConfigurationError, match="16 MB") as raised:
        await store.snapshots.save_snapshot(
            SnapshotRecord("book-1", 1, "Notebook", "f", f'"{TOO_LARGE}"', utc_now())
        )

    assert "a snapshot is stored as one document" in str(raised.value)
    await store.close()
