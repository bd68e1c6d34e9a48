"""Under mypy --strict, ``await mediator.send(query)`` is typed by the query's ``Query[T]``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import victor_core

TYPED_USE = """
from dataclasses import dataclass
from typing import assert_type

import attrs

from victor_core import (
    Command,
    CommandBus,
    CommandResult,
    Mediator,
    Query,
    QueryBus,
    QueryResult,
    command_handler,
    query_handler,
)
from victor_core.cqrs import NextCommand


@dataclass
class GetUser(Query[dict[str, str]]):
    user_id: str = ""


@attrs.define
class CountUsers(Query[int]):
    active: bool = True


@dataclass
class CreateUser(Command):
    name: str = ""


async def get_user(query: GetUser) -> QueryResult[dict[str, str]]:
    return QueryResult(success=True, data={"name": query.user_id})


async def count_users(query: CountUsers) -> QueryResult[int]:
    return QueryResult(success=False, error="unavailable")


class CreateUserHandler:
    async def handle(self, command: CreateUser) -> CommandResult:
        return CommandResult(success=True, data=command.name)


@command_handler(CreateUser)
async def create_user(command: CreateUser) -> CommandResult:
    return CommandResult(success=True)


@query_handler(GetUser)
async def declared_get_user(query: GetUser) -> QueryResult[dict[str, str]]:
    return QueryResult(success=True, data={})


async def timing(message: Command, next: NextCommand) -> CommandResult:
    return await next(message)


async def main() -> None:
    mediator = Mediator()
    mediator.register_query(GetUser, get_user)
    mediator.register_query(CountUsers, count_users)
    mediator.register_command(CreateUser, CreateUserHandler())
    mediator.command_bus.use(timing)
    user = await mediator.send(GetUser(user_id="1"))
    assert_type(user, QueryResult[dict[str, str]])
    assert_type(await mediator.send(CountUsers()), QueryResult[int])
    assert_type(await mediator.send(CreateUser(name="x")), CommandResult)
    assert_type(await QueryBus().execute(CountUsers()), QueryResult[int])
    assert_type(await CommandBus().execute(CreateUser()), CommandResult)
    name: str | None = (user.data or {}).get("name")
    print(name)
"""

WRONG_RESULT_TYPE = """
from dataclasses import dataclass

from victor_core import Mediator, Query, QueryResult


@dataclass
class GetUser(Query[dict[str, str]]):
    user_id: str = ""


async def main() -> None:
    mediator = Mediator()
    result = await mediator.send(GetUser(user_id="1"))
    count: int | None = result.data
    print(count)
"""

WRONG_HANDLER = """
from dataclasses import dataclass

from victor_core import Mediator, Query, QueryResult


@dataclass
class GetUser(Query[dict[str, str]]):
    user_id: str = ""


@dataclass
class CountUsers(Query[int]):
    pass


async def count_users(query: CountUsers) -> QueryResult[int]:
    return QueryResult(success=True, data=1)


Mediator().register_query(GetUser, count_users)
"""


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    example = tmp_path / "example.py"
    example.write_text(textwrap.dedent(source))
    checkout = Path(victor_core.__file__).resolve().parent.parent
    env = {**os.environ, "MYPYPATH": str(checkout)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            # Judge the example only; the library is type-checked on its own.
            "--follow-imports=silent",
            "--no-incremental",
            "--config-file=",
            str(example),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module", autouse=True)
def _needs_mypy() -> None:
    pytest.importorskip("mypy")


def test_typed_usage_passes_mypy_strict(tmp_path: Path) -> None:
    run = mypy(tmp_path, TYPED_USE)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_wrong_result_type_fails_mypy_strict(tmp_path: Path) -> None:
    run = mypy(tmp_path, WRONG_RESULT_TYPE)
    assert run.returncode == 1, run.stdout + run.stderr
    assert (
        'Incompatible types in assignment (expression has type "dict[str, str] | None", '
        'variable has type "int | None")'
    ) in run.stdout


def test_a_handler_for_another_query_fails_mypy_strict(tmp_path: Path) -> None:
    run = mypy(tmp_path, WRONG_HANDLER)
    assert run.returncode == 1, run.stdout + run.stderr
    assert 'Argument 2 to "register_query" of "Mediator" has incompatible type' in run.stdout
