"""The writes a unit of work hands to a transaction manager, as backend-neutral values.

A commit is a list of these, in the order they must happen. They name the backend's own
:class:`~victor_core.repository.DocumentStore` or
:class:`~victor_core.eventsourcing.recorder.EventRecorder`, and carry data already
serialized by the kernel, so a transaction manager only has to apply them, in order, in one
transaction, exactly as the store's own methods would: an insert of an id that is taken, a
replace or remove of a document that is absent (or, with a check, at another version) and
an append that fails its expected version are refusals, after which nothing at all may be
written.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from victor_core.errors import CheckpointConflict, VictorError
from victor_core.eventsourcing.checkpoints import CheckpointStore
from victor_core.eventsourcing.recorder import EventRecorder
from victor_core.eventsourcing.records import AppendResult, ExpectedVersion, NewEventRecord
from victor_core.repository.documents import DocumentStore, NewDocument, VersionCheck


@attrs.frozen(eq=False)
class InsertDocuments:
    """Insert all *documents*; refused when one id is stored already or given twice."""

    store: DocumentStore
    documents: tuple[NewDocument, ...]


@attrs.frozen(eq=False)
class ReplaceDocument:
    """Replace one stored document in place; refused when absent or when *check* fails."""

    store: DocumentStore
    entity_id: str
    document: str
    check: VersionCheck | None


@attrs.frozen(eq=False)
class RemoveDocument:
    """Remove one stored document; refused when absent."""

    store: DocumentStore
    entity_id: str


@attrs.frozen(eq=False)
class AppendEvents:
    """Append *records* to a stream; a failed expected version raises ``ConcurrencyError``."""

    recorder: EventRecorder
    stream_id: str
    records: tuple[NewEventRecord, ...]
    expected_version: ExpectedVersion


@attrs.frozen(eq=False)
class AdvanceCheckpoint:
    """Move projection *name*'s checkpoint from *expected* to *position* (compare-and-set).

    Committed with a read model's writes, it makes a projection exactly once. When the
    checkpoint is elsewhere, raise :class:`~victor_core.errors.CheckpointConflict` (as
    an append raises ``ConcurrencyError``) and write nothing.
    """

    checkpoints: CheckpointStore
    name: str
    expected: int
    position: int


class WriteRefused(VictorError):
    """A backend could not apply one write of a transaction, so it applied none of them.

    Transaction managers raise it; the unit of work turns it into the error a user acts on
    (:class:`~victor_core.EntityAlreadyExists`, :class:`~victor_core.StaleEntity`,
    :class:`~victor_core.EntityNotFound`).
    """

    def __init__(self, write: Write, *, entity_id: str | None = None) -> None:
        #: The write that could not be applied (the very object the manager was given).
        self.write = write
        #: For an insert, the id that is already taken (or repeated).
        self.entity_id = entity_id
        super().__init__(f"{type(write).__name__} could not be applied (id {entity_id!r})")


#: One write of a commit.
Write = InsertDocuments | ReplaceDocument | RemoveDocument | AppendEvents | AdvanceCheckpoint

#: What applying a write gives back: the append's result, or None for document writes.
WriteResult = AppendResult | None


async def apply_one(write: Write) -> WriteResult:
    """Apply *write* through the store's (or recorder's) own method.

    For backends whose stores join a transaction in progress by themselves, and for writes
    made outside any transaction. Raises :class:`WriteRefused` when the write is refused.
    """
    if isinstance(write, InsertDocuments):
        taken = await write.store.insert(write.documents)
        if taken is not None:
            raise WriteRefused(write, entity_id=taken)
        return None
    if isinstance(write, ReplaceDocument):
        if not await write.store.replace(write.entity_id, write.document, write.check):
            raise WriteRefused(write, entity_id=write.entity_id)
        return None
    if isinstance(write, RemoveDocument):
        if not await write.store.remove(write.entity_id):
            raise WriteRefused(write, entity_id=write.entity_id)
        return None
    if isinstance(write, AdvanceCheckpoint):
        found = await write.checkpoints.swap_checkpoint(write.name, write.expected, write.position)
        if found is not None:
            raise CheckpointConflict(write.name, write.expected, found)
        return None
    return await write.recorder.append(write.stream_id, write.records, write.expected_version)


async def apply_in_order(writes: Sequence[Write]) -> list[WriteResult]:
    """Apply *writes* one after another with :func:`apply_one`; stop at the first refusal."""
    return [await apply_one(write) for write in writes]
