"""Fresh, isolated databases for the contract suite: on a real server, or in the process.

With ``VICTOR_MONGODB_URL`` set, each contract test gets a new, uniquely named database on
that server, dropped afterwards. Without it, each test gets an in-process stand-in
(:func:`victor_mongodb.testing.fake_client`) whose client API ``VICTOR_MONGODB_CLIENT``
chooses: ``pymongo`` (the default) or ``motor``, so both client paths are proven.

Each instance names what it provides, since that differs from the backend's declaration:
the stand-in has neither durability nor sharing by processes, and a server is asked once
whether it has transactions (a replica set member or a mongos has).
"""

from __future__ import annotations

import os
import uuid

import pymongo

from victor_core.backend import ContractInstance
from victor_mongodb.capabilities import (
    CLIENT_VARIABLE,
    IN_PROCESS,
    SERVER_VARIABLE,
    server_capabilities,
)
from victor_mongodb.client import Flavour, resolved
from victor_mongodb.raw import MongoRawStorage
from victor_mongodb.testing import fake_client


def contract_instance() -> ContractInstance:
    """A database no other test sees, and how to remove it."""
    name = f"victor_contract_{uuid.uuid4().hex[:16]}"
    url = os.environ.get(SERVER_VARIABLE, "").strip()
    if url:
        return _on_server(url, name)
    return _in_process(os.environ.get(CLIENT_VARIABLE, Flavour.PYMONGO), name)


def _on_server(url: str, name: str) -> ContractInstance:
    async def drop() -> None:
        client: pymongo.AsyncMongoClient[dict[str, object]] = pymongo.AsyncMongoClient(url)
        try:
            await client.drop_database(name)
        finally:
            await client.close()

    return ContractInstance(
        url=url,
        options={"database": name},
        cleanup=drop,
        capabilities=server_capabilities(url),
        raw=MongoRawStorage(name, url=url),
    )


def _in_process(flavour: str, name: str) -> ContractInstance:
    client = fake_client(flavour)

    async def drop() -> None:
        await resolved(client.drop_database(name))

    return ContractInstance(
        url="mongodb://",
        options={"client": client, "database": name},
        cleanup=drop,
        capabilities=IN_PROCESS,
        raw=MongoRawStorage(name, client=client),
    )
