r"""Participants: how a unit of work reads and writes through what was registered.

A :class:`Participant` stands for one registered repository: it loads objects, takes the
snapshots dirty checking compares, and turns changes into steps. A :class:`Step` is one
write of a commit (the backend-neutral :mod:`~victor_core.backend.writes` value a
transaction manager applies) together with what follows once it is committed.

- An :class:`~victor_core.AggregateRepository` (or the event store itself) saves an
  aggregate by appending its pending events, expecting the version it was loaded at, so a
  concurrent change fails the whole commit with :class:`~victor_core.ConcurrencyError`.
- A :class:`~victor_core.repository.DocumentRepository` (every first-party repository) has
  its changes turned into document writes by the repository's own write preparation
  (``new_documents``, ``replacement``), exactly as its ``add_many`` and ``update`` make them.
- A :class:`~victor_core.CachedRepository` writes through the repository it wraps and
  forgets what it cached of the entities written.
- Any other :class:`~victor_core.Repository` is written through its own methods, one change
  at a time, outside any transaction.
- A projection's checkpoint is one more step, next to its read model's writes.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs
from cattrs.preconf.json import JsonConverter

from victor_core.backend.writes import (
    AdvanceCheckpoint,
    AppendEvents,
    InsertDocuments,
    RemoveDocument,
    ReplaceDocument,
    Write,
    WriteRefused,
    WriteResult,
    apply_one,
)
from victor_core.errors import AggregateNotFound, ConfigurationError, StoreClosed
from victor_core.eventsourcing.aggregate import Aggregate
from victor_core.eventsourcing.checkpoints import CheckpointStore
from victor_core.eventsourcing.events import Event
from victor_core.eventsourcing.records import check_stream_id
from victor_core.eventsourcing.repository import AggregateRepository
from victor_core.eventsourcing.store import EventStore
from victor_core.repository.cached import CachedRepository
from victor_core.repository.document_repository import DocumentRepository, set_fields
from victor_core.repository.entity import check_entity_type
from victor_core.repository.repository import Repository
from victor_core.serialization import converter as default_converter
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
    #: How to make the write without a transaction manager: through the store's own method.
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

    @property
    def type_name(self) -> str:
        """The stored class's name, for messages."""
        return self.target_type.__qualname__

    @property
    def label(self) -> str:
        """``User (SQLiteRepository[User])``: for messages."""
        return f"{self.type_name} ({type(self.repository).__qualname__})"

    @property
    def converter(self) -> JsonConverter:
        """The converter the repository stores with; dirty checks compare through it."""
        return default_converter

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


class AggregateParticipant(Participant):
    """An :class:`AggregateRepository`: saving appends an aggregate's pending events."""

    repository: AggregateRepository[Any]

    def __init__(self, repository: AggregateRepository[Any], target_type: type) -> None:
        super().__init__(repository, target_type)

    @property
    def label(self) -> str:
        return f"{self.type_name} (events in {type(self.repository.store).__qualname__})"

    @property
    def converter(self) -> JsonConverter:
        return self.repository.store.serializer.converter

    async def load(self, object_id: str) -> Any | None:
        try:
            return await self.repository.load(object_id)
        except AggregateNotFound:
            return None

    def snapshot(self, obj: Any) -> str | None:
        # An aggregate changes only by applying events: its pending events are its changes.
        return None

    def is_dirty(self, tracked: Tracked) -> bool:
        aggregate: Aggregate = tracked.obj
        return aggregate.version != aggregate.committed_version

    def stage_save(self, entry: Tracked) -> Step | None:
        """Append the aggregate's pending events; None when it has none."""
        aggregate: Aggregate = entry.obj
        pending = tuple(aggregate.pending_events)
        if not pending:
            return None
        store = self.repository.store
        if store.closed:
            raise StoreClosed(
                f"the event store of {self.type_name} registered with this unit of work was "
                "closed; register an open one"
            )
        check_stream_id(aggregate.id)
        # The encoder EventStore.append uses: the same records, each class looked up once.
        serialize = store.serializer._batch_encoder()
        records = tuple([serialize(event, aggregate.id) for event in pending])
        loaded_at = aggregate.committed_version
        write = AppendEvents(store.recorder, aggregate.id, records, loaded_at)

        async def snapshot_if_due(result: WriteResult) -> None:
            every = self.repository.snapshot_every
            if every is not None and loaded_at // every < aggregate.version // every:
                await self.repository.take_snapshot(aggregate)

        return Step(
            self,
            "append events of",
            (entry,),
            write,
            run_alone=lambda: apply_one(write),
            finish=lambda result: aggregate.mark_events_committed(),
            after=snapshot_if_due,
            events=tuple(_as_stored(event, aggregate.id) for event in pending),
        )


