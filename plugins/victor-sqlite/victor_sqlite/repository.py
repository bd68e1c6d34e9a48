"""``SQLiteRepository``: entities as JSON documents in an SQLite table.

Each entity class gets a table (named after ``__entity_name__`` or the class, or ``table=``)
with the entity's id, its position in the order of adding, and the document the shared
converter makes of it. Specifications are compiled to SQL over the document where that
gives exactly Python's answer (:mod:`victor_sqlite.spec_compiler`); declare
``indexes=["email", "address.city"]`` for attributes queried often, and SQLite answers
those queries from an index instead of reading every document.

The ``*_in`` functions take a raw :class:`sqlite3.Connection` and run on the database's
worker thread, one hop per operation (see :mod:`victor_sqlite.database`); they can join a
larger transaction, such as a unit of work's.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

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
from victor_sqlite.database import SQLiteDatabase
from victor_sqlite.schema import SchemaPart
from victor_sqlite.settings import SQLiteSettings
from victor_sqlite.spec_compiler import SpecificationCompiler, json_path, quote_name

if TYPE_CHECKING:
    from victor_sqlite.transactions import SQLiteTransactionManager

E = TypeVar("E", bound=Entity)

#: How many rows one hop fetches when documents are read in position order.
CHUNK_SIZE = 1000

Location = str | os.PathLike[str] | SQLiteSettings | SQLiteDatabase


def entity_part(table: str) -> SchemaPart:
    """The schema part holding the entities of *table*."""
    name = quote_name(table)
    return SchemaPart(
        name=f"entities:{table}",
        version=1,
        statements=(
            f"CREATE TABLE {name} ("
            " position INTEGER PRIMARY KEY,"
            " id TEXT NOT NULL UNIQUE,"
            " document TEXT NOT NULL)",
        ),
    )


def index_statement(table: str, path: tuple[str, ...]) -> str:
    """``CREATE INDEX`` on the attribute at *path*, with id so sorting by it needs no sort."""
    index = quote_name(f"{table}__{'__'.join(path)}")
    expression = f"json_extract(document, '{json_path(path)}')"
    return f"CREATE INDEX IF NOT EXISTS {index} ON {quote_name(table)} ({expression}, id)"


class _Taken(Exception):
    def __init__(self, entity_id: str) -> None:
        self.entity_id = entity_id


def insert_in(raw: sqlite3.Connection, table: str, documents: Sequence[NewDocument]) -> None:
    """Insert *documents*; raise ``_Taken`` (with nothing inserted) when an id is taken."""
    seen: set[str] = set()
    for new in documents:
        if new.entity_id in seen:
            raise _Taken(new.entity_id)
        seen.add(new.entity_id)
    raw.execute("SAVEPOINT victor_insert")
    try:
        raw.executemany(
            f"INSERT INTO {quote_name(table)} (id, document) VALUES (?, ?)",
            [(new.entity_id, new.document) for new in documents],
        )
    except sqlite3.IntegrityError:
        raw.execute("ROLLBACK TO victor_insert")
        raw.execute("RELEASE victor_insert")
        raise _Taken(_first_taken(raw, table, documents)) from None
    raw.execute("RELEASE victor_insert")


def _first_taken(raw: sqlite3.Connection, table: str, documents: Sequence[NewDocument]) -> str:
    query = f"SELECT 1 FROM {quote_name(table)} WHERE id = ?"
    for new in documents:
        if raw.execute(query, (new.entity_id,)).fetchone() is not None:
            return new.entity_id
    return documents[0].entity_id  # pragma: no cover - the insert failed for a reason


def replace_in(
    raw: sqlite3.Connection,
    table: str,
    entity_id: str,
    document: str,
    check: VersionCheck | None,
) -> bool:
    """Replace one document in place; False when it is absent or its version differs."""
    sql = f"UPDATE {quote_name(table)} SET document = ? WHERE id = ?"
    params: list[Any] = [document, entity_id]
    if check is not None:
        path = json_path((check.field,))
        condition = f"json_extract(document, '{path}') IS ?"
        params.append(check.expected)
        if check.absent_matches:
            # Stored before the class declared the field: it reads back as the default.
            condition = f"({condition} OR json_type(document, '{path}') IS NULL)"
        sql += f" AND {condition}"
    return raw.execute(sql, params).rowcount == 1


def remove_in(raw: sqlite3.Connection, table: str, entity_id: str) -> bool:
    """Delete one document; False when it is absent."""
    sql = f"DELETE FROM {quote_name(table)} WHERE id = ?"
    return raw.execute(sql, (entity_id,)).rowcount == 1


def _fetch(raw: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return raw.execute(sql, params).fetchall()


def _fetch_one(raw: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Any:
    return raw.execute(sql, params).fetchone()


def _create_indexes(raw: sqlite3.Connection, statements: Sequence[str]) -> None:
    for statement in statements:
        raw.execute(statement)


class SQLiteDocumentStore(DocumentStore):
    """A :class:`~victor_core.repository.DocumentStore` on one table of an SQLite database."""

    def __init__(
        self,
        database: SQLiteDatabase,
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
        self._index_statements = [index_statement(table, path) for path in indexes]
        self._ready = False
        self._name = quote_name(table)

    async def _prepare(self) -> SQLiteDatabase:
        if not self._ready:
            await self.database.ensure(self._part)
            if self._index_statements:
                await self.database.write(_create_indexes, self._index_statements)
            self._ready = True
        return self.database

    def pushdown(self, spec: BaseSpecification[Any]) -> Pushdown:
        return self.compiler.pushdown(spec)

    def orders_by(self, keys: Sequence[OrderKey]) -> bool:
        return self.compiler.orders_by(keys)

    async def insert(self, documents: Sequence[NewDocument]) -> str | None:
        database = await self._prepare()
        try:
            await database.write(insert_in, self.table, documents)
        except _Taken as taken:
            return taken.entity_id
        return None

    async def load(self, entity_id: str) -> str | None:
        database = await self._prepare()
        sql = f"SELECT document FROM {self._name} WHERE id = ?"
        row = await database.run(_fetch_one, sql, (entity_id,))
        return None if row is None else str(row[0])

    async def replace(self, entity_id: str, document: str, check: VersionCheck | None) -> bool:
        database = await self._prepare()
        return await database.run(replace_in, self.table, entity_id, document, check)

    async def remove(self, entity_id: str) -> bool:
        database = await self._prepare()
        return await database.run(remove_in, self.table, entity_id)

    async def select(self, query: DocumentQuery) -> AsyncGenerator[StoredDocument, None]:
        database = await self._prepare()
        if query.order or query.limit is not None or query.offset:
            for row in await database.run(_fetch, *self._select_sql(query)):
                yield StoredDocument(row[0], row[1], row[2])
            return
        # Everything in position order: a chunk per hop, so a caller that stops early
        # does not pay for reading the whole table.
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
            conditions.append("position > ?")
            params.append(query.after)
        sql = f"SELECT id, document, position FROM {self._name}"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " " + self.compiler.order_clause(query.order)
        if query.limit is not None or query.offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if query.limit is None else query.limit, query.offset]
        return sql, params

    async def count(self, where: Expression | None) -> int:
        database = await self._prepare()
        params: list[Any] = []
        sql = f"SELECT count(*) FROM {self._name}"
        if where is not None:
            sql += " WHERE " + self.compiler.where(where, params)
        row = await database.run(_fetch_one, sql, params)
        return int(row[0])

    def transaction_manager(self) -> SQLiteTransactionManager:
        """The manager of this store's file: writes to one file commit together."""
        # Here, not at the top: that module imports this one.
        from victor_sqlite.transactions import SQLiteTransactionManager

        return SQLiteTransactionManager(self.database)

    async def close(self) -> None:
        if self.owns_database:
            await self.database.close()


