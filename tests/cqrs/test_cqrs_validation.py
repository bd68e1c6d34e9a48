from __future__ import annotations

from dataclasses import dataclass

import attrs
import pytest

from victor_core import Command, CommandResult, Mediator, ValidationCommandMiddleware


@attrs.define
class Transfer(Command):
    amount: int = attrs.field(validator=attrs.validators.gt(0))
    currency: str = attrs.field(validator=attrs.validators.in_(["EUR", "USD"]))


@dataclass
class Register(Command):
    name: str = ""
    email: str = ""

    def validate(self) -> list[str]:
        problems = []
        if not self.name:
            problems.append("name must not be empty")
        if "@" not in self.email:
            problems.append(f"email {self.email!r} has no @")
        return problems


@dataclass
class Rename(Command):
    name: str = ""

    def validate(self) -> None:
        if not self.name:
            raise ValueError("name must not be empty")


@pytest.fixture
def calls() -> list[Command]:
    return []


@pytest.fixture
def validated(mediator: Mediator, calls: list[Command]) -> Mediator:
    async def handler(command: Command) -> CommandResult:
        calls.append(command)
        return CommandResult(success=True)

    mediator.command_bus.use(ValidationCommandMiddleware())
    for command_type in (Transfer, Register, Rename):
        mediator.register_command(command_type, handler)
    return mediator


@pytest.mark.asyncio
async def test_a_valid_command_reaches_its_handler(
    validated: Mediator, calls: list[Command]
) -> None:
    result = await validated.send(Register(name="Ann", email="ann@example.com"))
    assert result == CommandResult(success=True)
    assert len(calls) == 1


@pytest.mark.asyncio
async def test_every_problem_from_validate_is_listed_and_the_handler_is_not_called(
    validated: Mediator, calls: list[Command]
) -> None:
    result = await validated.send(Register(name="", email="nope"))
    assert not result.success
    assert result.problems == ("name must not be empty", "email 'nope' has no @")
    assert result.error == ("Register is invalid: name must not be empty; email 'nope' has no @")
    assert calls == []


@pytest.mark.asyncio
async def test_validate_may_raise_value_error(validated: Mediator, calls: list[Command]) -> None:
    result = await validated.send(Rename())
    assert result.problems == ("name must not be empty",)
    assert calls == []


@pytest.mark.asyncio
async def test_attrs_validators_are_run_again_and_all_reported(
    validated: Mediator, calls: list[Command]
) -> None:
    with attrs.validators.disabled():
        command = Transfer(amount=0, currency="GBP")
    result = await validated.send(command)
    assert not result.success
    assert len(result.problems) == 2
    assert result.problems[0].startswith("amount: ")
    assert result.problems[1].startswith("currency: ")
    assert calls == []


@pytest.mark.asyncio
async def test_a_command_changed_after_construction_is_checked(
    validated: Mediator, calls: list[Command]
) -> None:
    command = Transfer(amount=10, currency="EUR")
    object.__setattr__(command, "amount", -5)
    result = await validated.send(command)
    assert [p.split(":")[0] for p in result.problems] == ["amount"]
    assert calls == []


@pytest.mark.asyncio
async def test_a_validate_method_returning_nonsense_is_reported(mediator: Mediator) -> None:
    @dataclass
    class Odd(Command):
        def validate(self) -> int:
            return 42

    async def handler(command: Odd) -> CommandResult:
        return CommandResult(success=True)

    mediator.command_bus.use(ValidationCommandMiddleware())
    mediator.register_command(Odd, handler)
    with pytest.raises(TypeError, match=r"Odd.validate\(\) returned 42; it must return"):
        await mediator.send(Odd())
