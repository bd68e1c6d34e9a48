"""The MongoDB storage backend of victor-core, on PyMongo's async API.

``open_event_store("mongodb://localhost:27017/app")`` or ``MongoEventStore(...)`` for
events; components on one database share a client through :class:`MongoDatabase`. A Motor
client the application already holds can be passed as ``client=``.
"""

from victor_mongodb.checkpoints import MongoCheckpointStore
from victor_mongodb.database import MongoDatabase
from victor_mongodb.repository import MongoRepository
from victor_mongodb.settings import MongoSettings
from victor_mongodb.store import MongoEventStore
from victor_mongodb.transactions import MongoTransactionManager

__all__ = [
    "MongoCheckpointStore",
    "MongoDatabase",
    "MongoEventStore",
    "MongoRepository",
    "MongoSettings",
    "MongoTransactionManager",
]
