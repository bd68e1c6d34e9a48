"""The ``mongodb`` backend as the registry and the contract suite see it."""

from __future__ import annotations

import pytest

from victor_core import default_registry
from victor_core.backend import BackendError, Capability
from victor_mongodb import capabilities, plugin
from victor_mongodb.client import Flavour, flavour_of
from victor_mongodb.contract import contract_instance


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(capabilities.SERVER_VARIABLE, raising=False)
    monkeypatch.delenv(capabilities.CLIENT_VARIABLE, raising=False)


@pytest.mark.usefixtures("no_server")
def test_the_backend_is_found_by_name_and_by_both_url_schemes() -> None:
    registry = default_registry()
    backend = registry.backend("mongodb")

    assert backend.info.url_schemes == ("mongodb", "mongodb+srv")
    assert backend.entry.distribution == "victor-mongodb"
    assert backend.info.capabilities == capabilities.DECLARED


@pytest.mark.parametrize("server", ["", "mongodb://db.example.net:27017"])
def test_the_declaration_is_what_every_deployment_has_whatever_the_environment(
    monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    monkeypatch.setenv(capabilities.SERVER_VARIABLE, server)

    def no_probe(url: str) -> bool:
        raise AssertionError("declaring capabilities must not ask a server")

    monkeypatch.setattr(capabilities, "server_has_transactions", no_probe)
    declared = plugin.victor_backend_info().capabilities

    assert declared == capabilities.DECLARED
    assert Capability.GLOBAL_ORDER in declared
    assert Capability.SPECIFICATION_PUSHDOWN in declared
    assert {Capability.DURABILITY, Capability.MULTI_PROCESS} <= declared
    assert Capability.TRANSACTIONS not in declared


@pytest.mark.usefixtures("no_server")
def test_the_in_process_stand_in_provides_only_what_it_really_has() -> None:
    provided = contract_instance().capabilities

    assert provided is not None
    assert Capability.GLOBAL_ORDER in provided
    assert Capability.SPECIFICATION_PUSHDOWN in provided
    assert Capability.TRANSACTIONS not in provided
    assert Capability.DURABILITY not in provided
    assert Capability.MULTI_PROCESS not in provided


@pytest.mark.parametrize("replica_set", [True, False])
def test_with_a_server_its_kind_decides_about_transactions(
    monkeypatch: pytest.MonkeyPatch, replica_set: bool
) -> None:
    monkeypatch.setenv(capabilities.SERVER_VARIABLE, "mongodb://db.example.net:27017")
    monkeypatch.setattr(capabilities, "server_has_transactions", lambda url: replica_set)

    provided = contract_instance().capabilities

    assert provided is not None
    assert {Capability.DURABILITY, Capability.MULTI_PROCESS} <= provided
    assert (Capability.TRANSACTIONS in provided) is replica_set


def test_a_server_that_does_not_answer_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capabilities, "PROBE_TIMEOUT_MS", 100)

    # Port 1 on the loopback interface: nothing listens there.
    with pytest.raises(BackendError, match="did not answer"):
        capabilities.server_has_transactions("mongodb://127.0.0.1:1/?directConnection=true")


@pytest.mark.asyncio
@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize("flavour", [Flavour.PYMONGO, Flavour.MOTOR])
async def test_without_a_server_each_test_gets_its_own_in_process_database(
    monkeypatch: pytest.MonkeyPatch, flavour: Flavour
) -> None:
    monkeypatch.setenv(capabilities.CLIENT_VARIABLE, flavour.value)

    first, second = contract_instance(), contract_instance()
    client = first.options["client"]
    await client.get_database(first.options["database"]).get_collection("c").insert_one({})
    names = await client.list_database_names()
    await first.cleanup()

    assert first.url == "mongodb://"
    assert flavour_of(client) is flavour
    assert first.options["database"] != second.options["database"]
    assert first.options["database"] in names
    assert first.options["database"] not in await client.list_database_names()


def test_with_a_server_each_test_gets_a_new_database_on_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(capabilities.SERVER_VARIABLE, "mongodb://db.example.net:27017")
    monkeypatch.setattr(capabilities, "server_has_transactions", lambda url: False)

    instance = contract_instance()

    assert instance.url == "mongodb://db.example.net:27017"
    assert instance.options["database"].startswith("victor_contract_")
    assert set(instance.options) == {"database"}
