"""What a recorder returns is checked where it enters the kernel, at the cost of a type check.

A backend defect then surfaces as the backend's method breaking its contract, naming the
class and method, instead of as a ``TypeError`` in the kernel or a wrong value much later.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.backend import Database, DictDocumentStore, ListRecorder, ListRepository
from victor_core import Entity, Event, EventStore
from victor_core.backend import BackendContractError, BackendError

pytestmark = pytest.mark.asyncio


@dataclass
class Rang(Event):
    __event_type__ = "victor.test.Rang"
    times: int = 1


class SloppyRecorder(ListRecorder):
    """Answers as a careless backend might: None for a version, dicts for records."""

    async def stream_version(self, stream_id: str) -> Any:
        return None

    async def read_stream(self, *args: Any) -> Any:
        return [record._asdict() for record in await super().read_stream(*args)]

    async def read_all(self, from_position: int, limit: int) -> Any:
        return (r for r in await super().read_all(from_position, limit))

    async def append(self, stream_id: str, records: Sequence[Any], expected: Any) -> Any:
        result = await super().append(stream_id, records, expected)
        return result.version if stream_id == "bare" else result


@pytest.fixture
def store() -> EventStore:
    return EventStore(SloppyRecorder(Database()))


async def test_a_stream_version_that_is_not_an_int_names_the_method(store: EventStore) -> None:
    with pytest.raises(BackendContractError) as caught:
        await store.stream_version("s-1")

    message = str(caught.value)
    assert message.startswith("SloppyRecorder.stream_version broke its contract: returned None")
    assert "test_backend_boundary" in message  # the module to report it to
    assert isinstance(caught.value, BackendError)


async def test_records_that_are_not_stored_records_name_the_method(store: EventStore) -> None:
    await store.append("s-1", Rang())

    with pytest.raises(BackendContractError, match=r"^SloppyRecorder\.read_stream broke its"):
        await store.read_stream("s-1")
    with pytest.raises(BackendContractError, match=r"^SloppyRecorder\.read_all broke its .*gen"):
        [r async for r in store.read_all()]


async def test_an_append_that_does_not_report_an_append_result_names_the_method(
    store: EventStore,
) -> None:
    with pytest.raises(BackendContractError, match=r"^SloppyRecorder\.append broke its .* 1,"):
        await store.append("bare", Rang())


class SloppyDocuments(DictDocumentStore):
    """A document store answering with parsed documents and counts that are not ints."""

    async def load(self, entity_id: str) -> Any:
        text = await super().load(entity_id)
        return None if text is None else json.loads(text)

    async def count(self, where: Any) -> Any:
        return str(await super().count(where))


@dataclass
class Bell(Entity):
    __entity_name__ = "victor_test_bell"
    tone: str = ""


async def test_a_document_store_answering_off_contract_names_its_method() -> None:
    repo = ListRepository(Bell)
    await repo.add(Bell(id="b-1", tone="A"))
    repo.store.__class__ = SloppyDocuments  # the same store, now answering carelessly

    with pytest.raises(BackendContractError, match=r"^SloppyDocuments\.load broke its .*dict"):
        await repo.get("b-1")
    with pytest.raises(BackendContractError, match=r"^SloppyDocuments\.count broke its .*'1'"):
        await repo.count()
