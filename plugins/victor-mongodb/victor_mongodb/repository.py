"""``MongoRepository``: entities as documents in a MongoDB collection.

Each entity class gets a collection (named after ``__entity_name__`` or the class, or
``collection=``) holding one document per entity (see :mod:`victor_mongodb.documents`).
Specifications are compiled to MongoDB filters where that gives exactly Python's answer
(:mod:`victor_mongodb.filters`); declare ``indexes=["email", "address.city"]`` for
attributes queried or sorted by often, and they are created the first time the repository
is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from cattrs.preconf.json import JsonConverter

from victor_core import Entity
from victor_core.backend import (
    BackendURL,
    ConfigurationError,
    DocumentRepository,
    check_path,
    entity_name,
    record_fields,
)
from victor_mongodb.checkpoints import CHECKPOINTS, LEASES
from victor_mongodb.database import MongoDatabase
from victor_mongodb.document_store import SEQUENCES, MongoDocumentStore
from victor_mongodb.documents import check_field_names
from victor_mongodb.event_log import EVENTS
from victor_mongodb.filters import FilterCompiler, field_name
from victor_mongodb.settings import MongoSettings
from victor_mongodb.snapshots import SNAPSHOTS

E = TypeVar("E", bound=Entity)

_BAD_COLLECTION_NAME = re.compile(r"[$\x00]")
#: Collections victor keeps for itself in every database it uses.
_VICTORS_OWN = frozenset({EVENTS, SNAPSHOTS, CHECKPOINTS, LEASES, SEQUENCES})


Location = str | BackendURL | MongoSettings | MongoDatabase | None


class MongoRepository(DocumentRepository[E]):
    """A repository in a MongoDB collection: ``MongoRepository(User, "mongodb://host/app")``.

    The entity class is the first argument, or the subscript:
    ``MongoRepository[User]("mongodb://localhost:27017/app")``. The location is a URL (the
    repository opens and owns a client, lazily), ``client=`` and ``database=`` (a client
    the application holds, PyMongo async or Motor, which it keeps), or a
    :class:`MongoDatabase` shared with other components.

    *indexes* names attributes (dotted paths allowed) to index; *collection* overrides the
    collection name (by default the class's ``__entity_name__`` or name). Other keyword
    options go to :class:`pymongo.AsyncMongoClient`.
    """

    def __init__(
        self,
        *args: Any,
        client: Any = None,
        database: str | None = None,
        indexes: Iterable[str] = (),
        collection: str | None = None,
        converter: JsonConverter | None = None,
        **options: Any,
    ) -> None:
        given, location = _split_arguments(args)
        entity_type: type[E] = self.resolve_entity_type(given)
        check_field_names(entity_type.__qualname__, {f.name for f in record_fields(entity_type)})
        if isinstance(location, MongoDatabase):
            if client is not None or database is not None or options:
                raise ConfigurationError(
                    "connection options belong to the MongoDatabase that is being shared; "
                    "pass the MongoDatabase alone"
                )
            shared, owned = location, False
        else:
            shared = MongoDatabase(location, client=client, database=database, **options)
            owned = True
        if isinstance(indexes, str):
            indexes = [indexes]
        paths = [check_path(name) for name in indexes]
        for path in paths:
            field_name(path)
        name = check_collection_name(entity_name(entity_type) if collection is None else collection)
        self.database = shared
        self.collection = name
        self.indexes = tuple(".".join(path) for path in paths)
        store = MongoDocumentStore(
            shared, name, FilterCompiler(entity_type, converter), paths, owns_database=owned
        )
        super().__init__(entity_type, store, converter=converter)

    def __repr__(self) -> str:
        return (
            f"MongoRepository({self.entity_type.__qualname__}, {self.database.settings.shown!r}, "
            f"database={self.database.name!r}, collection={self.collection!r})"
        )


def check_collection_name(name: object) -> str:
    """*name* if MongoDB accepts it as a collection name for entities."""
    if (
        not isinstance(name, str)
        or not name
        or _BAD_COLLECTION_NAME.search(name)
        or name.startswith("system.")
        or name in _VICTORS_OWN
    ):
        raise ConfigurationError(
            f"{name!r} cannot be the collection of a repository: use a non-empty name without "
            "'$' or NUL, not starting with 'system.' and not one of victor's own collections"
        )
    return name


def _split_arguments(args: tuple[Any, ...]) -> tuple[type | None, Location]:
    if len(args) > 2:
        raise ConfigurationError(
            "MongoRepository takes the entity class and the database location, e.g. "
            f"MongoRepository(User, 'mongodb://localhost:27017/app'); got {len(args)} "
            "positional arguments"
        )
    given = args[0] if args and isinstance(args[0], type) else None
    rest = args[1:] if given is not None else args
    if len(rest) > 1:
        raise ConfigurationError(
            "MongoRepository takes one database location; pass the entity class first: "
            "MongoRepository(User, 'mongodb://localhost:27017/app')"
        )
    return given, rest[0] if rest else None
