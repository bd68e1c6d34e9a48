"""What the ``mongodb`` backend declares, and what a particular MongoDB instance provides.

Capabilities are declared, never guessed, and ``victor_backend_info`` runs whenever an
application loads the backend, so the declaration is fixed: what every real deployment
guarantees. That leaves out transactions, which need a replica set or a sharded cluster;
on a standalone server the transaction manager says so when one is asked for.

The contract suite, though, runs on particular instances that differ from that declaration
(see :mod:`victor_mongodb.contract`): the in-process stand-in keeps nothing beyond the
process, and a replica set has transactions. Each contract instance therefore names its own
capabilities, and only there is a server asked what it is.
"""

from __future__ import annotations

import functools

import pymongo
from pymongo.errors import PyMongoError

from victor_core.backend import BackendError, Capability

#: The MongoDB server the contract suite runs against; the in-process stand-in when unset.
SERVER_VARIABLE = "VICTOR_MONGODB_URL"
#: Which client API the stand-in speaks when there is no server: "pymongo" or "motor".
CLIENT_VARIABLE = "VICTOR_MONGODB_CLIENT"

#: What the in-process stand-in really has: no durability, no sharing, no transactions.
IN_PROCESS = frozenset(
    {
        Capability.EVENT_STORE,
        Capability.GLOBAL_ORDER,
        Capability.SNAPSHOTS,
        Capability.CHECKPOINTS,
        Capability.SUBSCRIPTIONS,
        Capability.CHECKPOINT_LEASES,
        Capability.REPOSITORY,
        Capability.SPECIFICATION_PUSHDOWN,
    }
)
#: What the backend declares: what every real deployment, standalone or not, guarantees
#: with victor's default write concern (majority, journaled).
DECLARED = IN_PROCESS | {Capability.DURABILITY, Capability.MULTI_PROCESS}
#: How long to wait for the server named by VICTOR_MONGODB_URL to answer.
PROBE_TIMEOUT_MS = 10_000


def server_capabilities(url: str) -> frozenset[Capability]:
    """What the server at *url* provides with the write concern *url* names.

    Transactions if it has them; durability unless the URL lowers the write concern below
    what survives a crash (``w=1`` without ``journal=true`` on a standalone server, or
    ``journal=false`` anywhere).
    """
    transactions = server_has_transactions(url)
    provided = set(DECLARED)
    if transactions:
        provided.update({Capability.TRANSACTIONS, Capability.EXACTLY_ONCE})
    if not journaled(url, replica_set=transactions):
        provided.discard(Capability.DURABILITY)
    return frozenset(provided)


def journaled(url: str, *, replica_set: bool) -> bool:
    """True when a write acknowledged with *url*'s write concern survives a crash."""
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(url, connect=False)
    try:
        given = client.write_concern.document
    finally:
        client.close()
    if not given:
        return True  # victor's default: majority and journaled
    if "j" in given:
        return bool(given["j"])
    # A replica set journals majority writes before acknowledging them (the default of
    # writeConcernMajorityJournalDefault); a standalone server acknowledges before.
    return replica_set and given.get("w") == "majority"


@functools.cache
def server_has_transactions(url: str) -> bool:
    """True when the server at *url* is a replica set member or a mongos (asked once)."""
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
