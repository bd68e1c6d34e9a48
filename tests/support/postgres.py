"""A database of the test run's own on the PostgreSQL test server, and a schema per test.

The kernel's tests that copy through PostgreSQL and victor-postgres's own tests load this
module as a pytest plugin, so that both create, name and drop their databases and schemas
alike, and a run of both creates one database. The server is the one
:mod:`victor_postgres.provisioning` names (``VICTOR_POSTGRES_URL``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from victor_postgres.provisioning import (
    create_database,
    database_url,
    drop_database,
    drop_schema,
    unique_name,
)


@pytest.fixture(scope="session")
def server_database() -> Iterator[str]:
    """The URL of a database created for this test session, dropped at its end."""
    name = unique_name("victor_test")
    asyncio.run(create_database(name))
    try:
        yield database_url(name)
    finally:
        asyncio.run(drop_database(name))


@pytest_asyncio.fixture
async def postgres_url(server_database: str) -> AsyncIterator[str]:
    """A URL whose tables land in a schema no other test uses, dropped after the test."""
    schema = unique_name("t")
    try:
        yield f"{server_database}?schema={schema}"
    finally:
        await drop_schema(server_database, schema)
