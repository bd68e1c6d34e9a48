"""CQRS: commands and queries sent through a mediator, with middleware on its buses.

The design document's quick example, completed into a program: a handler for one command
and one query, registered on a mediator; then the built-in middleware that log and validate
commands and cache query results. Run it with ``python examples/cqrs.py``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass

from victor_core import (
    CachingQueryMiddleware,
    Command,
    CommandResult,
    LoggingCommandMiddleware,
    Mediator,
    Query,
    QueryResult,
    ValidationCommandMiddleware,
)

users: dict[str, dict[str, str]] = {}
reads: list[str] = []


@dataclass
class CreateUserCommand(Command):
    name: str = ""
    email: str = ""

    def validate(self) -> list[str]:
        """Checked by ValidationCommandMiddleware before the handler runs."""
        return [] if "@" in self.email else [f"email {self.email!r} must contain @"]


@dataclass
class GetUserQuery(Query[dict[str, str]]):
    user_id: str = ""


async def handle_create_user(cmd: CreateUserCommand) -> CommandResult:
    user_id = f"user-{cmd.email.split('@')[0]}"
    users[user_id] = {"name": cmd.name, "email": cmd.email}
    return CommandResult(success=True, data={"user_id": user_id})


async def handle_get_user(query: GetUserQuery) -> QueryResult[dict[str, str]]:
    reads.append(query.user_id)
    user = users.get(query.user_id)
    if user is None:
        return QueryResult(success=False, error=f"no user {query.user_id!r}")
    return QueryResult(success=True, data=user)


async def main() -> None:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="  log: %(message)s")

    mediator = Mediator()
    mediator.register_command(CreateUserCommand, handle_create_user)
    mediator.register_query(GetUserQuery, handle_get_user)

    # Middleware run in the order they are added, the first one outermost.
    mediator.command_bus.use(LoggingCommandMiddleware())
    mediator.command_bus.use(ValidationCommandMiddleware())
    cache = CachingQueryMiddleware(ttl=60)
    mediator.query_bus.use(cache)

    # Execute
    result = await mediator.send(CreateUserCommand(name="Eve", email="eve@ex.com"))
    print(f"create: success={result.success} data={result.data}")
    user_id = result.data["user_id"]

    user = await mediator.send(GetUserQuery(user_id=user_id))
    print(f"get: {user.data}")
    await mediator.send(GetUserQuery(user_id=user_id))
    print(f"asked twice, the handler ran {len(reads)} time(s): the second answer was cached")

    invalid = await mediator.send(CreateUserCommand(name="Mallory", email="nowhere"))
    print(f"invalid command: success={invalid.success} error={invalid.error!r}")


if __name__ == "__main__":
    asyncio.run(main())
