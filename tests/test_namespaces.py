"""What an application imports and what a backend imports are two namespaces.

The root holds the design's classes, the ``open_*`` functions and the errors an application
catches; a name that moved to its package still imports from the root for now, with a warning
that says where it lives.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import victor_core
import victor_core.backend

SEED = Path(__file__).parent / "seed" / "core-design-patterns.md"


def seed_names() -> set[str]:
    """Every name the design document imports or lists as a class, function or error."""
    text = SEED.read_text(encoding="utf-8")
    imported = {
        name.strip()
        for line in re.findall(r"from victor\.core import ([^\n]+)", text)
        for name in line.split(",")
    }
    listed = set(re.findall(r"^\| `([A-Za-z_]+)` \|", text, flags=re.MULTILINE))
    return imported | listed


def test_every_name_of_the_design_imports_from_the_root_without_a_warning() -> None:
    backend_classes = {"InMemoryEventStore", "InMemoryRepository", "SQLiteEventStore"}
    backend_classes |= {"SQLiteRepository", "SQLiteUnitOfWork"}
    names = seed_names() - backend_classes

    assert {"Event", "Aggregate", "UnitOfWork", "Mediator", "CachedRepository"} <= names
    assert names <= set(victor_core.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in names:
            getattr(victor_core, name)


def test_the_root_has_no_backend_only_names() -> None:
    backend_only = {"BackendInfo", "EventRecorder", "DocumentStore", "hookimpl", "parse_url"}

    assert not backend_only & set(victor_core.__all__)
    assert backend_only <= set(victor_core.backend.__all__)
    assert {"open_event_store", "open_repository", "ConcurrencyError", "EntityNotFound"} <= set(
        victor_core.__all__
    )


@pytest.mark.parametrize(("name", "home"), sorted(victor_core._MOVED.items()))
def test_a_moved_name_still_imports_from_the_root_with_a_warning_naming_its_home(
    name: str, home: str
) -> None:
    with pytest.warns(DeprecationWarning, match=rf"import it from {re.escape(home)}") as caught:
        value = getattr(victor_core, name)

    assert value is getattr(__import__(home, fromlist=[name]), name)
    assert name not in victor_core.__all__
    assert caught[0].filename == __file__  # the warning points at the importing line


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        victor_core.NoSuchThing  # noqa: B018
