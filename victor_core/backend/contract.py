"""What the contract suite asks of a backend: a fresh, isolated storage and its cleanup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable

import attrs

from victor_core.backend.info import Capability, _capabilities


async def _nothing_to_clean() -> None:
    return None


@runtime_checkable
class RawStorage(Protocol):
    """Writes straight into a contract instance's storage, past the kernel, as damage would.

    The contract suite uses it to prove that a damaged record (a payload another program,
    an edit by hand or a bad migration left behind) is refused with
    :class:`~victor_core.CorruptRecord` instead of being read as data, and that the rest
    of the storage stays usable. Each method overwrites, in place and in the engine's own
    storage, something victor stored before; *text* is JSON the kernel would never write
    (``[]``, ``"text"``, ``{}``). Nothing is checked or translated on the way.
    """

    async def write_event_payload(self, stream_id: str, version: int, text: str) -> None:
        """Make *text* the payload of the stored event at *stream_id*, *version*."""

    async def write_snapshot_state(self, stream_id: str, version: int, text: str) -> None:
        """Make *text* the state of the stored snapshot of *stream_id* at *version*."""

    async def write_document(self, entity_name: str, entity_id: str, text: str) -> None:
        """Make *text* the document of the entity *entity_id* stored as *entity_name*.

        *entity_name* is the table or collection, as :func:`~victor_core.backend.entity_name`
        names it. An engine that can only hold objects as documents (MongoDB) raises
        :class:`ValueError` for a *text* that is not a JSON object; the test then skips.
        """


@attrs.frozen
class ContractInstance:
    """Where one contract test may store data without seeing any other test's data.

    The suite opens stores and repositories on ``url`` with ``options`` as many times as a
    test needs (opening twice must reach the same data), and awaits ``cleanup`` afterwards.

    ``capabilities`` is what this particular storage instance provides, when it differs from
    the backend's declaration (an in-process stand-in, a standalone server, a replica set);
    ``None`` means exactly what the backend declares. The suite skips a test needing a
    capability the instance lacks, and runs one needing a capability it provides even when
    the backend does not declare it for every deployment.
    """

    url: str
    options: Mapping[str, Any] = attrs.field(factory=dict)
    cleanup: Callable[[], Awaitable[None]] = _nothing_to_clean
    capabilities: frozenset[Capability] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_capabilities)
    )
    #: Optional: a URL of this backend where no server answers (a closed port), for the
    #: tests of the error contract: every operation on it must raise
    #: :class:`~victor_core.errors.BackendUnavailable`, within the suite's time limit.
    unreachable_url: str | None = None
    #: Optional: ``async with instance.contention() as options:`` makes the storage refuse
    #: writes for the block's duration, as a lock held by another session would; a store
    #: opened with *options* merged in (a short lock wait) must then fail a write with
    #: :class:`~victor_core.errors.TransientBackendError`, storing nothing.
    contention: Callable[[], AbstractAsyncContextManager[Mapping[str, Any]]] | None = None
    #: The collation string comparisons in this storage default to, when the backend made it
    #: under the ``--victor-collation`` the suite asked for; ``None`` when it did not.
    collation: str | None = None
    #: Optional: writes into this storage past the kernel (:class:`RawStorage`), for the
    #: tests of damaged records; they are skipped for an instance without it.
    raw: RawStorage | None = None
