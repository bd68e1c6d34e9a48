"""Copying an event store, and the repositories named, from one backend to another.

This is how an application moves between engines (from SQLite to PostgreSQL, most often):
``victor copy SOURCE_URL TARGET_URL`` or :func:`copy_store`. Everything goes through the
backends' ordinary interfaces, so any installed backend can be either end:

- **Events** keep their ids, streams, versions, types, payloads and timestamps, and their
  global order. Global *positions* belong to each engine (PostgreSQL derives them from
  transaction ids), so the target hands out its own, in the same order.
- **Checkpoints** are translated to the target's positions: a projection that had handled
  the source's events up to one of them has handled the same events in the target.
- **Snapshots** are copied as stored; **repositories** document by document, in the order
  they were added, for the entity classes named.

A copy is **resumable**: when the target holds the start of the source (the same records in
the same order), a copy goes on after it, so an interrupted copy is simply run again. A
target that holds anything else is **refused** before a single write. At the end the copy is
**verified**: the target is read back and its counts and SHA-256 checksums of the canonical
records must equal the source's, or :class:`CopyMismatch` is raised.

The source is copied up to the head of its log when the copy starts. Events appended to it
meanwhile are left for the next run, which picks them up (stop the writers before the last
run, so that nothing is left behind).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import attrs

from victor_core.backend.transactions import find_transaction_manager
from victor_core.backend.writes import AppendEvents, Write, apply_in_order
from victor_core.errors import (
    CapabilityNotSupported,
    ConcurrencyError,
    ConfigurationError,
    VictorError,
)
from victor_core.eventsourcing.recorder import EventRecorder, checked_records
from victor_core.eventsourcing.records import AppendResult, NewEventRecord, StoredEventRecord
from victor_core.eventsourcing.snapshots import SnapshotRecord, SnapshotRecorder
from victor_core.eventsourcing.store import EventStore
from victor_core.plugins.registry import PluginRegistry, default_registry
from victor_core.repository.document_repository import DocumentRepository
from victor_core.repository.documents import DocumentQuery, DocumentStore, NewDocument
from victor_core.repository.entity import Entity, entity_name

#: Records read and written per round trip unless told otherwise.
DEFAULT_BATCH_SIZE = 500
_LARGEST_BATCH = 100_000
#: How long verification waits for written events that the target holds back to show.
SETTLE_SECONDS = 30.0


class CopyRefused(VictorError):
    """The target holds data that is not the start of the source's; nothing was written."""


class CopyMismatch(VictorError):
    """The target, read back after the copy, does not hold what the source holds."""


@attrs.frozen
class CopyProgress:
    """How far a copy is, for a progress bar: *done* of *total* items of one *phase*.

    Phases come in this order: ``"reading"`` (counting the source's events; no total),
    ``"checking"`` (comparing what the target holds already), ``"events"``,
    ``"snapshots"`` (no total), ``"checkpoints"``, ``"documents NAME"`` (no total) and
    ``"verifying"``.
    """

    phase: str
    done: int
    total: int | None


@attrs.frozen
class Tally:
    """How many records of one kind, and the SHA-256 of their canonical form in order."""

    count: int
    checksum: str


@attrs.frozen
class CopyReport:
    """What a copy (or a verification) found in the source, and so in the target."""

    #: The source's events copied, and their checksum (ids, streams, versions, types,
    #: payloads and timestamps, in global order; not positions, which are each engine's).
    events: Tally
    #: Events the target held already (a resumed copy): they were checked, not written.
    resumed: int
    #: The source's head when the copy started: later events are left for the next run.
    source_head: int
    #: Snapshots copied, or None when snapshots were left out.
    snapshots: Tally | None
    #: Each projection's checkpoint, as a position of the target.
    checkpoints: dict[str, int]
    #: Documents copied, by repository (the entity's storage name).
    documents: dict[str, Tally]


ProgressCallback = Callable[[CopyProgress], object]


@attrs.frozen
class RepositoryPair:
    """One repository to copy: the same entity class opened on the source and the target."""

    name: str
    source: DocumentStore
    target: DocumentStore


