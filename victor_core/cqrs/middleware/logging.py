"""One structured log record per command: what it was, how long it took, how it ended."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

import attrs

from victor_core.cqrs.messages import Command, CommandResult
from victor_core.cqrs.middleware._values import message_values
from victor_core.cqrs.middleware.chain import NextCommand

REDACTED = "***"

#: Name parts whose values never reach a log (``password``, ``access_token``, ``apiKey``...).
SECRET_NAMES = re.compile(
    r"(^|_)(pass(word|wd|phrase)?s?|secrets?|tokens?|api_?keys?|auth(orization)?"
    r"|credentials?|private_?keys?|session_?ids?|cookies?)($|_)"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_MAX_DEPTH = 4
_PLAIN = frozenset({str, int, float, bool, type(None), bytes})


def redacted(value: Any, depth: int = 0) -> Any:
    """*value* made safe to log: secret-looking keys and fields are replaced by ``***``."""
    if type(value) in _PLAIN:
        return value
    if depth > _MAX_DEPTH:
        return "..."
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _is_secret(key) else redacted(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a named tuple (RecordedEvent)
        return {
            key: REDACTED if _is_secret(key) else redacted(item, depth + 1)
            for key, item in value._asdict().items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redacted(item, depth + 1) for item in value]
    if not isinstance(value, type) and (dataclasses.is_dataclass(value) or attrs.has(type(value))):
        values = message_values(value) or ()
        return {
            name: REDACTED if _is_secret(name) else redacted(item, depth + 1)
            for name, item in values
        }
    return value


def _is_secret(key: object) -> bool:
    return isinstance(key, str) and _is_secret_name(key)


@functools.lru_cache(maxsize=4096)
def _is_secret_name(name: str) -> bool:
    return SECRET_NAMES.search(_CAMEL.sub("_", name).lower()) is not None


class LoggingCommandMiddleware:
    """Logs each command once, when it ends, through :mod:`logging`.

    The record's message is a readable line; the same facts are attributes of the record
    for structured handlers: ``message_type``, ``message_id``, ``duration_ms``, ``outcome``
    (``"success"``, ``"failure"`` for an unsuccessful result, ``"error"`` for an exception),
    ``error`` and ``fields``, the command's values with secret-looking ones
    (password, token, secret, api_key, ...) replaced by ``***``. Failures are logged at
    WARNING and exceptions at ERROR; when the logger would drop the record anyway, the
    middleware costs almost nothing.
    """

    def __init__(self, logger: logging.Logger | None = None, *, level: int = logging.INFO) -> None:
        self.logger = logger if logger is not None else logging.getLogger("victor_core.cqrs")
        self.level = level

    async def __call__(self, message: Command, next: NextCommand) -> CommandResult:
        if not self.logger.isEnabledFor(max(self.level, logging.ERROR)):
            return await next(message)
        started = time.perf_counter()
        try:
            result = await next(message)
        except Exception as exc:
            self._log(message, started, "error", f"{type(exc).__name__}: {exc}")
            raise
        if getattr(result, "success", True):
            self._log(message, started, "success", None)
        else:
            self._log(message, started, "failure", getattr(result, "error", None))
        return result

    def _log(self, message: Command, started: float, outcome: str, error: str | None) -> None:
        duration_ms = (time.perf_counter() - started) * 1000
        level = {"success": self.level, "failure": logging.WARNING}.get(outcome, logging.ERROR)
        level = max(level, self.level)
        if not self.logger.isEnabledFor(level):
            return
        name = type(message).__qualname__
        message_id = getattr(message, "id", None)
        values = message_values(message) or ()
        fields = {
            key: REDACTED if _is_secret(key) else redacted(value)
            for key, value in values
            if key not in ("id", "timestamp")
        }
        text = "%s %s %s in %.3f ms"
        args: tuple[Any, ...] = (name, message_id, outcome, duration_ms)
        if error is not None:
            text += ": %s"
            args = (*args, error)
        self.logger.log(
            level,
            text,
            *args,
            extra={
                "message_type": name,
                "message_id": message_id,
                "duration_ms": duration_ms,
                "outcome": outcome,
                "error": error,
                "fields": fields,
            },
        )
