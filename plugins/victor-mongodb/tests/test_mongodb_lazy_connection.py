"""Stores and repositories are built without touching the network; the first use connects.

The driver reports opening its view of the deployment (``TopologyOpenedEvent``) before it
resolves a host name or opens a socket, so a listener that never hears it proves nothing
was attempted. The sockets are watched as well, in case a connection came another way.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from mongodb_doubles import Note, Noted
from pymongo import monitoring

from victor_core import open_event_store, open_repository
from victor_core.backend import BackendError
from victor_mongodb import MongoDatabase, MongoEventStore, MongoRepository


class TopologyWatcher(monitoring.TopologyListener):
    """Counts the times a client opened its view of the deployment."""

    def __init__(self) -> None:
        self.opened_count = 0

    def opened(self, event: monitoring.TopologyOpenedEvent) -> None:
        self.opened_count += 1

    def description_changed(self, event: monitoring.TopologyDescriptionChangedEvent) -> None:
        pass

    def closed(self, event: monitoring.TopologyClosedEvent) -> None:
        pass


@pytest.fixture
def network_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name lookup or socket connection attempted, refused on the spot."""
    calls: list[str] = []

    def refuse(what: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            calls.append(f"{what}{args[:2]!r}")
            raise OSError(f"the test forbids {what}")

        return refused

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    return calls


@pytest.mark.asyncio
async def test_opening_stores_and_repositories_attempts_no_connection(
    network_calls: list[str],
) -> None:
    watcher = TopologyWatcher()
    listen = {"event_listeners": [watcher]}

    store = open_event_store("mongodb://localhost:27017/app", **listen)
    srv_store = open_event_store("mongodb+srv://cluster0.example.net/app", **listen)
    repository = open_repository("mongodb://localhost:27017/app", Note, **listen)
    by_class = MongoEventStore("mongodb://db.example.net/app", **listen)
    repository_by_class = MongoRepository(Note, "mongodb://db.example.net/app", **listen)
    shared = MongoDatabase("mongodb://db.example.net/app", **listen)
    on_shared = [MongoEventStore(shared), MongoRepository(Note, shared)]

    assert isinstance(store, MongoEventStore)
    assert isinstance(repository, MongoRepository)
    assert store.snapshots is not None
    assert store.checkpoints is not None
    assert watcher.opened_count == 0
    assert network_calls == []
    for component in (store, srv_store, repository, by_class, repository_by_class, *on_shared):
        await component.close()
    await shared.close()
    assert network_calls == []  # closing a client that never connected stays offline too


@pytest.mark.asyncio
async def test_the_first_read_connects_and_an_unreachable_server_says_what_to_check() -> None:
    watcher = TopologyWatcher()
    # Port 1 on the loopback interface: nothing listens there, so the answer is immediate.
    store = open_event_store(
        "mongodb://127.0.0.1:1/app",
        serverSelectionTimeoutMS=200,
        event_listeners=[watcher],
    )
    assert watcher.opened_count == 0

    with pytest.raises(BackendError, match=r"could not be reached.*check that the server"):
        await store.append("s", Noted(text="x"))

    assert watcher.opened_count == 1
    await store.close()
