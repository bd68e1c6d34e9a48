"""What can go wrong when sending commands and queries, and what to do about it."""

from __future__ import annotations

from victor_core.errors import VictorError


class HandlerNotFound(VictorError, LookupError):
    """A message was sent but nothing is registered to handle its type."""


class DuplicateHandler(VictorError):
    """A second handler was registered for a message type that already has one.

    A command or query has exactly one handler, so that sending it has one meaning; to fan
    out to several receivers, publish an event instead.
    """


class InvalidHandler(VictorError, TypeError):
    """A handler or middleware is not something the bus can await."""


class MessageTypeError(VictorError, TypeError):
    """A value that is not the right kind of message was registered or sent."""


class TransientError(VictorError):
    """A failure that may go away if the same command is tried again.

    Raise it (or a subclass) from a handler for conditions such as a busy database, so that
    :class:`~victor_core.cqrs.middleware.retry.RetryCommandMiddleware` retries the command.
    """
