"""The hook implementations that make this package the ``sqlite`` backend."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import attrs

from victor_core.backend import (
    BackendInfo,
    BackendURL,
    ConfigurationError,
    ContractInstance,
    EventSerializer,
    StorageSchema,
    hookimpl,
)
from victor_sqlite.checkpoints import CHECKPOINTS, LEASES
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.event_log import EVENTS
from victor_sqlite.raw import SQLiteRawStorage
from victor_sqlite.repository import SQLiteRepository
from victor_sqlite.schema import APPLICATION_ID
from victor_sqlite.settings import DECLARED, SETTING_NAMES, SQLiteSettings
from victor_sqlite.snapshots import SNAPSHOTS
from victor_sqlite.store import SQLiteEventStore
from victor_sqlite.transactions import SQLiteTransactionManager, database_of


@hookimpl
def victor_backend_info() -> BackendInfo:
    return BackendInfo(
        name="sqlite",
        version=version("victor-sqlite"),
        url_schemes=("sqlite", "sqlite+aiosqlite"),
        capabilities=DECLARED,
        description="An SQLite file on aiosqlite: durable (WAL, synchronous=FULL), "
        "shared safely by several processes.",
    )


@hookimpl
def victor_create_event_store(url: BackendURL, options: Mapping[str, Any]) -> SQLiteEventStore:
    settings_options = {k: v for k, v in options.items() if k != "serializer"}
    unknown = sorted(set(settings_options) - set(SETTING_NAMES))
    if unknown:
        raise ConfigurationError(
            f"the sqlite backend takes no option {', '.join(unknown)}; it accepts "
            f"{', '.join((*SETTING_NAMES, 'serializer'))}"
        )
    serializer = options.get("serializer")
    if serializer is not None and not isinstance(serializer, EventSerializer):
        raise ConfigurationError(
            "the 'serializer' option must be a victor_core.backend.EventSerializer"
        )
    settings = SQLiteSettings.from_url(url, settings_options)
    return SQLiteEventStore(settings, serializer=serializer)


@hookimpl
def victor_create_repository(
    url: BackendURL, entity_type: type, options: Mapping[str, Any]
) -> SQLiteRepository[Any]:
    repository_options = ("indexes", "table", "converter")
    settings_options = {k: v for k, v in options.items() if k not in repository_options}
    unknown = sorted(set(settings_options) - set(SETTING_NAMES))
    if unknown:
        raise ConfigurationError(
            f"the sqlite backend's repositories take no option {', '.join(unknown)}; they "
            f"accept {', '.join((*SETTING_NAMES, *repository_options))}"
        )
    indexes = options.get("indexes", ())
    if isinstance(indexes, str):  # from a URL: ?indexes=email,address.city
        indexes = [name.strip() for name in indexes.split(",") if name.strip()]
    # The URL's query string may carry repository options too; the settings take the rest.
    connection_url = attrs.evolve(
        url, query=tuple((k, v) for k, v in url.query if k not in repository_options)
    )
    return SQLiteRepository(
        entity_type,
        SQLiteSettings.from_url(connection_url, settings_options),
        indexes=indexes,
        table=options.get("table"),
        converter=options.get("converter"),
    )


@hookimpl
def victor_transaction_manager(resource: object) -> SQLiteTransactionManager | None:
    database = database_of(resource)
    return None if database is None else SQLiteTransactionManager(database)


#: Settings for the contract suite's databases, as a URL query (``synchronous=NORMAL``).
OPTIONS_VARIABLE = "VICTOR_SQLITE_OPTIONS"


@hookimpl
def victor_contract_instance(workdir: Path) -> ContractInstance:
    """A new file in *workdir*, opened with the settings ``VICTOR_SQLITE_OPTIONS`` names.

    The instance names what those settings guarantee, so the suite skips the durability
    tests for a file opened with ``synchronous=OFF`` instead of holding it to them.
    """
    path = (workdir / "events.db").resolve()
    query = os.environ.get(OPTIONS_VARIABLE, "").strip().lstrip("?")
    url = f"sqlite:///{path.as_posix()}" + (f"?{query}" if query else "")

    @contextlib.asynccontextmanager
    async def contention() -> AsyncIterator[dict[str, Any]]:
        # Another connection holding the write lock, as a second process writing would.
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield {"busy_timeout": 0.05}
        finally:
            holder.close()

    capabilities = SQLiteSettings.from_url(url, {}).capabilities
    return ContractInstance(
        url=url, contention=contention, capabilities=capabilities, raw=SQLiteRawStorage(path)
    )


@hookimpl
def victor_schema(url: BackendURL, options: Mapping[str, Any]) -> StorageSchema:
    settings = SQLiteSettings.from_url(url, options)
    parts = (EVENTS, SNAPSHOTS, CHECKPOINTS, LEASES)
    lines = [
        f"PRAGMA application_id = {APPLICATION_ID};",
        "BEGIN IMMEDIATE;",
        "CREATE TABLE victor_schema (part TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        " WITHOUT ROWID;",
    ]
    for part in parts:
        lines += [" ".join(statement.split()) + ";" for statement in part.statements]
        lines.append(
            f"INSERT INTO victor_schema (part, version) VALUES ('{part.name}', {part.version});"
        )
    lines.append("COMMIT;")

    async def apply() -> None:
        async with SQLiteDatabase(settings) as database:
            for part in parts:
                await database.ensure(part)

    return StorageSchema(script="\n".join(lines) + "\n", apply=apply)
