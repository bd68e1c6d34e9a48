"""What the ``mongodb`` backend declares, which depends on the server it is proven against.

MongoDB's guarantees depend on the deployment: a replica set or a sharded cluster has
multi-document transactions, a standalone server has not, and the in-process stand-in the
contract suite uses without a server keeps nothing beyond the process. Capabilities are
declared, never guessed, so the declaration follows ``VICTOR_MONGODB_URL``:

- unset: what every deployment, and the in-process stand-in, guarantee;
- set: that server is asked once what it is; durability and sharing by several processes
  are added, and transactions when it is a replica set member or a mongos.
"""

from __future__ import annotations

import functools
import os

import pymongo
from pymongo.errors import PyMongoError

from victor_core import BackendError, Capability

#: The MongoDB server the contract suite runs against; the in-process stand-in when unset.
SERVER_VARIABLE = "VICTOR_MONGODB_URL"
#: Which client API the stand-in speaks when there is no server: "pymongo" or "motor".
CLIENT_VARIABLE = "VICTOR_MONGODB_CLIENT"

EVERYWHERE = frozenset(
    {
        Capability.EVENT_STORE,
        Capability.GLOBAL_ORDER,
        Capability.SNAPSHOTS,
        Capability.CHECKPOINTS,
        Capability.REPOSITORY,
        Capability.SPECIFICATION_PUSHDOWN,
    }
)
ON_A_SERVER = EVERYWHERE | {Capability.DURABILITY, Capability.MULTI_PROCESS}
#: How long to wait for the server named by VICTOR_MONGODB_URL to answer.
PROBE_TIMEOUT_MS = 10_000


def declared_capabilities() -> frozenset[Capability]:
    """The capabilities to declare in this environment (see the module docstring)."""
    url = os.environ.get(SERVER_VARIABLE, "").strip()
    if not url:
        return EVERYWHERE
    if server_has_transactions(url):
        return ON_A_SERVER | {Capability.TRANSACTIONS}
    return ON_A_SERVER


@functools.cache
def server_has_transactions(url: str) -> bool:
    """True when the server at *url* is a replica set member or a mongos."""
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=PROBE_TIMEOUT_MS
    )
    try:
        reply = client.admin.command("hello")
    except PyMongoError as exc:
        raise BackendError(
            f"{SERVER_VARIABLE} names a MongoDB server that did not answer ({exc}); start it "
            f"(see docs/mongodb.md) or unset {SERVER_VARIABLE} to use the in-process stand-in"
        ) from exc
    finally:
        client.close()
    return bool(reply.get("setName")) or reply.get("msg") == "isdbgrid"
