"""``Repository[E]``: the contract every store of entities keeps, whatever the engine."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from victor_core.errors import ConfigurationError
from victor_core.repository.entity import Entity
from victor_core.repository.specification import BaseSpecification
from victor_core.serialization import is_unicode

E = TypeVar("E", bound=Entity)

#: How many entities :meth:`Repository.iterate` fetches at a time.
DEFAULT_PAGE_SIZE = 500

#: ``"name"``, ``"-created_at"`` (descending), or several of them, most significant first.
OrderBy = str | Sequence[str] | None


class Repository(ABC, Generic[E]):
    """Async CRUD and queries over entities of one type, independent of the engine.

    Obtain one from a backend (``InMemoryRepository[User]()``,
    ``SQLiteRepository(User, "app.db")``) or by URL with
    :func:`victor_core.open_repository`. Every write either happens whole or raises and
    leaves storage as it was.
    """

    #: The class of the entities stored.
    entity_type: type[E]

    @abstractmethod
    async def add(self, entity: E) -> None:
        """Store a new entity; :class:`~victor_core.EntityAlreadyExists` if its id is taken."""

    async def add_many(self, entities: Iterable[E]) -> None:
        """Store several new entities.

        Backends store the batch atomically (all or nothing) and in one round trip; this
        default adds them one by one, so a failure keeps the ones already added.
        """
        for entity in entities:
            await self.add(entity)

    @abstractmethod
    async def get(self, entity_id: str) -> E | None:
        """The entity stored under *entity_id*, or None. Each call returns a new object."""

    @abstractmethod
    async def update(self, entity: E) -> None:
        """Store the entity's current state and move its ``updated_at``.

        :class:`~victor_core.EntityNotFound` when it is not stored;
        :class:`~victor_core.StaleEntity` when it has a version field and someone stored a
        newer version since this copy was loaded.
        """

    @abstractmethod
    async def delete(self, entity_id: str) -> None:
        """Remove the entity; :class:`~victor_core.EntityNotFound` when it is not stored."""

    @abstractmethod
    async def find(
        self,
        spec: BaseSpecification[Any] | None = None,
        *,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[E]:
        """The entities satisfying *spec* (all without one).

        Without *order_by* they come in the order they were added. Ties in *order_by* are
        broken by id, so pages taken with *limit* and *offset* never overlap.
        """

    @abstractmethod
    async def count(self, spec: BaseSpecification[Any] | None = None) -> int:
        """How many entities satisfy *spec* (all without one)."""

    async def exists(self, entity_id: str) -> bool:
        """True when an entity is stored under *entity_id*."""
        return await self.get(entity_id) is not None

    @abstractmethod
    def iterate(
        self, spec: BaseSpecification[Any] | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[E]:
        """Every entity satisfying *spec*, in the order they were added, a page at a time.

        Only one page is held in memory; entities added while iterating may or may not be
        seen, and none is seen twice.
        """

    def __aiter__(self) -> AsyncIterator[E]:
        return self.iterate()

    async def close(self) -> None:
        """Release the backend's resources. Closing twice is harmless."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def check_window(limit: object, offset: object) -> None:
    """Refuse a negative or non-integer *limit* or *offset*."""
    if limit is not None:
        check_count("limit", limit, minimum=0)
    check_count("offset", offset, minimum=0)


def check_count(name: str, value: object, *, minimum: int) -> None:
    """Refuse *value* unless it is an int >= *minimum*."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{name} must be an int >= {minimum}, got {value!r}")


def check_entity_id(entity_id: object) -> str:
    """*entity_id* when it is a non-empty string."""
    if not isinstance(entity_id, str) or not entity_id:
        raise ConfigurationError(f"entity ids are non-empty strings, got {entity_id!r}")
    if not entity_id.isascii() and not is_unicode(entity_id):
        raise ConfigurationError(
            f"entity ids are non-empty strings of Unicode text, got {entity_id!r}, which holds "
            "a lone surrogate that no database stores; remove it, or decode the bytes the id "
            "came from as what they are"
        )
    return entity_id
