"""A scripted MongoDB server on the wire, for tests of what the real driver sends and receives.

:class:`ScriptedServer` runs a mockupdb server that answers the handshake as a replica-set
primary (or as a standalone server) in the shape PyMongo 4.20 expects, records every command
the driver sends, and answers each one from a script the test writes: ``server.script("insert",
WRITE_CONFLICT)`` answers the next ``insert`` with a write conflict, and every command without a
scripted reply gets a plain successful answer (an empty cursor for reads). So a test connects
victor with ``pymongo.AsyncMongoClient`` to ``server.url``, scripts the replies of a real
deployment under failure, and asserts on what victor does and on the commands it sent.

Replies are given in mockupdb's threads, never on the event loop: nothing here blocks it.
``topologyVersion`` is left out of the handshake on purpose: it would switch the driver to
streaming monitoring, which mockupdb cannot serve.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bson import ObjectId
from mockupdb import MockupDB, OpMsg

#: A reply: the fields of the answer document, or a function of the request's command.
Reply = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]

#: Commands of the driver's own housekeeping, answered but not recorded.
HOUSEKEEPING = frozenset({"hello", "ismaster", "isMaster", "endSessions", "ping", "buildinfo"})

#: A write conflict between two transactions, as a replica set reports it.
WRITE_CONFLICT: dict[str, Any] = {
    "ok": 0,
    "code": 112,
    "codeName": "WriteConflict",
    "errmsg": "Write conflict during plan execution and yielding is disabled.",
    "errorLabels": ["TransientTransactionError"],
}
#: The server could not keep the transaction's snapshot (a collection created meanwhile).
SNAPSHOT_UNAVAILABLE: dict[str, Any] = {
    "ok": 0,
    "code": 246,
    "codeName": "SnapshotUnavailable",
    "errmsg": "Unable to read from a snapshot due to pending collection catalog changes",
    "errorLabels": ["TransientTransactionError"],
}
#: The write was applied on the primary, but not confirmed by a majority in time.
WRITE_CONCERN_TIMEOUT: dict[str, Any] = {
    "ok": 1,
    "n": 1,
    "writeConcernError": {
        "code": 64,
        "codeName": "WriteConcernFailed",
        "errmsg": "waiting for replication timed out",
        "errInfo": {"wtimeout": True},
    },
}
#: The server stepped down between the driver's choice of it and the command.
NOT_PRIMARY: dict[str, Any] = {
    "ok": 0,
    "code": 10107,
    "codeName": "NotWritablePrimary",
    "errmsg": "not primary",
}


def duplicate_key(index: int = 0, key: str = "_id") -> dict[str, Any]:
    """A unique-index violation of the batch's document at *index*."""
    return {
        "ok": 1,
        "n": index,
        "writeErrors": [
            {
                "index": index,
                "code": 11000,
                "errmsg": f"E11000 duplicate key error collection: index: {key}",
                "keyPattern": {key: 1},
            }
        ],
    }


def document_invalid(index: int) -> dict[str, Any]:
    """A validator's refusal of the batch's document at *index*."""
    return {
        "ok": 1,
        "n": index,
        "writeErrors": [{"index": index, "code": 121, "errmsg": "Document failed validation"}],
    }


def cursor(*documents: dict[str, Any], namespace: str = "app.x") -> dict[str, Any]:
    """A reply to ``find`` or ``aggregate`` holding *documents*, all in the first batch."""
    return {"ok": 1, "cursor": {"id": 0, "ns": namespace, "firstBatch": list(documents)}}


