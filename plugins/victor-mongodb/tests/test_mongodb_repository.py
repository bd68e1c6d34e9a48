"""What is specific to keeping entities as MongoDB documents: their shape, ids and indexes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from mongodb_doubles import FLAVOURS, Interleaving, Note, SessionRecording

from victor_core import Entity
from victor_core.backend import ConfigurationError, EntityAlreadyExists, SerializationError
from victor_mongodb import MongoDatabase, MongoRepository
from victor_mongodb.documents import POSITION
from victor_mongodb.testing import fake_client

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=FLAVOURS)
def database(request: pytest.FixtureRequest) -> MongoDatabase:
    return MongoDatabase(client=fake_client(request.param), database="app")


async def raw_documents(database: MongoDatabase, collection: str) -> list[dict[str, Any]]:
    return [d async for d in database.collection(collection).find({}).sort(POSITION, 1)]


async def test_an_entity_is_a_document_keyed_by_its_id(database: MongoDatabase) -> None:
    notes = MongoRepository(Note, database)
    await notes.add(Note(id="n1", text="hello", rank=2, labels={"team": "red"}))

    [stored] = await raw_documents(database, "victor_test_notes")

    assert stored["_id"] == "n1"
    assert "id" not in stored
    assert (stored["text"], stored["rank"], stored["labels"]) == ("hello", 2, {"team": "red"})
    assert stored[POSITION] == 1
    assert stored["created_at"].endswith("+00:00")


async def test_mapping_keys_mongodb_cannot_hold_are_escaped_and_come_back(
    database: MongoDatabase,
) -> None:
    notes = MongoRepository(Note, database)
    awkward = {"$set": "a", "a.b": "b", "100%": "c", "nul\x00": "d", "%24": "e"}
    await notes.add(Note(id="n1", labels=awkward, extra={"$where": {"x.y": [1, {"$in": 2}]}}))

    [stored] = await raw_documents(database, "victor_test_notes")
    back = await notes.get("n1")

    assert back is not None
    assert back.labels == awkward
    assert back.extra == {"$where": {"x.y": [1, {"$in": 2}]}}
    assert set(stored["labels"]) == {"%24set", "a%2Eb", "100%25", "nul%00", "%2524"}
    assert not any(key.startswith("$") for key in stored["extra"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [(2**64, "64-bit"), ({"deep": [-(2**63) - 1]}, "64-bit"), ("\ud800", "not valid Unicode")],
)
async def test_values_mongodb_cannot_store_are_refused_before_anything_is_written(
    database: MongoDatabase, extra: object, message: str
) -> None:
    notes = MongoRepository(Note, database)
    await notes.add(Note(id="kept", text="before"))

    with pytest.raises(SerializationError, match=message):
        await notes.add_many([Note(id="fine"), Note(id="bad", extra=extra)])
    with pytest.raises(SerializationError, match=message):
        await notes.update(Note(id="kept", text="after", extra=extra))

    assert [n.id for n in await notes.find()] == ["kept"]
    kept = await notes.get("kept")
    assert kept is not None
    assert kept.text == "before"


async def test_a_batch_whose_id_is_taken_during_the_insert_leaves_nothing_behind(
    database: MongoDatabase,
) -> None:
    notes = MongoRepository(Note, database)
    others = MongoRepository(Note, client=database.client, database="app")
    collection = database.collection

    async def someone_takes_n3() -> None:
        await others.add(Note(id="n3", text="theirs"))

    wrapped = Interleaving(collection("victor_test_notes"), "insert_many", someone_takes_n3)
    database.collection = lambda name, **options: (  # type: ignore[method-assign]
        wrapped if name == "victor_test_notes" else collection(name, **options)
    )

    with pytest.raises(EntityAlreadyExists, match="'n3'"):
        await notes.add_many([Note(id=f"n{i}", text="mine") for i in range(1, 6)])

    assert wrapped.calls == ["insert_many"]
    assert [(n.id, n.text) for n in await others.find()] == [("n3", "theirs")]


async def test_declared_indexes_are_created_once_on_first_use(database: MongoDatabase) -> None:
    notes = MongoRepository(Note, database, indexes=["text", "labels.team"])
    calls: list[tuple[str, str, object]] = []
    collection = database.collection
    database.collection = lambda name, **options: SessionRecording(  # type: ignore[method-assign]
        collection(name, **options), name, calls
    )
    existing = await database.client.get_database("app").list_collection_names()
    assert "victor_test_notes" not in existing

    await notes.add(Note(id="n1"))
    await notes.count()
    await notes.find()
    indexes = await collection("victor_test_notes").index_information()

    assert [call for call in calls if call[1] == "create_indexes"] == [
        ("victor_test_notes", "create_indexes", None)
    ]
    assert sorted(tuple(tuple(pair) for pair in index["key"]) for index in indexes.values()) == [
        (("_id", 1),),
        (("_victor_position", 1),),
        (("labels.team", 1), ("_id", 1)),
        (("text", 1), ("_id", 1)),
    ]


async def test_entity_classes_that_use_the_documents_own_fields_are_refused() -> None:
    @dataclasses.dataclass
    class Clash(Entity):
        _victor_position: int = 0

    with pytest.raises(ConfigurationError, match="_victor_position"):
        MongoRepository(Clash, client=fake_client(), database="app")


async def test_the_collection_can_be_named(database: MongoDatabase) -> None:
    notes = MongoRepository[Note](database, collection="archive")
    await notes.add(Note(id="n1"))

    assert [d["_id"] for d in await raw_documents(database, "archive")] == ["n1"]
    assert repr(notes).endswith("collection='archive')")
