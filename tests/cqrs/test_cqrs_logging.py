from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from victor_core import (
    Command,
    CommandResult,
    LoggingCommandMiddleware,
    Mediator,
    RecordedEvent,
)

LOGGER = "tests.cqrs.logging"


@dataclass
class SignUp(Command):
    email: str = ""
    password: str = ""
    apiKey: str = ""  # noqa: N815 - camelCase secrets must be caught too
    profile: dict[str, object] = field(default_factory=dict)
    author: str = ""


@pytest.fixture
def logged(mediator: Mediator) -> Mediator:
    mediator.command_bus.use(LoggingCommandMiddleware(logging.getLogger(LOGGER)))
    return mediator


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


@pytest.mark.asyncio
async def test_one_structured_record_per_successful_command(
    logged: Mediator, caplog: pytest.LogCaptureFixture
) -> None:
    async def sign_up(command: SignUp) -> CommandResult:
        return CommandResult(success=True)

    logged.register_command(SignUp, sign_up)
    command = SignUp(email="a@example.com")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await logged.send(command)
    (record,) = records(caplog)
    assert record.levelno == logging.INFO
    assert record.message_type == "SignUp"  # type: ignore[attr-defined]
    assert record.message_id == command.id  # type: ignore[attr-defined]
    assert record.outcome == "success"  # type: ignore[attr-defined]
    assert record.duration_ms >= 0  # type: ignore[attr-defined]
    assert record.fields["email"] == "a@example.com"  # type: ignore[attr-defined]
    assert "SignUp" in record.getMessage()
    assert "success" in record.getMessage()


@pytest.mark.asyncio
async def test_secret_looking_fields_are_redacted(
    logged: Mediator, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail(command: SignUp) -> CommandResult:
        return CommandResult(success=False, error="taken")

    logged.register_command(SignUp, fail)
    command = SignUp(
        email="a@example.com",
        password="hunter2",
        apiKey="k-123",
        profile={"access_token": "t-456", "nested": {"client_secret": "s-789"}, "age": 3},
        author="Ann",
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await logged.send(command)
    (record,) = records(caplog)
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["password"] == "***"
    assert fields["apiKey"] == "***"
    assert fields["profile"] == {
        "access_token": "***",
        "nested": {"client_secret": "***"},
        "age": 3,
    }
    assert fields["author"] == "Ann"
    logged_text = caplog.text + repr(record.__dict__)
    for secret in ("hunter2", "k-123", "t-456", "s-789"):
        assert secret not in logged_text


@pytest.mark.asyncio
async def test_an_unsuccessful_result_is_logged_as_a_failure_with_its_error(
    logged: Mediator, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail(command: SignUp) -> CommandResult:
        return CommandResult(success=False, error="email taken")

    logged.register_command(SignUp, fail)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        result = await logged.send(SignUp())
    assert result.error == "email taken"
    (record,) = records(caplog)
    assert record.levelno == logging.WARNING
    assert record.outcome == "failure"  # type: ignore[attr-defined]
    assert record.error == "email taken"  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_an_exception_is_logged_as_an_error_and_propagates(
    logged: Mediator, caplog: pytest.LogCaptureFixture
) -> None:
    async def crash(command: SignUp) -> CommandResult:
        raise RuntimeError("database down")

    logged.register_command(SignUp, crash)
    with caplog.at_level(logging.INFO, logger=LOGGER), pytest.raises(RuntimeError):
        await logged.send(SignUp())
    (record,) = records(caplog)
    assert record.levelno == logging.ERROR
    assert record.outcome == "error"  # type: ignore[attr-defined]
    assert record.error == "RuntimeError: database down"  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_nothing_is_logged_below_the_loggers_level(
    logged: Mediator, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[SignUp] = []

    async def sign_up(command: SignUp) -> CommandResult:
        calls.append(command)
        return CommandResult(success=True)

    logged.register_command(SignUp, sign_up)
    with caplog.at_level(logging.CRITICAL, logger=LOGGER):
        await logged.send(SignUp())
    assert records(caplog) == []
    assert len(calls) == 1


@pytest.mark.asyncio
async def test_the_level_for_successes_is_configurable(
    mediator: Mediator, caplog: pytest.LogCaptureFixture
) -> None:
    mediator.command_bus.use(
        LoggingCommandMiddleware(logging.getLogger(LOGGER), level=logging.DEBUG)
    )

    async def sign_up(command: Command) -> CommandResult:
        return CommandResult(success=True)

    mediator.register_command(SignUp, sign_up)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        await mediator.send(SignUp())
    assert [r.levelno for r in records(caplog)] == [logging.DEBUG]


@dataclass
class Replay(Command):
    recorded: object = None


@pytest.mark.asyncio
async def test_a_recorded_event_in_a_command_is_logged_by_field_name_with_secrets_redacted(
    logged: Mediator, caplog: pytest.LogCaptureFixture
) -> None:
    async def handle(command: Replay) -> CommandResult:
        return CommandResult(success=True)

    logged.register_command(Replay, handle)
    event = SignUp(email="a@example.com", password="hunter2")
    recorded = RecordedEvent(3, "user-1", 2, event, "SignUp")  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await logged.send(Replay(recorded=recorded))
    (record,) = records(caplog)
    logged_recorded = record.fields["recorded"]  # type: ignore[attr-defined]
    assert logged_recorded["position"] == 3
    assert logged_recorded["stream_id"] == "user-1"
    assert logged_recorded["event"]["password"] == "***"
    assert "hunter2" not in caplog.text + repr(record.__dict__)
