r"""Steps and participants: how a unit of work writes through what was registered.

A :class:`Participant` stands for one registered repository: it loads objects, takes the
snapshots dirty checking compares, and turns changes into steps. A :class:`Step` is one
write of a commit (the backend-neutral :mod:`~victor_core.backend.writes` value a
transaction manager applies) together with what follows once it is committed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from cattrs.preconf.json import JsonConverter

from victor_core.backend.writes import Write, WriteRefused, WriteResult
from victor_core.eventsourcing.events import Event
from victor_core.plugins.registry import PluginRegistry
from victor_core.serialization import converter as default_converter
from victor_core.unit_of_work.managers import Transactional, find_transaction_manager
from victor_core.unit_of_work.tracking import Tracked, serialized

#: How many ids a message lists before it says "and N more".
_SHOWN_IDS = 3


async def _nothing(result: WriteResult) -> None:
    return None


@attrs.define(eq=False)
class Step:
    """One write of a commit, and what follows from it once committed."""

    participant: Participant
    action: str
    entries: tuple[Tracked, ...]
    #: The write a transaction manager applies; None when only the repository can write it.
    write: Write | None
    #: How to make the write without a transaction manager (or inside an ambient one).
    run_alone: Callable[[], Awaitable[WriteResult]]
    #: Brings the objects up to date once the write is committed (versions, timestamps).
    finish: Callable[[WriteResult], None] = lambda result: None
    #: Runs after the whole commit (snapshots); its failure is logged, never raised.
    after: Callable[[WriteResult], Awaitable[None]] = _nothing
    #: Events stored by this step, to dispatch after the commit.
    events: tuple[Event, ...] = ()

    def describe(self) -> str:
        """``insert User 'u1', 'u2'``: for messages."""
        ids = [repr(entry.obj.id) for entry in self.entries]
        shown = ", ".join(ids[:_SHOWN_IDS])
        if len(ids) > _SHOWN_IDS:
            shown += f" and {len(ids) - _SHOWN_IDS} more"
        return f"{self.action} {self.participant.type_name} {shown}"


class Participant(ABC):
    """A repository registered with a unit of work for one class."""

    def __init__(self, repository: object, target_type: type) -> None:
        #: What was registered.
        self.repository = repository
        #: The class of the objects it stores.
        self.target_type = target_type
        self._manager: Transactional | None = None
        self._manager_known = False

    @property
    def type_name(self) -> str:
        """The stored class's name, for messages."""
        return self.target_type.__qualname__

    @property
    def label(self) -> str:
        """``User (SQLiteRepository[User])``: for messages."""
        return f"{self.type_name} ({type(self.repository).__qualname__})"

    @property
    def resource(self) -> object:
        """What the backends are asked about to find this participant's transaction manager."""
        return self.repository

    @property
    def converter(self) -> JsonConverter:
        """The converter the repository stores with; dirty checks compare through it."""
        return default_converter

    def transactional(self, registry: PluginRegistry | None) -> Transactional | None:
        """The backend's transaction manager for this participant (looked up once)."""
        if not self._manager_known:
            self._manager = find_transaction_manager(self.resource, registry)
            self._manager_known = True
        return self._manager

    @abstractmethod
    async def load(self, object_id: str) -> Any | None:
        """The stored object, or None."""

    def snapshot(self, obj: Any) -> str | None:
        """What dirty checking compares against later."""
        return serialized(obj, self.converter)

    def is_dirty(self, tracked: Tracked) -> bool:
        """True when the object changed since its snapshot was taken."""
        return tracked.snapshot is not None and serialized(tracked.obj, self.converter) != (
            tracked.snapshot
        )

    async def explain(self, refusal: WriteRefused) -> BaseException:
        """The error a user acts on, for a write the backend refused."""
        return refusal