def _as_stored(event: Event, stream_id: str) -> Event:
    """*event* as the store holds it: with the stream id as ``aggregate_id`` when it had none."""
    if event.aggregate_id:
        return event
    stored = copy.copy(event)
    object.__setattr__(stored, "aggregate_id", stream_id)
    return stored


class EntityParticipant(Participant):
    """A repository of entities."""

    @abstractmethod
    def stage_insert(self, entries: Sequence[Tracked]) -> Step:
        """Insert the entities of *entries*."""

    @abstractmethod
    def stage_update(self, entry: Tracked) -> Step:
        """Store the current state of the entity of *entry*."""

    @abstractmethod
    def stage_delete(self, entry: Tracked) -> Step:
        """Delete the entity of *entry*."""


class DocumentParticipant(EntityParticipant):
    """A :class:`DocumentRepository`: its changes become document writes."""

    repository: DocumentRepository[Any]

    def __init__(self, repository: DocumentRepository[Any], target_type: type) -> None:
        super().__init__(repository, target_type)

    @property
    def converter(self) -> JsonConverter:
        return self.repository.codec.converter

    async def load(self, object_id: str) -> Any | None:
        return await self.repository.get(object_id)

    def _check_open(self) -> None:
        if self.repository.closed:
            raise StoreClosed(
                f"the repository of {self.type_name} registered with this unit of work was "
                "closed; register an open one"
            )

    def stage_insert(self, entries: Sequence[Tracked]) -> Step:
        self._check_open()
        entities = [entry.obj for entry in entries]
        documents, written = self.repository.new_documents(entities)
        write = InsertDocuments(self.repository.store, tuple(documents))
        return Step(
            self,
            "insert",
            tuple(entries),
            write,
            run_alone=lambda: apply_one(write),
            finish=lambda result: set_fields(entities, written),
        )

    def stage_update(self, entry: Tracked) -> Step:
        self._check_open()
        entity = entry.obj
        document, check, written = self.repository.replacement(entity)
        write = ReplaceDocument(self.repository.store, entity.id, document, check)
        return Step(
            self,
            "update",
            (entry,),
            write,
            run_alone=lambda: apply_one(write),
            finish=lambda result: set_fields([entity], written),
        )

    def stage_delete(self, entry: Tracked) -> Step:
        self._check_open()
        write = RemoveDocument(self.repository.store, entry.obj.id)
        return Step(self, "delete", (entry,), write, run_alone=lambda: apply_one(write))

    async def explain(self, refusal: WriteRefused) -> BaseException:
        write = refusal.write
        if isinstance(write, InsertDocuments):
            return self.repository.refused_insert(refusal.entity_id or write.documents[0].entity_id)
        if isinstance(write, RemoveDocument):
            return self.repository.refused_delete(write.entity_id)
        if isinstance(write, ReplaceDocument):
            return await self.repository.refused_update(write.entity_id, write.check)
        return refusal


class RepositoryParticipant(EntityParticipant):
    """Any other :class:`Repository`: written through its own methods."""

    repository: Repository[Any]

    def __init__(self, repository: Repository[Any], target_type: type) -> None:
        super().__init__(repository, target_type)

    async def load(self, object_id: str) -> Any | None:
        return await self.repository.get(object_id)

    def stage_insert(self, entries: Sequence[Tracked]) -> Step:
        entities = [entry.obj for entry in entries]

        async def add() -> WriteResult:
            await self.repository.add_many(entities)
            return None

        return Step(self, "insert", tuple(entries), None, run_alone=add)

    def stage_update(self, entry: Tracked) -> Step:
        async def update() -> WriteResult:
            await self.repository.update(entry.obj)
            return None

        return Step(self, "update", (entry,), None, run_alone=update)

    def stage_delete(self, entry: Tracked) -> Step:
        async def delete() -> WriteResult:
            await self.repository.delete(entry.obj.id)
            return None

        return Step(self, "delete", (entry,), None, run_alone=delete)


