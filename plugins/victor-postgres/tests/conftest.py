"""A database of this run's own on the test server, and a fresh schema in it per test."""

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
async def url(server_database: str) -> AsyncIterator[str]:
    """A URL whose tables land in a schema no other test uses."""
    schema = unique_name("t")
    try:
        yield f"{server_database}?schema={schema}"
    finally:
        await drop_schema(server_database, schema)
