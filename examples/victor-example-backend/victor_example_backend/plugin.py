"""The hooks that make this package the ``example`` backend."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from victor_core import EventStore
from victor_core.backend import BackendInfo, BackendURL, Capability, ContractInstance, hookimpl
from victor_example_backend.recorder import ListRecorder, drop


@hookimpl
def victor_backend_info() -> BackendInfo:
    return BackendInfo(
        name="example",
        version="0.1.0",
        url_schemes=("example",),
        capabilities={Capability.EVENT_STORE, Capability.GLOBAL_ORDER},
        description="Plain lists in the process: a template for backend authors.",
    )


@hookimpl
def victor_create_event_store(url: BackendURL, options: Mapping[str, Any]) -> EventStore:
    return EventStore(
        ListRecorder(url.authority or "default"), serializer=options.get("serializer")
    )


@hookimpl
def victor_contract_instance(workdir: Path) -> ContractInstance:
    database = f"contract-{uuid.uuid4().hex}"

    async def cleanup() -> None:
        drop(database)

    return ContractInstance(url=f"example://{database}", cleanup=cleanup)
