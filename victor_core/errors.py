"""Every error a user can cause, under one base class.

Each message says what happened and what to do about it, because the person reading it is
usually looking at a log, not at the code that raised it.
"""

from __future__ import annotations

from collections.abc import Sequence


class VictorError(Exception):
    """Base of every error victor-core raises on purpose."""


class ConfigurationError(VictorError):
    """A URL, option or argument that cannot work; nothing was touched."""


class ConcurrencyError(VictorError):
    """An optimistic-concurrency check failed: someone else wrote first.

    Nothing of the rejected write was stored. The usual fix is to reload and retry.
    """

    def __init__(self, stream_id: str, expected: object, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, but the append expected {expected}; "
            "nothing was written. Reload the stream (or aggregate) and retry the operation."
        )


class DuplicateEventId(VictorError):
    """An append reuses the id of an event its stream holds, and is not a retry of it.

    Nothing of the append was written. Neither reloading nor trying again cures it, so it is
    no :class:`ConcurrencyError` (nor a transient error that retry middleware would retry):
    new events need new ids.
    """

    def __init__(self, stream_id: str, event_id: str, reason: str) -> None:
        self.stream_id = stream_id
        self.event_id = event_id
        super().__init__(
            f"cannot append to stream {stream_id!r}: event {event_id} {reason}; nothing was "
            "written. An append counts as a retry, and gets the first attempt's result, only "
            "when it repeats the stream's last events exactly (the same ids, order and content, "
            "with the expected version the stream had before them); a new event needs a new "
            "id, which every new Event instance gets"
        )


class SerializationError(VictorError):
    """A value cannot be turned into stored data, or stored data back into a value."""


class UnknownEventType(SerializationError):
    """Stored data names an event type that is not registered in this process."""

    def __init__(self, type_name: str, known: Sequence[str]) -> None:
        self.type_name = type_name
        shown = ", ".join(sorted(known)[:20]) or "none"
        super().__init__(
            f"no event class is registered under the type name {type_name!r} "
            f"(registered: {shown}). Import the module that defines the class, or register it "
            f"with `event_types.register(MyEvent, name={type_name!r})`; if the class was renamed, "
            f"keep the old name with `event_types.register(MyEvent, aliases=[{type_name!r}])`."
        )


class CorruptRecord(SerializationError):
    """A stored record is damaged: it cannot be what victor wrote, so it is not read as data.

    Raised instead of returning an event or entity made up of defaults. Only the damaged
    record is refused: the rest of the storage stays readable and writable. Catch
    :class:`CorruptEvent` or :class:`CorruptEntity` for one kind, this class for both.
    """


class CorruptEvent(CorruptRecord):
    """A stored event's payload is not a JSON object carrying the event's fields."""

    def __init__(
        self,
        *,
        stream_id: str,
        version: int,
        position: int,
        type_name: str,
        event_id: str,
        problem: str,
        expected: str,
    ) -> None:
        #: Where the damaged event is: its stream, version and global position.
        self.stream_id = stream_id
        self.version = version
        self.position = position
        #: The type name stored with it, and the id of its row.
        self.type_name = type_name
        self.event_id = event_id
        super().__init__(
            f"the stored event at stream {stream_id!r} version {version} (position {position}, "
            f"type {type_name!r}, event id {event_id}) is damaged: {problem}. A stored "
            f"event's payload must be a JSON object with {expected}. Check what wrote this "
            "row (another program, an edit by hand or a bad migration) and repair it or "
            "restore it from a backup; the other events stay readable, and read_all("
            f"from_position={position + 1}) reads on after this one"
        )


class CorruptEntity(CorruptRecord):
    """A stored entity document is not a JSON object carrying the entity's fields."""

    def __init__(
        self, *, entity_type: str, entity_id: str | None, problem: str, expected: str
    ) -> None:
        #: The repository's entity class (its qualified name) and the id the document is under.
        self.entity_type = entity_type
        self.entity_id = entity_id
        super().__init__(
            f"the stored {entity_type} {entity_id!r} is damaged: {problem}. A stored entity "
            f"must be a JSON object with {expected}. Check what wrote this document (another "
            "program, an edit by hand or a bad migration) and repair it or restore it from a "
            "backup; the repository's other entities stay readable"
        )


class EventTypeConflict(VictorError):
    """Two different classes claim one stored event type name."""


class TransientError(VictorError):
    """A failure that may go away if the same command is tried again.

    Raise it (or a subclass) from a handler for conditions such as a busy database, so that
    :class:`~victor_core.cqrs.middleware.retry.RetryCommandMiddleware` retries the command.
    """


