"""The hook implementations that make this package the ``mongodb`` backend."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from victor_core.backend import (
    BackendInfo,
    BackendURL,
    ConfigurationError,
    ContractInstance,
    EventSerializer,
    hookimpl,
)
from victor_mongodb.capabilities import DECLARED
from victor_mongodb.contract import contract_instance
from victor_mongodb.database import MongoDatabase
from victor_mongodb.repository import MongoRepository
from victor_mongodb.settings import SCHEMES
from victor_mongodb.store import MongoEventStore
from victor_mongodb.transactions import MongoTransactionManager

#: Options a repository reads itself; the others configure the connection.
REPOSITORY_OPTIONS = ("indexes", "collection", "converter")


@hookimpl
def victor_backend_info() -> BackendInfo:
    return BackendInfo(
        name="mongodb",
        version=version("victor-mongodb"),
        url_schemes=SCHEMES,
        capabilities=DECLARED,
        description="MongoDB on PyMongo's async API (or a Motor client passed in); one "
        "document per append, transactions on replica sets.",
    )


@hookimpl
def victor_create_event_store(url: BackendURL, options: Mapping[str, Any]) -> MongoEventStore:
    serializer = options.get("serializer")
    if serializer is not None and not isinstance(serializer, EventSerializer):
        raise ConfigurationError(
            "the 'serializer' option must be a victor_core.backend.EventSerializer"
        )
    connection = {k: v for k, v in options.items() if k != "serializer"}
    return MongoEventStore(url, serializer=serializer, **connection)


@hookimpl
def victor_contract_instance(workdir: Path) -> ContractInstance:
    return contract_instance()


@hookimpl
def victor_create_repository(
    url: BackendURL, entity_type: type, options: Mapping[str, Any]
) -> MongoRepository[Any]:
    repository = {name: options[name] for name in REPOSITORY_OPTIONS if name in options}
    connection = {k: v for k, v in options.items() if k not in REPOSITORY_OPTIONS}
    indexes = repository.pop("indexes", ())
    if isinstance(indexes, str):  # from a URL: ?indexes=email,address.city
        indexes = [name.strip() for name in indexes.split(",") if name.strip()]
    return MongoRepository(entity_type, url, indexes=indexes, **repository, **connection)


@hookimpl
def victor_transaction_manager(resource: object) -> MongoTransactionManager | None:
    database = getattr(resource, "database", resource)
    if isinstance(database, MongoDatabase):
        return MongoTransactionManager(database)
    return None
