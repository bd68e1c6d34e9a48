"""Compilers trust only the forms victor's converter writes; other hooks leave work to Python."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest

from victor_core.repository.declared_attributes import in_default_form
from victor_core.serialization import converter, make_converter


class Tier(enum.Enum):
    FREE = "free"
    PRO = "pro"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@pytest.mark.parametrize("declared", [str, int, float, bool, UUID, datetime, Tier, Level])
def test_the_shared_converter_writes_every_compiled_type_in_the_default_form(
    declared: Any,
) -> None:
    assert in_default_form(converter, declared)


@pytest.mark.parametrize(
    ("declared", "hook"),
    [
        (Tier, lambda tier: tier.name),
        (UUID, lambda code: code.hex),
        (datetime, lambda moment: moment.timestamp()),
        (datetime, lambda moment: moment.strftime("%d/%m/%Y %H:%M")),
        (str, lambda text: text.upper()),
    ],
)
def test_a_hook_of_its_own_is_not_trusted(declared: Any, hook: Any) -> None:
    custom = make_converter()
    custom.register_unstructure_hook(declared, hook)

    assert not in_default_form(custom, declared)
    assert in_default_form(make_converter(), declared)


def test_types_no_compiler_handles_are_never_trusted() -> None:
    assert not in_default_form(converter, list)
    assert not in_default_form(converter, "Tier")
