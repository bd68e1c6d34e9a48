"""Built-in middleware, and the types to write your own with."""

from victor_core.cqrs.middleware.caching import CachingQueryMiddleware
from victor_core.cqrs.middleware.chain import (
    CommandMiddleware,
    Middleware,
    Next,
    NextCommand,
    NextQuery,
    QueryMiddleware,
)
from victor_core.cqrs.middleware.logging import LoggingCommandMiddleware
from victor_core.cqrs.middleware.retry import RetryCommandMiddleware
from victor_core.cqrs.middleware.validation import ValidationCommandMiddleware

__all__ = [
    "CachingQueryMiddleware",
    "CommandMiddleware",
    "LoggingCommandMiddleware",
    "Middleware",
    "Next",
    "NextCommand",
    "NextQuery",
    "QueryMiddleware",
    "RetryCommandMiddleware",
    "ValidationCommandMiddleware",
]
