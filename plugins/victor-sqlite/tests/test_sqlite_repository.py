"""What only SQLite's repository does: indexes SQLite uses, SQL that binds every value,
tables, URLs and a database shared with the event store.

Behaviour every backend shares is proven by the contract suite (``--victor-backend=sqlite``).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from victor_core import AttributeSpecification, Entity, Event, open_repository
from victor_core.backend import BaseSpecification, ConfigurationError, order_from, pushdown
from victor_sqlite import SQLiteDatabase, SQLiteEventStore, SQLiteRepository
from victor_sqlite.spec_compiler import SpecificationCompiler

A = AttributeSpecification


@dataclasses.dataclass(frozen=True)
class Address:
    city: str = ""


@dataclasses.dataclass
class Customer(Entity):
    name: str = ""
    email: str = ""
    age: int = 0
    address: Address | None = None
    nickname: str = ""


@dataclasses.dataclass
class Signed(Event):
    __event_type__ = "victor.test.Signed"
    who: str = ""


def plan_of(path: Path, table: str, spec: BaseSpecification[Any] | None, **find: Any) -> str:
    """SQLite's query plan for the SELECT that ``find(spec, **find)`` runs."""
    repo = SQLiteRepository(Customer, path)
    store = repo.store
    params: list[Any] = []
    where = ""
    if spec is not None:
        expression = pushdown(spec, store.compiler.compiles).expression  # type: ignore[attr-defined]
        assert expression is not None
        where = " WHERE " + store.compiler.where(expression, params)  # type: ignore[attr-defined]
    order = store.compiler.order_clause(order_from(find.get("order_by")))  # type: ignore[attr-defined]
    sql = f'SELECT id, document, position FROM "{table}"{where} {order} LIMIT 10'
    with sqlite3.connect(path) as raw:
        rows = raw.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " / ".join(str(row[-1]) for row in rows)


async def fill(repo: SQLiteRepository[Customer], count: int = 300) -> None:
    await repo.add_many(
        Customer(
            id=f"c{n:04}",
            name=f"name-{n % 50}",
            email=f"user{n}@example.com",
            age=n % 90,
            address=Address(city=f"city-{n % 7}"),
        )
        for n in range(count)
    )