class CachedParticipant(EntityParticipant):
    """A :class:`CachedRepository`: reads through the cache, writes through what it wraps."""

    repository: CachedRepository[Any]

    def __init__(
        self, repository: CachedRepository[Any], inner: EntityParticipant, target_type: type
    ) -> None:
        super().__init__(repository, target_type)
        self.inner = inner

    @property
    def converter(self) -> JsonConverter:
        return self.inner.converter

    async def load(self, object_id: str) -> Any | None:
        return await self.repository.get(object_id)

    def stage_insert(self, entries: Sequence[Tracked]) -> Step:
        return self._forgetting(self.inner.stage_insert(entries))

    def stage_update(self, entry: Tracked) -> Step:
        return self._forgetting(self.inner.stage_update(entry))

    def stage_delete(self, entry: Tracked) -> Step:
        return self._forgetting(self.inner.stage_delete(entry))

    def _forgetting(self, step: Step) -> Step:
        finish = step.finish

        def finish_and_forget(result: WriteResult) -> None:
            finish(result)
            for entry in step.entries:
                self.repository.invalidate(entry.obj.id)

        return attrs.evolve(step, participant=self, finish=finish_and_forget)

    async def explain(self, refusal: WriteRefused) -> BaseException:
        return await self.inner.explain(refusal)


class CheckpointParticipant(Participant):
    """Stands for a checkpoint store in the messages of a commit."""

    def __init__(self, checkpoints: CheckpointStore) -> None:
        super().__init__(checkpoints, type(checkpoints))

    async def load(self, object_id: str) -> Any | None:
        return None  # checkpoints are not entities: nothing is loaded through the unit of work


def checkpoint_step(checkpoints: CheckpointStore, name: str, expected: int, position: int) -> Step:
    """The step moving *name*'s checkpoint from *expected* to *position* in the commit."""
    write = AdvanceCheckpoint(checkpoints, name, expected, position)

    async def alone() -> WriteResult:
        return await apply_one(write)

    return Step(
        CheckpointParticipant(checkpoints),
        f"advance checkpoint {name!r} to {position} in",
        (),
        write,
        alone,
    )


def participant_for(repository: object, target_type: object) -> Participant:
    """The participant for *repository* storing *target_type*, or an error saying what fits."""
    if isinstance(target_type, type) and issubclass(target_type, Aggregate):
        if isinstance(repository, EventStore):
            return AggregateParticipant(AggregateRepository(repository, target_type), target_type)
        if isinstance(repository, AggregateRepository):
            if repository.aggregate_type is not target_type:
                raise ConfigurationError(
                    f"this AggregateRepository stores {repository.aggregate_type.__qualname__},"
                    f" not {target_type.__qualname__}; register the repository of "
                    f"{target_type.__qualname__}"
                )
            return AggregateParticipant(repository, target_type)
        raise ConfigurationError(
            f"{target_type.__qualname__} is an aggregate: register an AggregateRepository for "
            f"it or the EventStore its events go to, e.g. "
            f"uow.register_repository(store, {target_type.__name__}); got "
            f"{type(repository).__qualname__}"
        )
    entity_type = check_entity_type(target_type)
    if not isinstance(repository, Repository):
        raise ConfigurationError(
            f"register_repository takes a Repository, an AggregateRepository or an "
            f"EventStore, and the class it stores; got {type(repository).__qualname__}"
        )
    stored = getattr(repository, "entity_type", None)
    if stored is not None and stored is not entity_type:
        raise ConfigurationError(
            f"this repository stores {getattr(stored, '__qualname__', stored)}, not "
            f"{entity_type.__qualname__}; register the repository of "
            f"{entity_type.__qualname__}"
        )
    if isinstance(repository, CachedRepository):
        inner = participant_for(repository.base, entity_type)
        assert isinstance(inner, EntityParticipant)
        return CachedParticipant(repository, inner, entity_type)
    if isinstance(repository, DocumentRepository):
        return DocumentParticipant(repository, entity_type)
    return RepositoryParticipant(repository, entity_type)
