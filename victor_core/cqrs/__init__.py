"""CQRS: commands change state, queries read it, and each goes to exactly one handler.

``messages`` defines what is sent, ``handlers`` what receives it (and the decorators that
declare receivers), ``bus`` routes one kind of message through its middleware chain, and
``mediator`` is the single entry point for both kinds. Built-in middleware lives in
``middleware``.
"""

from victor_core.cqrs.bus import CommandBus, QueryBus
from victor_core.cqrs.errors import (
    DuplicateHandler,
    HandlerNotFound,
    InvalidHandler,
    MessageTypeError,
    TransientError,
)
from victor_core.cqrs.handlers import (
    CommandHandler,
    CommandHandlerObject,
    HandlerRegistry,
    QueryHandler,
    QueryHandlerObject,
    command_handler,
    message_handlers,
    query_handler,
)
from victor_core.cqrs.mediator import Mediator
from victor_core.cqrs.messages import Command, CommandResult, Query, QueryResult
from victor_core.cqrs.middleware import (
    CachingQueryMiddleware,
    CommandMiddleware,
    LoggingCommandMiddleware,
    Middleware,
    Next,
    NextCommand,
    NextQuery,
    QueryMiddleware,
    RetryCommandMiddleware,
    ValidationCommandMiddleware,
)

__all__ = [
    "CachingQueryMiddleware",
    "Command",
    "CommandBus",
    "CommandHandler",
    "CommandHandlerObject",
    "CommandMiddleware",
    "CommandResult",
    "DuplicateHandler",
    "HandlerNotFound",
    "HandlerRegistry",
    "InvalidHandler",
    "LoggingCommandMiddleware",
    "Mediator",
    "MessageTypeError",
    "Middleware",
    "Next",
    "NextCommand",
    "NextQuery",
    "Query",
    "QueryBus",
    "QueryHandler",
    "QueryHandlerObject",
    "QueryMiddleware",
    "QueryResult",
    "RetryCommandMiddleware",
    "TransientError",
    "ValidationCommandMiddleware",
    "command_handler",
    "message_handlers",
    "query_handler",
]