class BackendError(VictorError):
    """Base of errors about finding, loading or using a storage backend."""


class BackendUnavailable(BackendError, TransientError):
    """The storage cannot be reached: the server is down, refuses or does not answer in time.

    Nothing was done. It is transient, so a retried command may find the server back.
    """


class TransientBackendError(BackendError, TransientError):
    """The storage refused the operation for now: a deadlock, a lock not obtained in time.

    Nothing of the operation was stored, so trying it again is safe and may succeed;
    :class:`~victor_core.cqrs.middleware.retry.RetryCommandMiddleware` does by default.
    """


class BackendNotFound(BackendError):
    """No installed distribution provides the requested backend."""


class DuplicateBackend(BackendError):
    """Two installed distributions claim the same backend name."""


class PluginLoadError(BackendError):
    """A plugin's entry point failed to import; the cause is chained."""


class CapabilityNotSupported(BackendError):
    """The backend does not declare a capability the caller needs."""


class BackendContractError(BackendError):
    """A backend returned what its interface rules out: a defect of the backend, not the caller.

    The message names the backend's class and method (``MyRecorder.stream_version broke its
    contract: ...``), so the report goes to whoever maintains that backend.
    """

    @classmethod
    def of(cls, component: object, method: str, problem: str) -> BackendContractError:
        """The error for *component* (a recorder, a document store) whose *method* did wrong."""
        kind = type(component)
        return cls(
            f"{kind.__qualname__}.{method} broke its contract: {problem}. This is a defect of "
            f"the backend ({kind.__module__}), not of the calling code; report it to its "
            "maintainers"
        )


class StoreClosed(VictorError):
    """The store or repository was closed and cannot be used any more."""


class WrongEventLoop(ConfigurationError):
    """A store or repository was used from an event loop other than the one it belongs to.

    Raised by backends that do not declare ``Capability.THREADS``; nothing was done.
    """


class AggregateNotFound(VictorError):
    """No events exist for the aggregate (or not at the version or time asked for)."""


class ProjectionFailed(VictorError):
    """A projection's handler raised; the runner's checkpoint stays before that event."""


class CheckpointConflict(VictorError):
    """A checkpoint was not where its runner left it: another runner moved it meanwhile.

    Nothing was saved (and, for a checkpoint committed with the read model, none of the
    batch's writes either).
    """

    def __init__(self, name: str, expected: int, found: int) -> None:
        #: The projection whose checkpoint moved.
        self.name = name
        #: Where the runner believed the checkpoint was.
        self.expected = expected
        #: Where it was.
        self.found = found
        super().__init__(
            f"the checkpoint of projection {name!r} is at {found}, not at {expected} as this "
            "runner expected: another runner of the same projection advanced it. Run one "
            "runner per projection, or give them a lease (ProjectionRunner(..., lease=30))"
        )


class ProjectionTimeout(VictorError, TimeoutError):
    """A projection did not reach a position in the time given to wait for it."""


class EntityNotFound(VictorError, LookupError):
    """No entity with the given id is stored; nothing was changed."""

    def __init__(self, entity_type: str, entity_id: str, action: str) -> None:
        self.entity_type = entity_type
        self.entity_id = entity_id
        super().__init__(
            f"cannot {action} {entity_type} {entity_id!r}: no such entity is stored; add it "
            f"first (repo.add), or check the id"
        )


class EntityAlreadyExists(VictorError):
    """An entity with the same id is already stored; nothing of the add was written."""

    def __init__(self, entity_type: str, entity_id: str) -> None:
        self.entity_type = entity_type
        self.entity_id = entity_id
        super().__init__(
            f"{entity_type} {entity_id!r} is already stored (or given twice), so nothing was "
            "added; use repo.update() to change a stored entity, or give the new one another id"
        )


class StaleEntity(ConcurrencyError):
    """An update was made from an out-of-date copy of a versioned entity.

    Someone stored a newer version since this copy was loaded; storage was left as it was.
    """

    def __init__(self, entity_type: str, entity_id: str, expected: int, actual: int) -> None:
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.stream_id = entity_id
        self.expected = expected
        self.actual = actual
        VictorError.__init__(
            self,
            f"{entity_type} {entity_id!r} is stored at version {actual}, but this copy is "
            f"version {expected}; nothing was written. Load it again (repo.get), reapply the "
            "change and update again",
        )
