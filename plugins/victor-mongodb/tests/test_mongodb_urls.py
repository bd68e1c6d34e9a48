"""Which server, database and client a ``mongodb://`` URL and keyword options select."""

from __future__ import annotations

import pymongo
import pytest
from mongodb_doubles import Note

from victor_core import open_event_store, open_repository
from victor_core.backend import ConfigurationError
from victor_mongodb import MongoDatabase, MongoEventStore, MongoRepository, MongoSettings
from victor_mongodb.testing import fake_client


@pytest.mark.parametrize(
    ("url", "options", "database"),
    [
        ("mongodb://localhost:27017/app", {}, "app"),
        ("mongodb://localhost/app?replicaSet=rs0", {}, "app"),
        ("mongodb://localhost:27017/?database=orders", {}, "orders"),
        ("mongodb://localhost:27017", {"database": "orders"}, "orders"),
        ("mongodb://localhost:27017/app", {"database": "other"}, "other"),
        ("mongodb://a:27017,b:27018/app?replicaSet=rs0", {}, "app"),
        ("mongodb+srv://cluster0.example.net/app?retryWrites=true", {}, "app"),
        ("mongodb://user:p%40ss@localhost/app?authSource=admin", {}, "app"),
    ],
)
def test_the_database_comes_from_the_path_or_the_database_option(
    url: str, options: dict[str, str], database: str
) -> None:
    assert MongoSettings.from_url(url, options).database == database


def test_victors_own_options_are_not_passed_to_the_driver() -> None:
    settings = MongoSettings.from_url(
        "mongodb://localhost:27017/?database=orders&replicaSet=rs0&w=majority", {}
    )

    assert settings.uri == "mongodb://localhost:27017/?replicaSet=rs0&w=majority"
    assert settings.driver_options == {}


def test_keyword_options_go_to_the_driver_and_override_the_url() -> None:
    settings = MongoSettings.from_url(
        "mongodb://localhost/app?serverSelectionTimeoutMS=100",
        {"serverSelectionTimeoutMS": 2500, "appname": "billing"},
    )
    store = MongoEventStore(settings)

    assert settings.driver_options == {"serverSelectionTimeoutMS": 2500, "appname": "billing"}
    assert store.database.client.options.server_selection_timeout == 2.5
    assert store.database.client.options.pool_options.metadata["application"] == {"name": "billing"}


def test_options_in_the_url_reach_the_driver() -> None:
    store = open_event_store("mongodb://localhost/app?replicaSet=rs0&appname=shop")

    assert isinstance(store, MongoEventStore)
    assert store.database.client.options.replica_set_name == "rs0"
    assert store.database.name == "app"


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("mongodb://localhost:27017", {}, "names no database"),
        ("mongodb://localhost:27017/", {}, "names no database"),
        ("mongodb:///app", {}, "names no server"),
        ("mongodb://", {"database": "app"}, "names no server"),
        ("mongodb://localhost/my.app", {}, "not a MongoDB database name"),
        ("mongodb://localhost/a$b", {}, "not a MongoDB database name"),
        ("mongodb://localhost", {"database": "x" * 64}, "not a MongoDB database name"),
        ("mongodb://localhost", {"database": ""}, "not a MongoDB database name"),
        ("mongodb://localhost/app", {"databse": "typo"}, "databse"),
        ("mongodb://localhost/app", {"serverSelectionTimeoutMS": "soon"}, "serverSelection"),
        ("sqlite:///app.db", {}, "not a MongoDB URL"),
    ],
)
def test_urls_that_cannot_work_are_refused_with_what_to_write(
    url: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        MongoDatabase(url, **options)


def test_a_password_never_appears_in_messages() -> None:
    with pytest.raises(ConfigurationError) as refused:
        MongoDatabase("mongodb://admin:s3cret@localhost:27017")

    assert "s3cret" not in str(refused.value)
    assert "admin:***@localhost" in str(refused.value)
    store = MongoEventStore("mongodb://admin:s3cret@localhost:27017/app")
    assert "s3cret" not in repr(store)


def test_a_client_passed_in_is_used_with_the_database_named() -> None:
    client = fake_client()

    by_url = open_event_store("mongodb://", client=client, database="app")
    by_path = open_event_store("mongodb:///app", client=client)
    by_class = MongoEventStore(client=client, database="app")
    repository = open_repository("mongodb://", Note, client=client, database="app")

    for store in (by_url, by_path, by_class):
        assert isinstance(store, MongoEventStore)
        assert store.database.client is client
        assert store.database.name == "app"
    assert isinstance(repository, MongoRepository)
    assert repository.database.client is client


def test_a_client_with_a_default_database_needs_no_database_option() -> None:
    client = pymongo.AsyncMongoClient("mongodb://localhost:27017/inventory", connect=False)

    store = MongoEventStore(client=client)

    assert store.database.name == "inventory"


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("mongodb://localhost:27017/app", {}, "names a server and client= was passed"),
        ("mongodb://", {"database": "app", "w": "majority"}, "configure the client"),
        ("mongodb://", {}, "name the database"),
    ],
)
def test_a_client_passed_in_cannot_be_combined_with_connection_settings(
    url: str, options: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        MongoDatabase(url, client=fake_client(), **options)


def test_a_synchronous_client_or_something_else_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"synchronous pymongo\.MongoClient"):
        MongoEventStore(client=pymongo.MongoClient(connect=False), database="app")
    with pytest.raises(ConfigurationError, match="AsyncMongoClient or a Motor"):
        MongoEventStore(client="mongodb://localhost", database="app")


def test_a_repository_takes_its_collection_and_indexes_from_the_url() -> None:
    repository = open_repository("mongodb://localhost/app?indexes=text,rank&collection=notes", Note)

    assert isinstance(repository, MongoRepository)
    assert repository.collection == "notes"
    assert repository.indexes == ("text", "rank")
    assert repository.database.settings.uri == "mongodb://localhost/app"


@pytest.mark.parametrize("collection", ["", "a$b", "system.users", "victor_events"])
def test_collection_names_mongodb_or_victor_would_trip_on_are_refused(collection: str) -> None:
    with pytest.raises(ConfigurationError, match="collection"):
        MongoRepository(Note, client=fake_client(), database="app", collection=collection)
