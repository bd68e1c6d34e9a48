from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC

import attrs
import pytest

from victor_core import Command, CommandResult, Query, QueryResult


@dataclass
class RenameUser(Command):
    user_id: str  # no default: the base fields are keyword-only
    name: str = ""


@attrs.define
class DeactivateUser(Command):
    user_id: str
    reason: str = ""


@dataclass
class GetUser(Query[dict[str, str]]):
    user_id: str = ""


@attrs.frozen
class CountUsers(Query[int]):
    active: bool = True


def test_commands_get_a_fresh_id_and_an_aware_utc_timestamp() -> None:
    first, second = RenameUser(user_id="u1"), RenameUser(user_id="u1")
    assert first.id != second.id
    assert first.timestamp.tzinfo is UTC
    assert first.timestamp <= second.timestamp


def test_command_base_fields_can_be_given_by_keyword() -> None:
    command = RenameUser("u1", "Bob", id="fixed")
    assert (command.id, command.user_id, command.name) == ("fixed", "u1", "Bob")


def test_attrs_commands_inherit_the_base_fields() -> None:
    # mypy's attrs plugin cannot see base fields that attrs did not declare itself.
    command = DeactivateUser("u1", id="fixed")
    assert command.id == "fixed"
    assert command.user_id == "u1"
    assert {a.name for a in attrs.fields(DeactivateUser)} >= {"id", "timestamp", "user_id"}


def test_dataclass_commands_list_the_base_fields() -> None:
    names = [f.name for f in dataclasses.fields(RenameUser)]
    assert names == ["id", "timestamp", "user_id", "name"]


def test_queries_are_equal_when_their_values_are() -> None:
    assert GetUser(user_id="1") == GetUser(user_id="1")
    assert GetUser(user_id="1") != GetUser(user_id="2")
    assert CountUsers() == CountUsers(active=True)
    assert hash(CountUsers()) == hash(CountUsers(active=True))


def test_queries_have_no_id_of_their_own() -> None:
    assert [f.name for f in dataclasses.fields(GetUser)] == ["user_id"]
    assert [a.name for a in attrs.fields(CountUsers)] == ["active"]


def test_query_carries_its_result_type() -> None:
    assert GetUser.__orig_bases__ == (Query[dict[str, str]],)  # type: ignore[attr-defined]
    assert isinstance(CountUsers(), Query)


def test_results_default_to_no_data_and_no_error() -> None:
    assert CommandResult(success=True) == CommandResult(True, None, None, ())
    result: QueryResult[int] = QueryResult(success=True, data=3)
    assert (result.success, result.data, result.error) == (True, 3, None)


def test_results_are_immutable() -> None:
    result = CommandResult(success=True)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.success = False  # type: ignore[misc]


def test_command_result_problems_are_kept_as_a_tuple() -> None:
    result = CommandResult(success=False, error="bad", problems=["a", "b"])
    assert result.problems == ("a", "b")
