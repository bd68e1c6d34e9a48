"""Entities, and a repository with no transaction manager, for the unit of work's own tests."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from victor_core import EntityAlreadyExists, EntityNotFound, Repository
from victor_core.repository import DEFAULT_PAGE_SIZE, BaseSpecification, Entity, OrderBy


@dataclasses.dataclass
class User(Entity):
    name: str = ""


@dataclasses.dataclass
class Order(Entity):
    user_id: str = ""
    total: float = 0.0
    version: int = 0


class NotebookRepository(Repository[Any]):
    """A repository of its own making, as applications write: no backend, no transactions."""

    def __init__(self, entity_type: type[Entity]) -> None:
        self.entity_type = entity_type
        self.pages: dict[str, Entity] = {}

    async def add(self, entity: Any) -> None:
        if entity.id in self.pages:
            raise EntityAlreadyExists(self.entity_type.__name__, entity.id)
        self.pages[entity.id] = dataclasses.replace(entity)

    async def get(self, entity_id: str) -> Any:
        found = self.pages.get(entity_id)
        return None if found is None else dataclasses.replace(found)

    async def update(self, entity: Any) -> None:
        if entity.id not in self.pages:
            raise EntityNotFound(self.entity_type.__name__, entity.id, "update")
        self.pages[entity.id] = dataclasses.replace(entity)

    async def delete(self, entity_id: str) -> None:
        if self.pages.pop(entity_id, None) is None:
            raise EntityNotFound(self.entity_type.__name__, entity_id, "delete")

    async def find(
        self,
        spec: BaseSpecification[Any] | None = None,
        *,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]:
        return [e for e in self.pages.values() if spec is None or spec.is_satisfied_by(e)]

    async def count(self, spec: BaseSpecification[Any] | None = None) -> int:
        return len(await self.find(spec))

    async def iterate(
        self, spec: BaseSpecification[Any] | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[Any]:
        for entity in await self.find(spec):
            yield entity
