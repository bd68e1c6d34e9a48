"""``PostgresRepository``: entities as JSONB documents in a PostgreSQL table.

Each entity class gets a table (named after ``__entity_name__`` or the class, or ``table=``)
with the entity's id, its position in the order of adding, and the document the shared
converter makes of it, as JSONB. Specifications are compiled to SQL over the document where
that gives exactly Python's answer (:mod:`victor_postgres.spec_compiler`); declare
``indexes=["email", "address.city"]`` for attributes queried often, and PostgreSQL answers
those queries from an index.

The ``*_in`` functions take an :class:`asyncpg.Connection` and can run in a larger
transaction, such as a unit of work's.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from cattrs.preconf.json import JsonConverter

from victor_core import Entity
from victor_core.backend import (
    BaseSpecification,
    ConfigurationError,
    DocumentQuery,
    DocumentRepository,
    DocumentStore,
    Expression,
    NewDocument,
    OrderKey,
    Pushdown,
    StoredDocument,
    VersionCheck,
    check_path,
    entity_name,
)
from victor_postgres.database import Connection, PostgresDatabase
from victor_postgres.schema import SchemaPart
from victor_postgres.settings import PostgresSettings
from victor_postgres.spec_compiler import (
    SpecificationCompiler,
    as_jsonb,
    index_expressions,
    json_path,
    quote_name,
)

if TYPE_CHECKING:
    from victor_postgres.transactions import PostgresTransactionManager

E = TypeVar("E", bound=Entity)

#: How many rows one query fetches when documents are read in position order.
CHUNK_SIZE = 1000


def entity_part(table: str) -> SchemaPart:
    """The schema part holding the entities of *table*."""
    return SchemaPart(
        name=f"entities:{table}",
        version=1,
        statements=(
            f"CREATE TABLE {quote_name(table)} ("
            " position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            ' id text COLLATE "C" NOT NULL UNIQUE,'
            " document jsonb NOT NULL)",
        ),
    )


def index_statements(table: str, path: tuple[str, ...], expressions: Sequence[str]) -> list[str]:
    """``CREATE INDEX`` on each expression of the attribute at *path*, with id for sorting."""
    statements = []
    for number, expression in enumerate(expressions):
        index = quote_name(f"{table}__{'__'.join(path)}__{number}")
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {index} ON {quote_name(table)} ({expression}, id)"
        )
    return statements


class _Taken(Exception):
    def __init__(self, entity_id: str) -> None:
        self.entity_id = entity_id


async def insert_in(connection: Connection, table: str, documents: Sequence[NewDocument]) -> None:
    """Insert *documents*; raise ``_Taken`` (with nothing inserted) when an id is taken."""
    seen: set[str] = set()
    for new in documents:
        if new.entity_id in seen:
            raise _Taken(new.entity_id)
        seen.add(new.entity_id)
    sql = (
        f"INSERT INTO {quote_name(table)} (id, document)"
        " SELECT d.id, d.document::jsonb FROM unnest($1::text[], $2::text[])"
        " WITH ORDINALITY AS d(id, document, n) ORDER BY d.n"
    )
    ids = [new.entity_id for new in documents]
    try:
        async with connection.transaction():  # a savepoint inside a larger transaction
            await connection.execute(sql, ids, [as_jsonb(new.document) for new in documents])
    except asyncpg.UniqueViolationError:
        taken = await connection.fetch(
            f"SELECT id FROM {quote_name(table)} WHERE id = ANY($1::text[])", ids
        )
        found = {row[0] for row in taken}
        raise _Taken(next((i for i in ids if i in found), ids[0])) from None


async def replace_in(
    connection: Connection,
    table: str,
    entity_id: str,
    document: str,
    check: VersionCheck | None,
) -> bool:
    """Replace one document in place; False when it is absent or its version differs."""
    sql = f"UPDATE {quote_name(table)} SET document = $1::jsonb WHERE id = $2"
    params: list[Any] = [as_jsonb(document), entity_id]
    if check is not None:
        path = json_path((check.field,))
        params.append(str(check.expected))
        condition = f"(document #> {path}) = $3::jsonb"
        if check.absent_matches:
            # Stored before the class declared the field: it reads back as the default.
            condition = f"({condition} OR (document #> {path}) IS NULL)"
        sql += f" AND {condition}"
    status = await connection.execute(sql, *params)
    return status == "UPDATE 1"


async def remove_in(connection: Connection, table: str, entity_id: str) -> bool:
    """Delete one document; False when it is absent."""
    status = await connection.execute(f"DELETE FROM {quote_name(table)} WHERE id = $1", entity_id)
    return status == "DELETE 1"


async def _fetch(connection: Connection, sql: str, params: Sequence[Any]) -> list[asyncpg.Record]:
    return await connection.fetch(sql, *params)


async def _fetch_value(connection: Connection, sql: str, params: Sequence[Any]) -> Any:
    return await connection.fetchval(sql, *params)


async def _create_indexes(connection: Connection, statements: Sequence[str]) -> None:
    for statement in statements:
        await connection.execute(statement)


class PostgresDocumentStore(DocumentStore):
    """A :class:`~victor_core.backend.DocumentStore` on one table of a PostgreSQL database."""

    def __init__(
        self,
        database: PostgresDatabase,
        table: str,
        compiler: SpecificationCompiler,
        indexes: Sequence[tuple[str, ...]] = (),
        *,
        owns_database: bool = True,
    ) -> None:
        self.database = database
        self.table = table
        self.compiler = compiler
        self.owns_database = owns_database
        self._part = entity_part(table)
        self._index_statements = [
            statement
            for path in indexes
            for statement in index_statements(
                table, path, index_expressions(compiler.declared.attribute(path), path)
            )
        ]
        self._ready = False
        self._name = quote_name(table)

    async def prepare(self) -> PostgresDatabase:
        """The database, with this table (and its declared indexes) created."""
        if not self._ready:
            await self.database.ensure(self._part)
            if self._index_statements:
                await self.database.run(_create_indexes, self._index_statements)
            self._ready = True
        return self.database

    def pushdown(self, spec: BaseSpecification[Any]) -> Pushdown:
        return self.compiler.pushdown(spec)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        return self.compiler.orders_by(keys)

    async def insert(self, documents: Sequence[NewDocument]) -> str | None:
        database = await self.prepare()
        try:
            await database.run(insert_in, self.table, documents)
        except _Taken as taken:
            return taken.entity_id
        return None

    async def load(self, entity_id: str) -> str | None:
        database = await self.prepare()
        sql = f"SELECT document::text FROM {self._name} WHERE id = $1"
        value = await database.run(_fetch_value, sql, (entity_id,))
        return None if value is None else str(value)

    async def replace(self, entity_id: str, document: str, check: VersionCheck | None) -> bool:
        database = await self.prepare()
        return await database.run(replace_in, self.table, entity_id, document, check)

    async def remove(self, entity_id: str) -> bool:
        database = await self.prepare()
        return await database.run(remove_in, self.table, entity_id)

    async def select(self, query: DocumentQuery) -> AsyncGenerator[StoredDocument, None]:
        database = await self.prepare()
        if query.order or query.limit is not None or query.offset:
            for row in await database.run(_fetch, *self._select_sql(query)):
                yield StoredDocument(row[0], row[1], row[2])
            return
        # Everything in position order, a chunk per query, so that a caller that stops
        # early does not pay for reading the whole table.
        after = query.after
        while True:
            chunk = DocumentQuery(where=query.where, limit=CHUNK_SIZE, after=after)
            rows = await database.run(_fetch, *self._select_sql(chunk))
            for row in rows:
                yield StoredDocument(row[0], row[1], row[2])
            if len(rows) < CHUNK_SIZE:
                return
            after = rows[-1][2]

    def _select_sql(self, query: DocumentQuery) -> tuple[str, list[Any]]:
        params: list[Any] = []
        conditions = []
        if query.where is not None:
            conditions.append(self.compiler.where(query.where, params))
        if query.after is not None:
            params.append(query.after)
            conditions.append(f"position > ${len(params)}")
        sql = f"SELECT id, document::text, position FROM {self._name}"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " " + self.compiler.order_clause(query.order)
        if query.limit is not None:
            params.append(query.limit)
            sql += f" LIMIT ${len(params)}"
        if query.offset:
            params.append(query.offset)
            sql += f" OFFSET ${len(params)}"
        return sql, params

    async def count(self, where: Expression | None) -> int:
        database = await self.prepare()
        params: list[Any] = []
        sql = f"SELECT count(*) FROM {self._name}"
        if where is not None:
            sql += " WHERE " + self.compiler.where(where, params)
        return int(await database.run(_fetch_value, sql, params))

    def transaction_manager(self) -> PostgresTransactionManager:
        """The manager of this store's database: writes to one schema commit together."""
        # Here, not at the top: that module imports this one.
        from victor_postgres.transactions import PostgresTransactionManager

        return PostgresTransactionManager(self.database)

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()


