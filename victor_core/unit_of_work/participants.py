"""Which participant stands for a registered repository, or why none fits."""

from __future__ import annotations

from victor_core.errors import ConfigurationError
from victor_core.eventsourcing.aggregate import Aggregate
from victor_core.eventsourcing.repository import AggregateRepository
from victor_core.eventsourcing.store import EventStore
from victor_core.repository.cached import CachedRepository
from victor_core.repository.document_repository import DocumentRepository
from victor_core.repository.entity import check_entity_type
from victor_core.repository.repository import Repository
from victor_core.unit_of_work.aggregates import AggregateParticipant
from victor_core.unit_of_work.entities import (
    CachedParticipant,
    DocumentParticipant,
    EntityParticipant,
    RepositoryParticipant,
)
from victor_core.unit_of_work.steps import Participant, Step

__all__ = [
    "AggregateParticipant",
    "EntityParticipant",
    "Participant",
    "Step",
    "participant_for",
]


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
