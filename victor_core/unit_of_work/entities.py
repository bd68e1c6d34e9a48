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
from victor_core.errors import StoreClosed
from victor_core.plugins.registry import PluginRegistry
from victor_core.repository.cached import CachedRepository
from victor_core.repository.document_repository import DocumentRepository, set_fields
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
