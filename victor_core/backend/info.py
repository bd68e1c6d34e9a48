"""What a backend declares about itself.

Capabilities are declared, never guessed from behaviour: the contract suite reads them to
decide which tests apply, and the unit of work reads them to decide what it may promise.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

#: Version of the storage contract described by the contract suite. A backend states the
#: version it was proven against; the suite refuses to pretend a newer one was checked.
CONTRACT_VERSION = 3


class Capability(enum.StrEnum):
    """Something a backend may or may not be able to promise."""

    #: Provides an event store (``victor_create_event_store``).
    EVENT_STORE = "event_store"
    #: Provides entity repositories (``victor_create_repository``).
    REPOSITORY = "repository"
    #: Several repositories and the event store can commit in one transaction.
    TRANSACTIONS = "transactions"
    #: ``read_all`` yields every event in one global order that never changes.
    GLOBAL_ORDER = "global_order"
    #: Specifications are compiled to the engine's own query language.
    SPECIFICATION_PUSHDOWN = "specification_pushdown"
    #: What was written survives the process (and, with the right settings, the machine).
    DURABILITY = "durability"
    #: Snapshots of aggregates can be stored.
    SNAPSHOTS = "snapshots"
    #: Projection checkpoints can be stored next to the events (``EventStore.checkpoints``).
    CHECKPOINTS = "checkpoints"
    #: Several processes can share one storage safely.
    MULTI_PROCESS = "multi_process"
    #: ``store.subscribe`` catches up and follows appends of every store on the storage.
    SUBSCRIPTIONS = "subscriptions"
    #: Checkpoints move by compare-and-set, and runners take turns through leases kept there.
    CHECKPOINT_LEASES = "checkpoint_leases"
    #: Appends to different streams run at the same time and never fail one another: the
    #: engine locks a stream, not the whole log, so many writers at once all succeed on
    #: the first try (a server database; not a single-writer file).
    CONCURRENT_APPENDS = "concurrent_appends"
    #: ``read_all`` on any store opened on the storage shows an append as soon as the append
    #: has returned: no replication lag, no positions handed out later.
    IMMEDIATE_READ_ALL = "immediate_read_all"
    #: A unit of work commits a projection's read model and its checkpoint in one transaction.
    EXACTLY_ONCE = "exactly_once"
    #: One store or repository object may be used from several threads at once, each
    #: running its own event loop. Without it, an object stays on the loop that first used
    #: it, and using it from another raises :class:`~victor_core.errors.WrongEventLoop`.
    THREADS = "threads"


def _schemes(schemes: Iterable[str]) -> tuple[str, ...]:
    return tuple(scheme.lower() for scheme in schemes)


def _capabilities(capabilities: Iterable[Capability | str]) -> frozenset[Capability]:
    return frozenset(Capability(capability) for capability in capabilities)


@attrs.frozen
class BackendInfo:
    """A backend's answer to ``victor_backend_info``."""

    #: The name users select it by; equal to its entry point name in ``victor.backends``.
    name: str
    #: The version of the distribution providing it.
    version: str
    #: URL schemes it accepts (``"sqlite"``, ``"mongodb+srv"``); the name itself is implied.
    url_schemes: tuple[str, ...] = attrs.field(converter=_schemes, factory=tuple)
    capabilities: frozenset[Capability] = attrs.field(converter=_capabilities, factory=frozenset)
    description: str = ""
    #: The contract suite version this backend is proven against.
    contract_version: int = CONTRACT_VERSION

    def supports(self, capability: Capability) -> bool:
        """True when the backend declares *capability*."""
        return capability in self.capabilities
