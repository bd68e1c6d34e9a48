"""Entities of either record library, and repositories bound to them by subscript."""

from __future__ import annotations

import dataclasses

import attrs
import pytest

from tests.support.backend import ListRepository
from victor_core import ConfigurationError, Entity
from victor_core.repository import entity_name, version_field


@dataclasses.dataclass
class Note(Entity):
    text: str


@attrs.define
class Tag(Entity):
    __entity_name__ = "labels"
    label: str
    version: int = 0


@dataclasses.dataclass
class Release(Entity):
    __version_field__ = None
    version: str = "1.0"


def test_both_kinds_of_subclass_get_the_base_fields_as_keywords() -> None:
    note = Note("hello")
    tag = Tag(label="x", id="fixed")

    assert note.id
    assert note.created_at.tzinfo is not None
    assert note.updated_at >= note.created_at
    assert tag.id == "fixed"
    assert tag.updated_at.tzinfo is not None


def test_storage_names_and_version_fields() -> None:
    assert entity_name(Note) == "Note"
    assert entity_name(Tag) == "labels"
    assert version_field(Note) is None
    assert version_field(Tag) == "version"
    assert version_field(Release) is None


def test_a_version_field_that_is_not_an_int_is_refused() -> None:
    @dataclasses.dataclass
    class Odd(Entity):
        version: str = "x"

    with pytest.raises(ConfigurationError, match="version"):
        ListRepository(Odd)


def test_subscripting_binds_the_entity_type_once() -> None:
    bound = ListRepository[Note]

    assert bound is ListRepository[Note]
    assert issubclass(bound, ListRepository)
    assert bound().entity_type is Note
    assert ListRepository(Note).entity_type is Note
    assert ListRepository[Note](Note).entity_type is Note


def test_a_repository_class_derived_from_a_bound_one_keeps_its_entity_type() -> None:
    class Notes(ListRepository[Note]):
        async def texts(self) -> list[str]:
            return [note.text for note in await self.find()]

    assert Notes().entity_type is Note


@pytest.mark.parametrize(
    "make",
    [
        lambda: ListRepository(),
        lambda: ListRepository(dict),  # type: ignore[arg-type]
        lambda: ListRepository(Entity),
        lambda: ListRepository[Note](Tag),  # type: ignore[arg-type]
    ],
)
def test_a_repository_without_a_proper_entity_class_is_refused(make: object) -> None:
    with pytest.raises(ConfigurationError):
        make()  # type: ignore[operator]