class SQLiteRepository(DocumentRepository[E]):
    """A repository in an SQLite file: ``SQLiteRepository(User, "app.db")``.

    The entity class is the first argument, or the subscript:
    ``SQLiteRepository[User]("app.db")``. The location is a path, an ``sqlite://`` URL, or
    an open :class:`SQLiteDatabase` shared with other components (which then close it);
    without one the database lives in memory and ends with the repository.

    *indexes* names attributes (dotted paths allowed) to index: queries comparing them,
    and sorting by them, then use the index. *table* overrides the table name (by default
    the class's ``__entity_name__`` or name). Other keyword options configure the
    connection: ``synchronous``, ``journal_mode``, ``busy_timeout``.
    """

    @overload
    def __init__(
        self,
        entity_type: type[E],
        location: Location = ...,
        /,
        *,
        indexes: Iterable[str] = ...,
        table: str | None = ...,
        converter: JsonConverter | None = ...,
        synchronous: str | None = ...,
        journal_mode: str | None = ...,
        busy_timeout: float | None = ...,
    ) -> None: ...

    @overload
    def __init__(
        self,
        location: Location = ...,
        /,
        *,
        indexes: Iterable[str] = ...,
        table: str | None = ...,
        converter: JsonConverter | None = ...,
        synchronous: str | None = ...,
        journal_mode: str | None = ...,
        busy_timeout: float | None = ...,
    ) -> None: ...

    def __init__(
        self,
        *args: Any,
        indexes: Iterable[str] = (),
        table: str | None = None,
        converter: JsonConverter | None = None,
        synchronous: str | None = None,
        journal_mode: str | None = None,
        busy_timeout: float | None = None,
    ) -> None:
        given, location = _split_arguments(args)
        connection: dict[str, object] = {
            "synchronous": synchronous,
            "journal_mode": journal_mode,
        }
        options = {k: v for k, v in connection.items() if v is not None}
        if busy_timeout is not None:
            options["busy_timeout"] = busy_timeout
        entity_type: type[E] = self.resolve_entity_type(given)
        if isinstance(location, SQLiteDatabase):
            if options:
                raise ConfigurationError(
                    "connection options belong to the SQLiteDatabase that is being shared; "
                    f"got {', '.join(sorted(options))} as well"
                )
            database, owned = location, False
        else:
            database, owned = SQLiteDatabase(location, **options), True
        if isinstance(indexes, str):
            indexes = [indexes]
        paths = [check_path(name) for name in indexes]
        for path in paths:
            json_path(path)
        name = entity_name(entity_type) if table is None else table
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"table must be a non-empty string, got {table!r}")
        self.database = database
        self.table = name
        self.indexes = tuple(".".join(path) for path in paths)
        store = SQLiteDocumentStore(
            database,
            name,
            SpecificationCompiler(entity_type, converter),
            paths,
            owns_database=owned,
        )
        super().__init__(entity_type, store, converter=converter)

    def __repr__(self) -> str:
        return (
            f"SQLiteRepository({self.entity_type.__qualname__}, "
            f"{self.database.settings.path!r}, table={self.table!r})"
        )


def _split_arguments(args: tuple[Any, ...]) -> tuple[type | None, Location]:
    if len(args) > 2:
        raise ConfigurationError(
            "SQLiteRepository takes the entity class and the database location, e.g. "
            f"SQLiteRepository(User, 'app.db'); got {len(args)} positional arguments"
        )
    given = args[0] if args and isinstance(args[0], type) else None
    rest = args[1:] if given is not None else args
    if len(rest) > 1:
        raise ConfigurationError(
            "SQLiteRepository takes one database location; pass the entity class first: "
            "SQLiteRepository(User, 'app.db')"
        )
    return given, rest[0] if rest else ":memory:"
