"""Driver errors turned into victor's, in one place.

A duplicate key is not an error here: the modules that write expect it and decide what it
means (a concurrent append, an id already taken). The rest falls in four kinds, each with a
victor error that says what to do:

- a transaction the server aborted because of a concurrent writer or a failover (code 112,
  or the ``TransientTransactionError`` label): :class:`TransactionConflict`, a
  :class:`~victor_core.TransientBackendError`, since running the same work again is the cure (the
  unit of work does so itself a few times first, as PyMongo's ``with_transaction`` does);
- a write whose fate the driver cannot know (a write-concern timeout, a connection lost after
  the command was sent, a commit with ``UnknownTransactionCommitResult``):
  :class:`OutcomeUnknown`, because retrying blindly could store it twice;
- a value or a document MongoDB cannot store: :class:`~victor_core.SerializationError` or
  :class:`~victor_core.ConfigurationError`, raised before anything is written;
- a server that cannot be reached (no command sent): :class:`~victor_core.BackendUnavailable`;
- anything else about using the server: :class:`~victor_core.BackendError` naming what to
  check. The driver's exception is always chained.
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
    NotPrimaryError,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
    WriteConcernError,
)

from victor_core.backend import (
    BackendError,
    BackendUnavailable,
    ConcurrencyError,
    ConfigurationError,
    ExpectedVersion,
    SerializationError,
    TransientBackendError,
    VictorError,
)

#: Server error codes that mean the credentials or the user's roles do not allow the call.
_AUTH_CODES = frozenset({13, 18})
#: The server's code for a unique-index violation.
DUPLICATE_KEY = 11000
#: Two transactions (or a transaction and a write) changed the same document.
WRITE_CONFLICT = 112
#: The server gave up waiting for the time limit of an operation (or of a commit).
MAX_TIME_EXPIRED = 50
#: The label of an error after which the whole transaction may be run again.
TRANSIENT_TRANSACTION = "TransientTransactionError"
#: The label of a commit that may or may not have been applied.
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"

#: What to do about a document over 16 MB, by what the document stores.
EVENTS_TOO_LARGE = (
    "events of one append are stored together in one document, so split a very large "
    "append into several"
)
ENTITY_TOO_LARGE = (
    "an entity is stored as one document; keep large values (files, long lists) outside it, "
    "in GridFS or object storage, and store a reference"
)
SNAPSHOT_TOO_LARGE = (
    "a snapshot is stored as one document; snapshot less state (or do not snapshot this "
    "aggregate) and rebuild it from its events"
)


class TransactionConflict(TransientBackendError):
    """MongoDB aborted a transaction because of a concurrent writer or a failover.

    Nothing of the transaction was stored, and running the same work again is expected to
    succeed, so :class:`~victor_core.RetryCommandMiddleware` retries it by default.
    """

    def __init__(self, where: str, cause: BaseException) -> None:
        super().__init__(
            f"{where}: MongoDB aborted the transaction ({cause}); another write changed the "
            "same documents, or the replica set changed its primary. Nothing of the "
            "transaction was stored; run it again"
        )


class AppendConflict(TransactionConflict, ConcurrencyError):
    """An append inside a transaction lost the race to a concurrent append.

    A :class:`~victor_core.ConcurrencyError` as well: code that reloads and retries on a
    concurrency error handles it, and so does a retry on transient errors.
    """

    def __init__(self, stream_id: str, expected: ExpectedVersion, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        VictorError.__init__(
            self,
            f"appending to stream {stream_id!r} inside a transaction lost the race to a "
            f"concurrent append (the stream was at version {actual} when read, the append "
            f"expected {expected}); nothing of the transaction was stored. Run the transaction "
            "(the unit of work) again",
        )


class OutcomeUnknown(BackendError):
    """A write was sent, but whether MongoDB stored it cannot be known from here."""

    def __init__(self, where: str, cause: BaseException) -> None:
        super().__init__(
            f"{where}: outcome unknown: reread before retrying. MongoDB may or may not have "
            f"stored the write ({type(cause).__name__}: {cause}); read what it was meant to "
            "change (appends with the same event ids are stored once, so retrying an append "
            "is safe) before writing again"
        )


def is_transient(error: BaseException) -> bool:
    """True when *error* ended a transaction that may be run again from the start."""
    return isinstance(error, PyMongoError) and (
        error.has_error_label(TRANSIENT_TRANSACTION)
        or (isinstance(error, OperationFailure) and error.code == WRITE_CONFLICT)
    )


def commit_may_be_retried(error: BaseException) -> bool:
    """True when a failed commit may have been applied and may be sent again."""
    return (
        isinstance(error, PyMongoError)
        and error.has_error_label(UNKNOWN_COMMIT)
        and not (isinstance(error, OperationFailure) and error.code == MAX_TIME_EXPIRED)
    )


@contextmanager
def translated(
    where: str, *, writing: bool = False, too_large: str = EVENTS_TOO_LARGE
) -> Iterator[None]:
    """Raise driver errors met while doing *where* (``"appending to 'orders'"``) as victor's.

    *writing* says that the block sends a write, whose outcome a lost connection leaves
    unknown; *too_large* says what to do about a document over MongoDB's size limit.
    """
    try:
        yield
    except DuplicateKeyError:
        raise
    except DocumentTooLarge as exc:
        raise ConfigurationError(
            f"{where}: the document is larger than MongoDB's 16 MB limit ({exc}); {too_large}"
        ) from exc
    except (InvalidDocument, UnicodeEncodeError) as exc:
        raise SerializationError(
            f"{where}: MongoDB cannot store this value ({exc}); strings must be valid Unicode "
            "(no lone surrogates), and integers fit in 64 bits"
        ) from exc
    except WriteConcernError as exc:
        raise OutcomeUnknown(where, exc) from exc
    except ConnectionFailure as exc:
        if is_transient(exc):
            raise TransactionConflict(where, exc) from exc
        if commit_may_be_retried(exc) or (writing and _maybe_sent(exc)):
            raise OutcomeUnknown(where, exc) from exc
        raise BackendUnavailable(
            f"{where}: MongoDB could not be reached ({type(exc).__name__}: {exc}); check that "
            "the server is running and that the URL's hosts and replicaSet are right"
        ) from exc
    except OperationFailure as exc:
        if is_transient(exc):
            raise TransactionConflict(where, exc) from exc
        if commit_may_be_retried(exc):
            raise OutcomeUnknown(where, exc) from exc
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


def _maybe_sent(error: ConnectionFailure) -> bool:
    """False when the driver failed before the command left (no server, no connection)."""
    return not isinstance(
        error, ServerSelectionTimeoutError | WaitQueueTimeoutError | NotPrimaryError
    )
