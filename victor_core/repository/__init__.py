"""Repositories of entities, specifications that query them, and a cache in front of them.

``Repository[E]`` is the contract; backends provide it by implementing a small
``DocumentStore`` that ``DocumentRepository`` turns into a complete repository.
"""

from victor_core.repository.cached import CachedRepository, CacheInfo
from victor_core.repository.document_repository import DocumentRepository
from victor_core.repository.documents import (
    DocumentQuery,
    DocumentStore,
    NewDocument,
    StoredDocument,
    VersionCheck,
)
from victor_core.repository.entity import Entity, entity_name, version_field
from victor_core.repository.repository import DEFAULT_PAGE_SIZE, OrderBy, Repository
from victor_core.repository.specification import (
    PATH_RULE,
    AndSpecification,
    AttributeSpecification,
    BaseSpecification,
    NotSpecification,
    Operator,
    OrderKey,
    OrSpecification,
    Specification,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "PATH_RULE",
    "AndSpecification",
    "AttributeSpecification",
    "BaseSpecification",
    "CacheInfo",
    "CachedRepository",
    "DocumentQuery",
    "DocumentRepository",
    "DocumentStore",
    "Entity",
    "NewDocument",
    "NotSpecification",
    "Operator",
    "OrSpecification",
    "OrderBy",
    "OrderKey",
    "Repository",
    "Specification",
    "StoredDocument",
    "VersionCheck",
    "entity_name",
    "version_field",
]
