"""A defect in durability: an append acknowledged before it is written (write-behind)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs

from victor_core import EventStore
from victor_core.backend import (
    AppendResult,
    BackendInfo,
    BackendURL,
    ContractInstance,
    ExpectedVersion,
    NewEventRecord,
    hookimpl,
)
from victor_sqlite import plugin as sqlite
from victor_sqlite.event_log import SQLiteEventRecorder
from victor_sqlite.store import SQLiteEventStore

NAME = "broken-write-behind"


class WriteBehindRecorder(SQLiteEventRecorder):
    """Appends return at once and are written by a task in the background, for speed."""

    #: Appends on their way to the file.
    pending: ClassVar[set[asyncio.Task[AppendResult]]] = set()

    async def append(
        self, stream_id: str, records: Sequence[NewEventRecord], expected_version: ExpectedVersion
    ) -> AppendResult:
        version = await self.stream_version(stream_id)
        task = asyncio.ensure_future(super().append(stream_id, records, expected_version))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        first = version + 1
        return AppendResult(
            stream_id, version + len(records), tuple(range(first, first + len(records)))
        )

    async def close(self) -> None:
        await asyncio.gather(*self.pending, return_exceptions=True)
        await super().close()


@hookimpl
def victor_backend_info() -> BackendInfo:
    return attrs.evolve(
        sqlite.victor_backend_info(),
        name=NAME,
        url_schemes=(),
        description="acknowledges appends before they are written",
    )


@hookimpl
def victor_create_event_store(url: BackendURL, options: Mapping[str, Any]) -> EventStore:
    store = sqlite.victor_create_event_store(url, options)
    assert isinstance(store, SQLiteEventStore)
    store.recorder = WriteBehindRecorder(store.database, owns_database=True)
    return store


@hookimpl
def victor_contract_instance(workdir: Path) -> ContractInstance:
    return sqlite.victor_contract_instance(workdir)