@pytest.mark.asyncio
async def test_declared_indexes_serve_the_compiled_where_and_order(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    repo = SQLiteRepository(Customer, path, indexes=["email", "address.city"])
    await fill(repo)

    by_email = plan_of(path, "Customer", A("email", "user7@example.com"))
    by_city = plan_of(path, "Customer", A("address.city", ["city-1", "city-2"], op="in"))
    range_and_order = plan_of(path, "Customer", A("email", "user5", op=">="), order_by="email")
    unindexed = plan_of(path, "Customer", A("name", "name-3"))

    assert "USING INDEX Customer__email" in by_email
    assert "USING INDEX Customer__address__city" in by_city
    assert "USING INDEX Customer__email" in range_and_order
    assert "TEMP B-TREE" not in range_and_order
    assert "SCAN" in unindexed
    assert "INDEX" not in unindexed
    found = await repo.find(A("email", "user7@example.com"))
    assert [c.id for c in found] == ["c0007"]
    await repo.close()


@pytest.mark.asyncio
async def test_indexes_can_be_added_to_an_existing_table(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    first = SQLiteRepository(Customer, path)
    await fill(first, 20)
    await first.close()

    again = SQLiteRepository(Customer, path, indexes="name")
    assert await again.count(A("name", "name-3")) == 1

    assert "USING INDEX Customer__name" in plan_of(path, "Customer", A("name", "name-3"))
    await again.close()


def test_values_are_bound_as_parameters_never_written_into_sql() -> None:
    compiler = SpecificationCompiler(Customer)
    hostile = "x') OR 1=1 --"
    spec = A("name", hostile) | A("email", [hostile, "b"], op="in") | ~A("nickname", hostile)
    params: list[Any] = []

    plan = pushdown(spec, compiler.compiles)
    assert plan.exact
    assert plan.expression is not None
    sql = compiler.where(plan.expression, params)

    assert hostile not in sql
    assert params == [hostile, hostile, "b", hostile]
    assert sql.count("?") == len(params)


@pytest.mark.parametrize("name", ["x') OR 1=1 --", "a.b c", "é-x", "名前"])
@pytest.mark.asyncio
async def test_hostile_or_unusual_index_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError):
        SQLiteRepository(Customer, tmp_path / "app.db", indexes=[name])
    assert not (tmp_path / "app.db").exists()


def test_what_is_compiled_depends_on_declared_types() -> None:
    compiler = SpecificationCompiler(Customer)

    def exact(spec: BaseSpecification[Any]) -> bool:
        return pushdown(spec, compiler.compiles).exact

    assert exact(A("age", 3, op=">"))
    assert exact(A("address.city", "x"))
    assert exact(A("address", None))
    assert not exact(A("age", "3", op=">"))  # a string against an int: Python decides
    assert not exact(A("address", "x"))  # a record against a string
    assert not exact(A("unknown", 1))


@pytest.mark.asyncio
async def test_the_table_name_can_be_chosen_and_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    repo = SQLiteRepository[Customer](path, table='odd "table" name')
    await repo.add(Customer(id="c1", name="x"))

    with sqlite3.connect(path) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert 'odd "table" name' in tables
    assert (await repo.get("c1")) is not None
    await repo.close()


@pytest.mark.asyncio
async def test_open_repository_takes_indexes_and_table_from_the_url(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    url = f"sqlite:///{path.as_posix()}?indexes=email,address.city&synchronous=NORMAL"

    repo = open_repository(url, Customer, table="customers")
    await fill(repo, 10)  # type: ignore[arg-type]

    assert isinstance(repo, SQLiteRepository)
    assert repo.indexes == ("email", "address.city")
    assert repo.table == "customers"
    assert "USING INDEX customers__email" in plan_of(path, "customers", A("email", "user1"))
    await repo.close()
    with pytest.raises(ConfigurationError, match="colour"):
        open_repository(url, Customer, colour="blue")


@pytest.mark.asyncio
async def test_entities_and_events_share_one_database(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / "app.db")
    customers = SQLiteRepository(Customer, database)
    events = SQLiteEventStore(database)

    await customers.add(Customer(id="c1", name="Ann"))
    await events.append("c1", Signed(who="Ann"))
    await customers.close()  # a shared database stays open for its other users

    [recorded] = await events.read_stream("c1")
    assert recorded.event.who == "Ann"  # type: ignore[attr-defined]
    assert (await SQLiteRepository(Customer, database).get("c1")) is not None
    await database.close()


@pytest.mark.parametrize(
    "arguments",
    [
        (Customer, "a.db", "b.db"),
        ("a.db", "b.db"),
    ],
)
def test_positional_arguments_are_the_class_and_one_location(arguments: tuple[Any, ...]) -> None:
    with pytest.raises(ConfigurationError):
        SQLiteRepository(*arguments)


@pytest.mark.asyncio
async def test_a_repository_opens_on_a_url_and_its_data_outlives_it(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'app.db').as_posix()}?synchronous=NORMAL"
    first = SQLiteRepository(Customer, url)
    await first.add(Customer(id="c1", name="kept"))
    await first.close()

    again = SQLiteRepository[Customer](tmp_path / "app.db")

    found = await again.get("c1")
    assert found is not None
    assert found.name == "kept"
    await again.close()


@pytest.mark.asyncio
async def test_text_holding_nul_characters_is_compared_in_python(tmp_path: Path) -> None:
    # SQLite's JSON functions end a string at its first NUL, so SQL cannot compare it.
    repo = SQLiteRepository(Customer, tmp_path / "app.db")
    await repo.add_many([Customer(id="c1", name="a\x00b"), Customer(id="c2", name="a")])

    for spec, expected in [
        (A("name", "a\x00b"), ["c1"]),
        (A("name", ["a\x00b"], op="in"), ["c1"]),
        (A("name", "\x00b", op="contains"), ["c1"]),
        (A("name", "a\x00", op=">="), ["c1"]),
        (~A("name", "a\x00b"), ["c2"]),
    ]:
        assert [c.id for c in await repo.find(spec)] == expected, spec
        assert await repo.count(spec) == len(expected), spec
    await repo.close()


@pytest.mark.asyncio
async def test_an_in_comparison_with_more_values_than_sqlite_binds_still_works(
    tmp_path: Path,
) -> None:
    # Many builds of SQLite bind at most 999 or 32766 parameters in one statement.
    repo = SQLiteRepository(Customer, tmp_path / "app.db")
    await repo.add_many([Customer(id=f"c{n}", age=n) for n in range(50)])
    await repo.database.run(lambda raw: raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999))
    wanted = [f"c{n}" for n in range(0, 5000, 7)] + [f"missing{n}" for n in range(5000)]

    found = await repo.find(A("id", wanted, op="in") & A("age", list(range(2000)), op="in"))

    assert [c.id for c in found] == [f"c{n}" for n in range(0, 50, 7)]
    assert await repo.count(~A("age", [*range(5, 5000), None], op="in")) == 5
    await repo.close()
