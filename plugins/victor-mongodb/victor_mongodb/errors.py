"""Driver errors turned into victor's, in one place.

A duplicate key is not an error here: the modules that write expect it and decide what it
means (a concurrent append, an id already taken). Everything else the driver raises about
reaching or using the server becomes a :class:`~victor_core.BackendError` whose message says
what to check, with the driver's exception chained.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bson.errors import InvalidDocument
from pymongo.errors import (
    ConfigurationError as DriverConfigurationError,
)
from pymongo.errors import (
    ConnectionFailure,
    DocumentTooLarge,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
)

from victor_core.backend import BackendError, ConfigurationError, SerializationError

#: Server error codes that mean the credentials or the user's roles do not allow the call.
_AUTH_CODES = frozenset({13, 18})
#: The server's code for a unique-index violation.
DUPLICATE_KEY = 11000
#: Two transactions (or a transaction and a write) changed the same document.
WRITE_CONFLICT = 112


@contextmanager
def translated(where: str) -> Iterator[None]:
    """Raise driver errors met while doing *where* (``"appending to 'orders'"``) as victor's."""
    try:
        yield
    except DuplicateKeyError:
        raise
    except DocumentTooLarge as exc:
        raise ConfigurationError(
            f"{where}: the document is larger than MongoDB's 16 MB limit ({exc}); events of one "
            "append are stored together, so split a very large append into several"
        ) from exc
    except InvalidDocument as exc:
        raise SerializationError(f"{where}: MongoDB cannot store this value: {exc}") from exc
    except ConnectionFailure as exc:
        raise BackendError(
            f"{where}: MongoDB could not be reached ({type(exc).__name__}: {exc}); check that "
            "the server is running and that the URL's hosts and replicaSet are right"
        ) from exc
    except OperationFailure as exc:
        if exc.code in _AUTH_CODES:
            raise BackendError(
                f"{where}: MongoDB refused the credentials or the operation ({exc}); check the "
                "user name, password and authSource in the URL, and the user's roles"
            ) from exc
        raise BackendError(f"{where}: MongoDB refused the operation: {exc}") from exc
    except DriverConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from exc
    except PyMongoError as exc:
        raise BackendError(f"{where}: {type(exc).__name__}: {exc}") from exc