class ScriptedServer:
    """A mockupdb server that speaks as a replica-set primary and answers from a script."""

    def __init__(self, *, replica_set: bool = True) -> None:
        self.replica_set = replica_set
        self._mock = MockupDB(auto_ismaster=False, request_timeout=30)
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._defaults: dict[str, Reply] = {}
        #: Every command the driver sent, housekeeping aside, in the order received.
        self.commands: list[dict[str, Any]] = []
        self._mock.autoresponds(self._answer)
        self.port = self._mock.run()
        self.host = f"localhost:{self.port}"

    def url(self, database: str = "app", **options: str) -> str:
        """A connection string for this server, with *options* as its query parameters."""
        query = {"replicaSet": "rs0"} if self.replica_set else {"directConnection": "true"}
        query.update(serverSelectionTimeoutMS="5000", **options)
        return f"mongodb://{self.host}/{database}?" + "&".join(f"{k}={v}" for k, v in query.items())

    def script(self, command: str, *replies: Reply) -> None:
        """Answer the next ``len(replies)`` *command* commands with *replies*, in order."""
        with self._lock:
            self._scripts[command].extend(replies)

    def always(self, command: str, reply: Reply) -> None:
        """Answer every *command* without a scripted reply with *reply*."""
        with self._lock:
            self._defaults[command] = reply

    def sent(self, command: str) -> list[dict[str, Any]]:
        """The *command* commands received so far."""
        with self._lock:
            return [each for each in self.commands if next(iter(each)) == command]

    def names(self) -> list[str]:
        """The names of the commands received so far, in order."""
        with self._lock:
            return [next(iter(each)) for each in self.commands]

    def reset(self) -> None:
        """Forget the script and the commands received: a fresh server for the next test."""
        with self._lock:
            self._scripts.clear()
            self._defaults.clear()
            self.commands.clear()

    def stop(self) -> None:
        self._mock.stop()

    def _answer(self, request: OpMsg) -> bool:
        command = dict(request.doc)
        name = next(iter(command))
        if name in HOUSEKEEPING:
            if name in ("hello", "ismaster", "isMaster"):
                return bool(request.ok(self._handshake()))
            return bool(request.ok())
        with self._lock:
            self.commands.append(command)
            queued = self._scripts.get(name)
            reply = queued.popleft() if queued else self._defaults.get(name)
        if reply is None:
            reply = _default_reply(name, command)
        elif callable(reply):
            reply = reply(command)
        if reply.get("hangup"):
            return bool(request.hangup())
        return bool(request.replies(reply))

    def _handshake(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "ismaster": True,
            "isWritablePrimary": True,
            "secondary": False,
            "maxWireVersion": 21,
            "minWireVersion": 0,
            "maxBsonObjectSize": 16 * 1024 * 1024,
            "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000,
            "logicalSessionTimeoutMinutes": 30,
        }
        if self.replica_set:
            answer.update(
                setName="rs0",
                hosts=[self.host],
                primary=self.host,
                me=self.host,
                setVersion=1,
                electionId=ObjectId("7fffffff0000000000000001"),
            )
        return answer


#: Close the connection instead of answering: a network error after the command was sent.
HANG_UP: dict[str, Any] = {"hangup": True}


def _default_reply(name: str, command: dict[str, Any]) -> dict[str, Any]:
    namespace = f"{command.get('$db', 'app')}.{command.get(name)}"
    if name in ("find", "aggregate", "listCollections", "listIndexes"):
        return cursor(namespace=namespace)
    if name == "insert":
        return {"ok": 1, "n": len(command.get("documents", []))}
    if name == "update":
        return {"ok": 1, "n": 1, "nModified": 1}
    if name == "delete":
        return {"ok": 1, "n": len(command.get("deletes", []))}
    if name == "count":
        return {"ok": 1, "n": 0}
    if name == "findAndModify":
        return {"ok": 1, "value": {"_id": command.get("query", {}).get("_id"), "last": 1}}
    return {"ok": 1}


def without_reply_fields(command: dict[str, Any]) -> dict[str, Any]:
    """*command* without the session and cluster fields that differ in every run."""
    return {
        key: value
        for key, value in command.items()
        if key not in ("lsid", "$clusterTime", "txnNumber", "$db")
    }


@pytest.fixture(scope="session")
def _replica_set_server() -> Iterator[ScriptedServer]:
    # One server for the session: stopping one takes a second (mockupdb's accept loop).
    server = ScriptedServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _standalone_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer(replica_set=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scripted(_replica_set_server: ScriptedServer) -> ScriptedServer:
    """A scripted replica-set primary, with no script and no commands recorded yet."""
    _replica_set_server.reset()
    return _replica_set_server


@pytest.fixture
def scripted_standalone(_standalone_server: ScriptedServer) -> ScriptedServer:
    """A scripted standalone server, with no script and no commands recorded yet."""
    _standalone_server.reset()
    return _standalone_server