class PostgresRepository(DocumentRepository[E]):
    """A repository in a PostgreSQL database: ``PostgresRepository(User, "postgresql://...")``.

    The location is a URL or an open :class:`PostgresDatabase` shared with other components
    (which then close it). *indexes* names attributes (dotted paths allowed) to index;
    *table* overrides the table name (by default the class's ``__entity_name__`` or name).
    Other keyword options configure the pool (see :class:`PostgresSettings`).
    """

    def __init__(
        self,
        entity_type: type[E],
        location: str | PostgresSettings | PostgresDatabase,
        /,
        *,
        indexes: Iterable[str] = (),
        table: str | None = None,
        converter: JsonConverter | None = None,
        **options: Any,
    ) -> None:
        resolved: type[E] = self.resolve_entity_type(entity_type)
        if isinstance(location, PostgresDatabase):
            if options:
                raise ConfigurationError(
                    "connection options belong to the PostgresDatabase that is being shared; "
                    f"got {', '.join(sorted(options))} as well"
                )
            database, owned = location, False
        else:
            database, owned = PostgresDatabase(location, **options), True
        if isinstance(indexes, str):
            indexes = [indexes]
        paths = [check_path(name) for name in indexes]
        for path in paths:
            json_path(path)
        name = entity_name(resolved) if table is None else table
        if not isinstance(name, str) or not name or len(name.encode()) > 63:
            raise ConfigurationError(
                f"table must be a non-empty string of at most 63 bytes, got {name!r}"
            )
        self.database = database
        self.table = name
        self.indexes = tuple(".".join(path) for path in paths)
        store = PostgresDocumentStore(
            database,
            name,
            SpecificationCompiler(resolved, converter),
            paths,
            owns_database=owned,
        )
        super().__init__(resolved, store, converter=converter)

    def __repr__(self) -> str:
        return (
            f"PostgresRepository({self.entity_type.__qualname__}, "
            f"{self.database.settings.shown!r}, table={self.table!r})"
        )
