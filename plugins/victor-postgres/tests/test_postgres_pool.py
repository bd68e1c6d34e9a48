"""The pool's connections after a borrower was cancelled in the middle of a statement."""

from __future__ import annotations

import asyncio

import pytest

from victor_postgres import PostgresDatabase
from victor_postgres.database import Connection

pytestmark = pytest.mark.asyncio


async def started(database: PostgresDatabase, marker: str) -> None:
    """Return once a statement carrying *marker* runs on the server (up to about a minute)."""
    observer = await database.connect()  # outside the pool, which the statement fills
    try:
        for _ in range(1200):
            if await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1"
                " AND pid <> pg_backend_pid()",
                f"%{marker}%",
            ):
                return
            await asyncio.sleep(0.05)
    finally:
        await observer.close()
    pytest.fail("the statement never started")


@pytest.mark.parametrize("in_transaction", [False, True])
async def test_a_borrower_cancelled_mid_statement_leaves_the_next_one_a_working_connection(
    url: str, in_transaction: bool
) -> None:
    database = PostgresDatabase(url, min_size=1, max_size=1)

    async def slow(connection: Connection) -> None:
        await connection.execute("SELECT pg_sleep(30) /* cancelled-borrower */")

    call = database.write if in_transaction else database.run
    task = asyncio.ensure_future(call(slow))
    await asyncio.sleep(0)
    await started(database, "cancelled-borrower")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async def state(connection: Connection) -> tuple[bool, int]:
        return connection.is_in_transaction(), await connection.fetchval("SELECT 1")

    # max_size=1: the next borrower gets the cancelled one's connection back, or a new one.
    assert await asyncio.wait_for(database.run(state), 30) == (False, 1)
    await database.close()
