"""What can go wrong when sending commands and queries, and what to do about it."""

from __future__ import annotations

from victor_core.errors import TransientError, VictorError


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


__all__ = [
    "DuplicateHandler",
    "HandlerNotFound",
    "InvalidHandler",
    "MessageTypeError",
    # Defined with the other errors, since backends raise it too.
    "TransientError",
]