async def copy_store(
    source_url: str,
    target_url: str,
    *,
    repositories: Sequence[type[Entity]] = (),
    snapshots: bool = True,
    checkpoints: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    registry: PluginRegistry | None = None,
) -> CopyReport:
    """Copy the event store at *source_url*, and the *repositories* named, to *target_url*.

    Raises :class:`CopyRefused` (having written nothing) when the target holds anything but
    the start of the source, and :class:`CopyMismatch` when the target, read back, differs.
    Run it again after an interruption: it goes on where the target stops.
    """
    _check_batch_size(batch_size)
    _check_distinct(source_url, target_url, "copy into")
    registry = registry if registry is not None else default_registry()
    async with _opened(registry, source_url, target_url, repositories) as (source, target, pairs):
        return await copy_between(
            source,
            target,
            repositories=pairs,
            snapshots=snapshots,
            checkpoints=checkpoints,
            batch_size=batch_size,
            progress=progress,
            registry=registry,
        )


async def verify_copy(
    source_url: str,
    target_url: str,
    *,
    repositories: Sequence[type[Entity]] = (),
    snapshots: bool = True,
    checkpoints: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    registry: PluginRegistry | None = None,
) -> CopyReport:
    """Check that *target_url* holds what *source_url* holds, as a finished copy does.

    Raises :class:`CopyMismatch` on a difference; the report describes the source.
    """
    _check_batch_size(batch_size)
    # A store always matches itself: that would verify nothing.
    _check_distinct(source_url, target_url, "verify a copy in")
    registry = registry if registry is not None else default_registry()
    async with _opened(registry, source_url, target_url, repositories) as (source, target, pairs):
        copier = _Copier(source, target, pairs, snapshots, batch_size, None, registry, checkpoints)
        await copier.survey()
        await copier.map_checkpoints()
        return await copier.verify()


def _check_distinct(source_url: str, target_url: str, doing: str) -> None:
    if source_url == target_url:
        raise ConfigurationError(
            f"the source and the target are the same URL ({source_url!r}); {doing} "
            "another database, file or schema"
        )


async def copy_between(
    source: EventStore,
    target: EventStore,
    *,
    repositories: Sequence[RepositoryPair] = (),
    snapshots: bool = True,
    checkpoints: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    registry: PluginRegistry | None = None,
) -> CopyReport:
    """:func:`copy_store` between two open event stores (the caller closes them)."""
    _check_batch_size(batch_size)
    copier = _Copier(
        source, target, repositories, snapshots, batch_size, progress, registry, checkpoints
    )
    await copier.survey()
    await copier.check_target()
    await copier.copy_events()
    await copier.copy_snapshots()
    await copier.copy_checkpoints()
    await copier.copy_documents()
    return await copier.verify()


@asynccontextmanager
async def _opened(
    registry: PluginRegistry,
    source_url: str,
    target_url: str,
    repositories: Sequence[type[Entity]],
) -> AsyncIterator[tuple[EventStore, EventStore, list[RepositoryPair]]]:
    """Both event stores, and each repository on both sides, closed again in reverse order.

    Whatever was opened before one of them fails to open is closed too, so that a bad
    target URL or a repository that keeps no documents leaves no connection behind.
    """
    opened: list[Any] = []
    try:
        source = registry.open_event_store(source_url)
        opened.append(source)
        target = registry.open_event_store(target_url)
        opened.append(target)
        pairs = []
        for entity_type in repositories:
            source_repository = registry.open_repository(source_url, entity_type)
            opened.append(source_repository)
            target_repository = registry.open_repository(target_url, entity_type)
            opened.append(target_repository)
            pairs.append(_pair(entity_type, source_repository, target_repository))
        yield source, target, pairs
    finally:
        for resource in reversed(opened):
            await resource.close()


def _pair(entity_type: type[Entity], source: object, target: object) -> RepositoryPair:
    name = entity_name(entity_type)
    for repository in (source, target):
        if not isinstance(repository, DocumentRepository):
            raise CapabilityNotSupported(
                f"the repository of {name!r} is a {type(repository).__qualname__}, which "
                "keeps no documents to copy; victor copy copies repositories of backends "
                "built on DocumentStore (all first-party backends are)"
            )
    assert isinstance(source, DocumentRepository)
    assert isinstance(target, DocumentRepository)
    return RepositoryPair(name, source.store, target.store)


def _check_batch_size(batch_size: object) -> None:
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or not 1 <= batch_size <= _LARGEST_BATCH
    ):
        raise ConfigurationError(
            f"batch_size is the number of records per round trip, an int from 1 to "
            f"{_LARGEST_BATCH}, got {batch_size!r}"
        )


