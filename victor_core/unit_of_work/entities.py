"""Participants for repositories of entities.

- A :class:`~victor_core.repository.DocumentRepository` (every first-party repository)
  has its changes turned into document writes, exactly as its own ``add_many``, ``update``
  and ``delete`` would make them, so that the backend's transaction manager can apply them
  all in one transaction.
- A :class:`~victor_core.CachedRepository` writes through the repository it wraps and
  forgets what it cached of the entities written.
- Any other :class:`~victor_core.Repository` is written through its own methods; it can
  take part in a transaction only when its backend provides an ambient one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import attrs
from cattrs.preconf.json import JsonConverter

from victor_core.backend.writes import (
    InsertDocuments,
    RemoveDocument,
    ReplaceDocument,
    WriteRefused,
    WriteResult,
    apply_one,
)
from victor_core.errors import EntityAlreadyExists, EntityNotFound, StaleEntity, StoreClosed
from victor_core.eventsourcing.events import utc_now
from victor_core.plugins.registry import PluginRegistry
from victor_core.repository.cached import CachedRepository
from victor_core.repository.document_repository import DocumentRepository
from victor_core.repository.documents import NewDocument
from victor_core.repository.entity import Entity
from victor_core.repository.repository import Repository
from victor_core.unit_of_work.managers import Transactional
from victor_core.unit_of_work.steps import Participant, Step
from victor_core.unit_of_work.tracking import Tracked


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
        repository = self.repository
        field = repository.version_field
        overrides = {field: 1} if field else {}
        documents = tuple(
            NewDocument(entry.obj.id, repository.codec.encode(entry.obj, **overrides))
            for entry in entries
        )
        write = InsertDocuments(repository.store, documents)
        return Step(
            self,
            "insert",
            tuple(entries),
            write,
            run_alone=lambda: apply_one(write),
            finish=lambda result: _set_fields([entry.obj for entry in entries], overrides),
        )

    def stage_update(self, entry: Tracked) -> Step:
        self._check_open()
        repository = self.repository
        entity = entry.obj
        overrides: dict[str, Any] = {"updated_at": utc_now()}
        check = None
        if repository.version_field:
            expected = getattr(entity, repository.version_field)
            check = repository.version_check(expected)
            overrides[repository.version_field] = expected + 1
        document = repository.codec.encode(entity, **overrides)
        write = ReplaceDocument(repository.store, entity.id, document, check)
        return Step(
            self,
            "update",
            (entry,),
            write,
            run_alone=lambda: apply_one(write),
            finish=lambda result: _set_fields([entity], overrides),
        )

    def stage_delete(self, entry: Tracked) -> Step:
        self._check_open()
        write = RemoveDocument(self.repository.store, entry.obj.id)
        return Step(self, "delete", (entry,), write, run_alone=lambda: apply_one(write))

    async def explain(self, refusal: WriteRefused) -> BaseException:
        write = refusal.write
        name = self.type_name
        if isinstance(write, InsertDocuments):
            taken = refusal.entity_id or write.documents[0].entity_id
            return EntityAlreadyExists(name, taken)
        if isinstance(write, RemoveDocument):
            return EntityNotFound(name, write.entity_id, "delete")
        if isinstance(write, ReplaceDocument):
            stored = await self.repository.store.load(write.entity_id)
            if stored is None or write.check is None:
                return EntityNotFound(name, write.entity_id, "update")
            actual = getattr(
                self.repository.codec.decode(stored, write.entity_id), write.check.field
            )
            return StaleEntity(name, write.entity_id, write.check.expected, actual)
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
    def resource(self) -> object:
        return self.inner.resource

    @property
    def converter(self) -> JsonConverter:
        return self.inner.converter

    def transactional(self, registry: PluginRegistry | None) -> Transactional | None:
        return self.inner.transactional(registry)

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


def _set_fields(entities: Sequence[Entity], values: dict[str, Any]) -> None:
    for entity in entities:
        for name, value in values.items():
            setattr(entity, name, value)
