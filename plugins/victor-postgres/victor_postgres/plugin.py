"""The hook implementations that make this package the ``postgres`` backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import version
from typing import Any

import asyncpg
import attrs

from victor_core.backend import (
    BackendInfo,
    BackendURL,
    Capability,
    ConfigurationError,
    ContractInstance,
    EventSerializer,
    StorageSchema,
    hookimpl,
)
from victor_postgres.checkpoints import CHECKPOINTS, LEASES
from victor_postgres.database import PostgresDatabase
from victor_postgres.event_log import EVENTS
from victor_postgres.provisioning import (
    create_database,
    database_url,
    drop_database,
    drop_schema,
    unique_name,
)
from victor_postgres.raw import PostgresRawStorage
from victor_postgres.repository import PostgresRepository
from victor_postgres.schema import ensure_part_in, script
from victor_postgres.settings import SCHEMES, SETTING_NAMES, PostgresSettings
from victor_postgres.snapshots import SNAPSHOTS
from victor_postgres.store import PostgresEventStore
from victor_postgres.transactions import PostgresTransactionManager, database_of

_STORE_OPTIONS = ("serializer", "notify", "catch_up_wait")


@hookimpl
def victor_backend_info() -> BackendInfo:
    return BackendInfo(
        name="postgres",
        version=version("victor-postgres"),
        url_schemes=SCHEMES,
        capabilities={
            Capability.EVENT_STORE,
            Capability.GLOBAL_ORDER,
            Capability.DURABILITY,
            Capability.MULTI_PROCESS,
            Capability.SNAPSHOTS,
            Capability.CHECKPOINTS,
            Capability.REPOSITORY,
            Capability.SPECIFICATION_PUSHDOWN,
            Capability.TRANSACTIONS,
            Capability.SUBSCRIPTIONS,
            Capability.CHECKPOINT_LEASES,
            Capability.CONCURRENT_APPENDS,
            Capability.EXACTLY_ONCE,
        },
        description="A PostgreSQL server on asyncpg: a connection pool, appends to different "
        "streams in parallel, a global order no reader can skip through.",
    )


def _notify(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"notify={value!r} is not true or false")


@hookimpl
def victor_create_event_store(url: BackendURL, options: Mapping[str, Any]) -> PostgresEventStore:
    settings_options = {k: v for k, v in options.items() if k not in _STORE_OPTIONS}
    unknown = sorted(set(settings_options) - set(SETTING_NAMES))
    if unknown:
        raise ConfigurationError(
            f"the postgres backend takes no option {', '.join(unknown)}; it accepts "
            f"{', '.join((*SETTING_NAMES, *_STORE_OPTIONS))}"
        )
    serializer = options.get("serializer")
    if serializer is not None and not isinstance(serializer, EventSerializer):
        raise ConfigurationError(
            "the 'serializer' option must be a victor_core.backend.EventSerializer"
        )
    notify = _notify(options.get("notify", url.options.get("notify", True)))
    query = tuple((k, v) for k, v in url.query if k not in _STORE_OPTIONS)
    connection_url = attrs.evolve(url, query=query)
    settings = PostgresSettings.from_url(connection_url, settings_options)
    wait = options.get("catch_up_wait", url.options.get("catch_up_wait", 1.0))
    try:
        seconds = float(wait)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"catch_up_wait={wait!r} is not a number of seconds >= 0"
        ) from None
    return PostgresEventStore(settings, serializer=serializer, notify=notify, catch_up_wait=seconds)


@hookimpl
def victor_create_repository(
    url: BackendURL, entity_type: type, options: Mapping[str, Any]
) -> PostgresRepository[Any]:
    repository_options = ("indexes", "table", "converter")
    settings_options = {k: v for k, v in options.items() if k not in repository_options}
    for name in _STORE_OPTIONS:
        settings_options.pop(name, None)
    unknown = sorted(set(settings_options) - set(SETTING_NAMES))
    if unknown:
        raise ConfigurationError(
            f"the postgres backend's repositories take no option {', '.join(unknown)}; they "
            f"accept {', '.join((*SETTING_NAMES, *repository_options))}"
        )
    indexes = options.get("indexes", ())
    if isinstance(indexes, str):  # from a URL: ?indexes=email,address.city
        indexes = [name.strip() for name in indexes.split(",") if name.strip()]
    skipped = (*repository_options, *_STORE_OPTIONS)
    connection_url = attrs.evolve(
        url, query=tuple((k, v) for k, v in url.query if k not in skipped)
    )
    return PostgresRepository(
        entity_type,
        PostgresSettings.from_url(connection_url, settings_options),
        indexes=indexes,
        table=options.get("table"),
        converter=options.get("converter"),
    )


@hookimpl
def victor_transaction_manager(resource: object) -> PostgresTransactionManager | None:
    database = database_of(resource)
    return None if database is None else PostgresTransactionManager(database)


@hookimpl
def victor_contract_provision(collation: str | None) -> AbstractAsyncContextManager[Any]:
    return _run_database(collation)


@asynccontextmanager
async def _run_database(collation: str | None) -> AsyncIterator[tuple[str, str | None]]:
    """A database for one contract-suite run (a schema of it per test), dropped at its end."""
    name = unique_name("victor_contract")
    made_under = await create_database(name, collation=collation)
    try:
        yield database_url(name), made_under
    finally:
        await drop_database(name)


@hookimpl
def victor_contract_instance(provisioned: tuple[str, str | None]) -> ContractInstance:
    url, collation = provisioned
    schema = unique_name("contract")

    async def cleanup() -> None:
        await drop_schema(url, schema)

    @asynccontextmanager
    async def contention() -> AsyncIterator[dict[str, Any]]:
        # Another session holding a lock that every append needs, as a long writer would.
        holder = await asyncpg.connect(url, server_settings={"search_path": schema})
        try:
            await ensure_part_in(holder, EVENTS, "the contract database", schema)
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute("LOCK TABLE victor_events IN EXCLUSIVE MODE")
            yield {"lock_timeout": 0.05}
        finally:
            await holder.close()

    return ContractInstance(
        url=f"{url}?schema={schema}",
        cleanup=cleanup,
        collation=collation,
        unreachable_url="postgresql://postgres@127.0.0.1:1/victor?connect_timeout=2",
        contention=contention,
        raw=PostgresRawStorage(url, schema),
    )


@hookimpl
def victor_schema(url: BackendURL, options: Mapping[str, Any]) -> StorageSchema:
    query = tuple((k, v) for k, v in url.query if k not in _STORE_OPTIONS)
    settings_options = {k: v for k, v in options.items() if k not in _STORE_OPTIONS}
    settings = PostgresSettings.from_url(attrs.evolve(url, query=query), settings_options)
    parts = (EVENTS, SNAPSHOTS, CHECKPOINTS, LEASES)

    async def apply() -> None:
        async with PostgresDatabase(settings) as database:
            for part in parts:
                await database.ensure(part)

    return StorageSchema(script=script(parts, settings.schema), apply=apply)