# -- canonical records ----------------------------------------------------------------------


def _number(text: str) -> float | int:
    # Engines that parse JSON (JSONB) may print 1e16 as 10000000000000000: the same number.
    value = float(text)
    return int(value) if value.is_integer() else value


def _json(text: str) -> Any:
    """JSON text as a value whose dump is the same whatever spacing or key order an engine kept."""
    return json.loads(text, parse_float=_number)


def _moment(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _line(fields: list[Any]) -> bytes:
    return _CANONICAL.encode(fields).encode("ascii") + b"\n"


def event_line(record: StoredEventRecord) -> bytes:
    """The canonical form of an event record: everything but its position, which is the engine's."""
    return _line(
        [
            record.stream_id,
            record.version,
            record.event_id,
            record.type_name,
            record.schema_version,
            _json(record.data),
            _moment(record.timestamp),
        ]
    )


def snapshot_line(record: SnapshotRecord) -> bytes:
    """The canonical form of a snapshot record."""
    return _line(
        [
            record.stream_id,
            record.version,
            record.aggregate_type,
            record.fingerprint,
            _json(record.state),
            _moment(record.taken_at),
        ]
    )


def document_line(entity_id: str, document: str) -> bytes:
    """The canonical form of a stored document."""
    return _line([entity_id, _json(document)])


class _Digest:
    def __init__(self) -> None:
        self.count = 0
        self._hash = hashlib.sha256()

    def add(self, line: bytes) -> None:
        self.count += 1
        self._hash.update(line)

    def tally(self) -> Tally:
        return Tally(self.count, self._hash.hexdigest())


# -- reading --------------------------------------------------------------------------------


async def _events(
    recorder: EventRecorder, start: int, batch: int, until: int | None = None
) -> AsyncGenerator[list[StoredEventRecord], None]:
    """Pages of the log from position *start* on (up to *until*), in global order."""
    position = start
    while until is None or position <= until:
        page = list(checked_records(recorder, "read_all", await recorder.read_all(position, batch)))
        if until is not None:
            page = [record for record in page if record.position <= until]
        if page:
            yield page
            position = page[-1].position + 1
        if len(page) < batch:
            return


async def _settled(
    recorder: EventRecorder, batch: int, expected: int
) -> AsyncGenerator[list[StoredEventRecord], None]:
    """The whole log, waiting up to :data:`SETTLE_SECONDS` for *expected* events to show.

    An engine may hold back committed events while an older transaction is open elsewhere
    (PostgreSQL's ``read_all`` does, so that no reader skips one); what it holds back shows
    later, above every position read so far, so the read goes on from where it stopped.
    """
    count = 0
    position = 1
    deadline: float | None = None
    pause = 0.01
    loop = asyncio.get_running_loop()
    while True:
        async for page in _events(recorder, position, batch):
            count += len(page)
            position = page[-1].position + 1
            yield page
        if count >= expected:
            return
        if deadline is None:
            deadline = loop.time() + SETTLE_SECONDS
        if loop.time() >= deadline:
            return
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


async def _snapshots(
    recorder: SnapshotRecorder, batch: int
) -> AsyncGenerator[list[SnapshotRecord], None]:
    after: tuple[str, int] | None = None
    while True:
        page = list(await recorder.read_snapshots(after, batch))
        if page:
            yield page
            after = (page[-1].stream_id, page[-1].version)
        if len(page) < batch:
            return


async def _documents(
    store: DocumentStore, after: int | None, batch: int
) -> AsyncGenerator[list[tuple[int, str, str]], None]:
    while True:
        page = [
            (found.position, found.entity_id, found.document)
            async for found in store.select(DocumentQuery(limit=batch, after=after))
        ]
        if page:
            yield page
            after = page[-1][0]
        if len(page) < batch:
            return


def _describe(record: StoredEventRecord) -> str:
    return (
        f"stream {record.stream_id!r} version {record.version} ({record.type_name}, "
        f"event id {record.event_id!r})"
    )


_START_EMPTY = (
    "; nothing was written. Copy into an empty store (a new database, file or schema), or "
    "empty the target first"
)


class _Checkpoints:
    """Source checkpoints translated to target positions as the copied events go by."""

    def __init__(self, source: dict[str, int]) -> None:
        self.pending = sorted((position, name) for name, position in source.items())
        self.mapped: dict[str, int] = {}
        self.last_target = 0

    def passed(self, source_position: int, target_position: int) -> None:
        # A checkpoint below this event's position handled the events before it only.
        while self.pending and self.pending[0][0] < source_position:
            self.mapped[self.pending.pop(0)[1]] = self.last_target
        self.last_target = target_position

    def finish(self) -> dict[str, int]:
        for _, name in self.pending:
            self.mapped[name] = self.last_target
        self.pending = []
        return dict(sorted(self.mapped.items()))


class _Copier:
    def __init__(
        self,
        source: EventStore,
        target: EventStore,
        repositories: Sequence[RepositoryPair],
        snapshots: bool,
        batch: int,
        progress: ProgressCallback | None,
        registry: PluginRegistry | None = None,
        checkpoints: bool = True,
    ) -> None:
        self.source = source
        self.copies_checkpoints = checkpoints
        self.target = target
        self.repositories = list(repositories)
        self.snapshots = snapshots
        self.batch = batch
        self.progress = progress
        self.registry = registry
        self.events = Tally(0, "")
        self.head = 0
        self.resumed = 0
        self.resume_after = 0
        self.source_checkpoints: dict[str, int] = {}
        self.checkpoints: _Checkpoints = _Checkpoints({})
        self.mapped_checkpoints: dict[str, int] = {}
        self.documents_after: dict[str, int | None] = {}

    def _report(self, phase: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(CopyProgress(phase, done, total))

    async def survey(self) -> None:
        """Count and checksum the source's events up to its head, and read its checkpoints."""
        digest = _Digest()
        async for page in _events(self.source.recorder, 1, self.batch):
            for record in page:
                digest.add(event_line(record))
            self.head = page[-1].position
            self._report("reading", digest.count, None)
        self.events = digest.tally()
        if self.copies_checkpoints and self.source.checkpoints is not None:
            self.source_checkpoints = await self.source.checkpoints.load_all()
        self.checkpoints = _Checkpoints(self.source_checkpoints)

    async def check_target(self) -> None:
        """Refuse a target holding anything but the start of the source; find where to go on."""
        await self._check_events()
        await self._check_snapshots()
        await self._check_checkpoints()
        for pair in self.repositories:
            self.documents_after[pair.name] = await self._check_documents(pair)

    async def _check_events(self) -> None:
        async with aclosing(_events(self.source.recorder, 1, self.batch, self.head)) as sources:
            await self._match_events(sources)

    async def _match_events(self, sources: AsyncIterator[list[StoredEventRecord]]) -> None:
        waiting: list[StoredEventRecord] = []
        matched = 0
        async for page in _events(self.target.recorder, 1, self.batch):
            for found in page:
                if not waiting:
                    waiting = list(reversed(await anext(sources, [])))
                if not waiting:
                    raise CopyRefused(
                        f"the target holds more events than the source's {self.events.count}: "
                        f"{_describe(found)} and maybe others{_START_EMPTY}"
                    )
                expected = waiting.pop()
                if event_line(found) != event_line(expected):
                    raise CopyRefused(
                        f"the target holds other events than the source: its event number "
                        f"{matched + 1} is {_describe(found)}, where the source's is "
                        f"{_describe(expected)}{_START_EMPTY}"
                    )
                matched += 1
                self.checkpoints.passed(expected.position, found.position)
                self.resume_after = expected.position
            self._report("checking", matched, self.events.count)
        self.resumed = matched

    async def _check_snapshots(self) -> None:
        source, target = self.source.snapshots, self.target.snapshots
        if not self.snapshots or source is None:
            self.snapshots = False
            return
        if target is None:
            if await source.read_snapshots(None, 1):
                raise CopyRefused(
                    "the target keeps no snapshots, and the source holds some; copy without "
                    "them (victor copy --no-snapshots, or snapshots=False): aggregates are "
                    "then loaded from their events"
                )
            self.snapshots = False
            return
        async for page in _snapshots(target, self.batch):
            for found in page:
                own = await source.latest_snapshot(found.stream_id, found.version)
                if own is None or snapshot_line(own) != snapshot_line(found):
                    raise CopyRefused(
                        f"the target holds a snapshot of stream {found.stream_id!r} at version "
                        f"{found.version} that the source does not hold{_START_EMPTY}"
                    )

    async def _check_checkpoints(self) -> None:
        if not self.copies_checkpoints:
            return
        if self.target.checkpoints is None:
            if not self.source_checkpoints:
                return
            raise CopyRefused(
                "the target keeps no checkpoints next to its events, and the source holds "
                f"some ({', '.join(sorted(self.source_checkpoints))}); copy to a backend that "
                "keeps them, or leave them out (victor copy --no-checkpoints, or "
                "checkpoints=False) and keep those projections' checkpoints elsewhere"
            )
        foreign = sorted(
            set(await self.target.checkpoints.load_all()) - set(self.source_checkpoints)
        )
        if foreign:
            raise CopyRefused(
                f"the target holds checkpoints of projections the source does not know: "
                f"{', '.join(map(repr, foreign))}{_START_EMPTY}"
            )

    async def _check_documents(self, pair: RepositoryPair) -> int | None:
        async with aclosing(_documents(pair.source, None, self.batch)) as sources:
            return await self._match_documents(pair, sources)

    async def _match_documents(
        self, pair: RepositoryPair, sources: AsyncIterator[list[tuple[int, str, str]]]
    ) -> int | None:
        waiting: list[tuple[int, str, str]] = []
        after: int | None = None
        async for page in _documents(pair.target, None, self.batch):
            for _, entity_id, document in page:
                if not waiting:
                    waiting = list(reversed(await anext(sources, [])))
                expected = waiting.pop() if waiting else None
                if expected is None or document_line(entity_id, document) != document_line(
                    expected[1], expected[2]
                ):
                    raise CopyRefused(
                        f"the target's repository {pair.name!r} holds {entity_id!r}, which is "
                        f"not the source's next document{_START_EMPTY}"
                    )
                after = expected[0]
        return after

    async def copy_events(self) -> None:
        done = self.resumed
        self._report("events", done, self.events.count)
        manager = find_transaction_manager(self.target)
        async for page in _events(
            self.source.recorder, self.resume_after + 1, self.batch, self.head
        ):
            writes = _appends(self.target.recorder, page)
            try:
                if manager is None:
                    results = await apply_in_order(writes)
                else:
                    try:
                        results = await manager.commit(writes)
                    except CapabilityNotSupported:
                        manager = None
                        results = await apply_in_order(writes)
            except ConcurrencyError as exc:
                raise CopyRefused(
                    f"the target changed while the copy wrote to it ({exc}); stop whatever "
                    "else writes there, and run the copy again"
                ) from exc
            positions = [
                position
                for result in results
                if isinstance(result, AppendResult)
                for position in result.positions
            ]
            for record, position in zip(page, positions, strict=True):
                self.checkpoints.passed(record.position, position)
            done += len(page)
            self._report("events", done, self.events.count)
        self.mapped_checkpoints = self.checkpoints.finish()

    async def copy_snapshots(self) -> None:
        if not self.snapshots:
            return
        source, target = self.source.snapshots, self.target.snapshots
        assert source is not None
        assert target is not None
        done = 0
        async for page in _snapshots(source, self.batch):
            for record in page:
                await target.save_snapshot(record)
            done += len(page)
            self._report("snapshots", done, None)

    async def copy_checkpoints(self) -> None:
        if not self.mapped_checkpoints:
            return
        assert self.target.checkpoints is not None
        for done, (name, position) in enumerate(self.mapped_checkpoints.items(), 1):
            await self.target.checkpoints.save(name, position)
            self._report("checkpoints", done, len(self.mapped_checkpoints))

    async def copy_documents(self) -> None:
        for pair in self.repositories:
            done = 0
            async for page in _documents(
                pair.source, self.documents_after.get(pair.name), self.batch
            ):
                taken = await pair.target.insert(
                    [NewDocument(entity_id, document) for _, entity_id, document in page]
                )
                if taken is not None:
                    raise CopyRefused(
                        f"the target's repository {pair.name!r} gained {taken!r} while the "
                        "copy wrote to it; stop whatever else writes there, and run the copy "
                        "again"
                    )
                done += len(page)
                self._report(f"documents {pair.name}", done, None)

    async def map_checkpoints(self) -> None:
        """Translate the checkpoints by walking both logs (for a verification on its own)."""
        async with aclosing(_events(self.source.recorder, 1, self.batch, self.head)) as sources:
            waiting: list[StoredEventRecord] = []
            async for page in _settled(self.target.recorder, self.batch, self.events.count):
                for found in page:
                    if not waiting:
                        waiting = list(reversed(await anext(sources, [])))
                    if not waiting:
                        break
                    self.checkpoints.passed(waiting.pop().position, found.position)
        self.mapped_checkpoints = self.checkpoints.finish()

    async def verify(self) -> CopyReport:
        """Read the target back and compare it with the source."""
        digest = _Digest()
        self._report("verifying", 0, self.events.count)
        async for page in _settled(self.target.recorder, self.batch, self.events.count):
            for record in page:
                digest.add(event_line(record))
            self._report("verifying", digest.count, self.events.count)
        found = digest.tally()
        if found != self.events:
            raise CopyMismatch(
                f"the target holds {found.count} events with checksum {found.checksum[:16]}, "
                f"the source {self.events.count} with checksum {self.events.checksum[:16]}: "
                "something else wrote to the target or changed it during the copy. Copy into "
                "an empty store again, with nothing else writing to it"
            )
        snapshots = await self._verify_snapshots()
        checkpoints = await self._verify_checkpoints()
        documents = {pair.name: await self._verify_documents(pair) for pair in self.repositories}
        return CopyReport(
            events=self.events,
            resumed=self.resumed,
            source_head=self.head,
            snapshots=snapshots,
            checkpoints=checkpoints,
            documents=documents,
        )

    async def _verify_snapshots(self) -> Tally | None:
        source, target = self.source.snapshots, self.target.snapshots
        if not self.snapshots or source is None or target is None:
            return None
        tallies = []
        for recorder in (source, target):
            digest = _Digest()
            async for page in _snapshots(recorder, self.batch):
                for record in page:
                    digest.add(snapshot_line(record))
            tallies.append(digest.tally())
        if tallies[0] != tallies[1]:
            raise CopyMismatch(
                f"the target holds {tallies[1].count} snapshots, the source {tallies[0].count}, "
                "or their contents differ: something else wrote snapshots during the copy. "
                "Run the copy again (snapshots are copied whole each time)"
            )
        return tallies[0]

    async def _verify_checkpoints(self) -> dict[str, int]:
        if not self.copies_checkpoints:
            return {}
        if self.target.checkpoints is None:
            if self.mapped_checkpoints:
                raise CopyMismatch(
                    "the target keeps no checkpoints next to its events, and the source "
                    f"holds some ({', '.join(sorted(self.mapped_checkpoints))})"
                )
            return {}
        found = await self.target.checkpoints.load_all()
        if found != self.mapped_checkpoints:
            differ = sorted(
                name
                for name in set(found) | set(self.mapped_checkpoints)
                if found.get(name) != self.mapped_checkpoints.get(name)
            )
            raise CopyMismatch(
                f"the target's checkpoints of {', '.join(map(repr, differ))} are not the "
                "source's: a projection ran against the target during the copy. Stop it and "
                "run the copy again"
            )
        return dict(self.mapped_checkpoints)

    async def _verify_documents(self, pair: RepositoryPair) -> Tally:
        tallies = []
        for store in (pair.source, pair.target):
            digest = _Digest()
            async for page in _documents(store, None, self.batch):
                for _, entity_id, document in page:
                    digest.add(document_line(entity_id, document))
            tallies.append(digest.tally())
        if tallies[0] != tallies[1]:
            raise CopyMismatch(
                f"the target's repository {pair.name!r} holds {tallies[1].count} documents, "
                f"the source's {tallies[0].count}, or their contents differ: something changed "
                "one of them during the copy. Copy into an empty store again, with nothing "
                "else writing to it"
            )
        return tallies[0]


def _appends(recorder: EventRecorder, page: Sequence[StoredEventRecord]) -> list[Write]:
    """The page as appends: one per run of consecutive events of one stream."""
    writes: list[Write] = []
    run: list[StoredEventRecord] = []
    for record in [*page, None]:
        if run and (record is None or record.stream_id != run[0].stream_id):
            writes.append(
                AppendEvents(
                    recorder=recorder,
                    stream_id=run[0].stream_id,
                    records=tuple(
                        NewEventRecord(
                            event_id=r.event_id,
                            type_name=r.type_name,
                            schema_version=r.schema_version,
                            data=r.data,
                            timestamp=r.timestamp,
                        )
                        for r in run
                    ),
                    expected_version=run[0].version - 1,
                )
            )
            run = []
        if record is not None:
            run.append(record)
    return writes
