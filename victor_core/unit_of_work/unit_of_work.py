"""``UnitOfWork``: track what changes, then store all of it in one transaction, or none of it.

Register a repository for each class, then tell the unit of work what happened
(``register_new``, ``register_modified``, ``register_deleted``) or let it find out: objects
loaded with :meth:`UnitOfWork.get`, or given to :meth:`UnitOfWork.attach`, are compared at
commit with the state they were loaded in. Nothing is written before
:meth:`UnitOfWork.commit`, which hands every write to the backends' transaction managers.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Generator
from types import TracebackType
from typing import Any, Self, TypeVar

from victor_core.backend.transactions import Dispatcher
from victor_core.backend.writes import WriteResult
from victor_core.errors import ConfigurationError
from victor_core.eventsourcing.aggregate import Aggregate
from victor_core.eventsourcing.checkpoints import CheckpointStore, check_advance
from victor_core.eventsourcing.events import Event
from victor_core.unit_of_work.commit import commit_groups, group_steps, is_atomic, plan
from victor_core.unit_of_work.errors import NotAtomic
from victor_core.unit_of_work.participants import (
    AggregateParticipant,
    Participant,
    Step,
    checkpoint_step,
    participant_for,
)
from victor_core.unit_of_work.tracking import EntityState, Tracked, restore

T = TypeVar("T")

logger = logging.getLogger("victor_core.unit_of_work")

_Identity = tuple[type, str]


class _Done:
    """An awaitable that is already complete, so ``rollback()`` may be awaited or not."""

    def __await__(self) -> Generator[None, None, None]:
        yield from ()


class UnitOfWork:
    """Tracks new, modified and deleted objects and commits them together.

    ``register_repository(repo, User)`` says where objects of a class are stored: a
    :class:`~victor_core.Repository` for entities, or an
    :class:`~victor_core.AggregateRepository` (or the :class:`~victor_core.EventStore`
    itself) for event-sourced aggregates, whose pending events are appended.

    ``commit`` writes everything in one transaction when every repository written to
    shares one transactional resource (one SQLite file, the in-process memory, one MongoDB
    client), and otherwise refuses with :class:`~victor_core.unit_of_work.NotAtomic`,
    writing nothing. With ``best_effort=True`` it commits each resource in its own
    transaction instead; see :meth:`commit`.

    Events of committed aggregates go to *dispatcher* (an
    :class:`~victor_core.EventDispatcher`, anything with ``async dispatch(event)``, or an
    async callable) after the commit, never before and never for a failed one.

    As an async context manager it commits when the block ends normally and rolls back when
    it raises. A unit of work is meant for one task and one piece of work: it is not safe
    to share between concurrent tasks.
    """

    def __init__(
        self,
        *,
        best_effort: bool = False,
        dispatcher: Dispatcher | None = None,
        plugins: object = None,
    ) -> None:
        if plugins is not None:
            _plugins_are_not_needed()
        #: Commit resources separately rather than refuse (see :meth:`commit`).
        self.best_effort = best_effort
        #: Receives the events of committed aggregates.
        self.dispatcher = dispatcher
        self._participants: dict[type, Participant] = {}
        self._tracked: OrderedDict[_Identity, Tracked] = OrderedDict()
        self._committing = False
        self._checkpoint: Step | None = None

    # -- what is stored where -----------------------------------------------------------

    def register_repository(self, repository: object, entity_type: type) -> None:
        """Store objects of *entity_type* (exactly that class) in *repository*."""
        participant = participant_for(repository, entity_type)
        existing = self._participants.get(entity_type)
        if existing is not None:
            if existing.repository is repository:
                return
            raise ConfigurationError(
                f"{entity_type.__qualname__} already has a repository in this unit of work "
                f"({existing.label}); register one repository per class"
            )
        self._participants[entity_type] = participant

    # -- what changed ---------------------------------------------------------------------

    def register_new(self, entity: Any) -> None:
        """Insert *entity* at commit (for an aggregate: append its pending events)."""
        identity, tracked, participant = self._find(entity)
        if tracked is None:
            self._put(identity, Tracked(entity, participant, EntityState.NEW))
        elif tracked.state is not EntityState.NEW:
            hint = (
                "it is stored already: use register_modified"
                if tracked.state is not EntityState.DELETED
                else "commit the deletion first, then register a new entity"
            )
            raise ConfigurationError(
                f"{_describe(entity)} is {tracked.state.value} in this unit of work, so it "
                f"cannot be registered as new; {hint}"
            )

    def register_modified(self, entity: Any) -> None:
        """Store the current state of *entity* at commit (it must be stored already)."""
        identity, tracked, participant = self._find(entity)
        if tracked is None:
            self._put(identity, Tracked(entity, participant, EntityState.MODIFIED))
        elif tracked.state is EntityState.CLEAN:
            tracked.state = EntityState.MODIFIED
            self._tracked.move_to_end(identity)
        elif tracked.state is EntityState.DELETED:
            raise ConfigurationError(
                f"{_describe(entity)} is registered for deletion in this unit of work, so it "
                "cannot be registered as modified; roll back to keep it"
            )

    def register_deleted(self, entity: Any) -> None:
        """Delete *entity* at commit; a new one that was never stored is simply forgotten."""
        identity, tracked, participant = self._find(entity)
        if isinstance(participant, AggregateParticipant):
            raise ConfigurationError(
                f"{_describe(entity)} is an event-sourced aggregate, whose history is never "
                "deleted; apply an event that closes it (e.g. AccountClosed) and register "
                "it as modified"
            )
        if tracked is None:
            self._put(identity, Tracked(entity, participant, EntityState.DELETED))
        elif tracked.state is EntityState.NEW:
            del self._tracked[identity]
        elif tracked.state is not EntityState.DELETED:
            tracked.state = EntityState.DELETED
            self._tracked.move_to_end(identity)

    def attach(self, entity: Any) -> None:
        """Track *entity*, as stored now: changes made to it from here on are committed."""
        identity, tracked, participant = self._find(entity)
        if tracked is None:
            snapshot = participant.snapshot(entity)
            self._put(identity, Tracked(entity, participant, EntityState.CLEAN, snapshot))

    async def get(self, entity_type: type[T], entity_id: str) -> T | None:
        """The object *entity_id* of *entity_type*, the same object each time it is asked.

        Loaded from the repository the first time, then tracked: changes made to it are
        committed without registering them. None when it is not stored, or registered for
        deletion in this unit of work.
        """
        participant = self._participant(entity_type)
        identity: _Identity = (entity_type, entity_id)
        tracked = self._tracked.get(identity)
        if tracked is None:
            loaded = await participant.load(entity_id)
            if loaded is None:
                return None
            # A concurrent get() may have tracked it while this one was loading.
            tracked = self._tracked.get(identity)
            if tracked is None:
                tracked = Tracked(
                    loaded, participant, EntityState.CLEAN, participant.snapshot(loaded)
                )
                self._put(identity, tracked)
        if tracked.state is EntityState.DELETED:
            return None
        found: T = tracked.obj
        return found

    # -- what the unit of work knows ------------------------------------------------------

    def state_of(self, entity: Any) -> EntityState | None:
        """The state of *entity* here (MODIFIED once an attached one changed); None if untracked."""
        participant = self._participants.get(type(entity))
        if participant is None:
            return None
        entity_id = getattr(entity, "id", None)
        if not isinstance(entity_id, str):
            return None
        tracked = self._tracked.get((participant.target_type, entity_id))
        if tracked is None or tracked.obj is not entity:
            return None
        if tracked.state is EntityState.CLEAN and participant.is_dirty(tracked):
            return EntityState.MODIFIED
        return tracked.state

    def advance_checkpoint(
        self, checkpoints: CheckpointStore, name: str, expected: int, position: int
    ) -> None:
        """Commit projection *name*'s checkpoint, from *expected* to *position*, with the rest.

        This is what makes a projection exactly once: its read model's writes and its
        checkpoint land in one transaction, so a crash keeps both or neither. The checkpoint
        store must be on the same transactional resource as the repositories (the commit is
        refused with :class:`~victor_core.unit_of_work.NotAtomic` otherwise), and a
        checkpoint moved by someone else fails the whole commit with
        :class:`~victor_core.errors.CheckpointConflict`. Asking again replaces the request.
        """
        check_advance(name, expected, position)
        self._checkpoint = checkpoint_step(checkpoints, name, expected, position)

    def has_changes(self) -> bool:
        """True when :meth:`commit` would write something."""
        return any(_has_changed(tracked) for tracked in self._tracked.values())

    # -- ending the work ------------------------------------------------------------------

    def rollback(self) -> Awaitable[None]:
        """Forget every change, and put attached entities back as they were loaded.

        Nothing was written before commit, so storage is not touched. Entities that were
        loaded or attached get back the state they had then (or at the last commit); new
        ones are forgotten. Aggregates keep their state and pending events: load them again.
        The unit of work is empty afterwards and can be used again. Takes effect at once;
        awaiting the result is allowed, for code written against async sessions.
        """
        for tracked in self._tracked.values():
            if tracked.snapshot is not None and tracked.participant.is_dirty(tracked):
                restore(tracked.obj, tracked.snapshot, tracked.participant.converter)
        self._tracked.clear()
        self._checkpoint = None
        return _Done()

    async def commit(self, *, best_effort: bool | None = None) -> None:
        """Write every change: inserts, updates, deletes and appends, in registration order.

        When all of them go to one transactional resource, they commit in one transaction:
        all or nothing. Otherwise the commit is refused with
        :class:`~victor_core.unit_of_work.NotAtomic` before anything is written, unless
        *best_effort* (or the unit of work's ``best_effort``) is true: then each resource
        commits in its own transaction, in the order of its first change, and a failure
        after one of them committed raises :class:`~victor_core.unit_of_work.PartialCommit`
        saying what was and was not written. Repositories without a transaction manager
        (or whose backend cannot open a transaction there, like a standalone MongoDB
        server) are then written one change at a time.

        A conflict (a stale entity version, an aggregate someone else changed) or any other
        failure in the transaction raises, writes nothing, and leaves the unit of work as it
        was: commit again after fixing the cause, or roll back. After a commit, everything
        is clean and stays tracked; committed events are then dispatched.
        """
        if self._committing:
            raise ConfigurationError(
                "this unit of work is already committing; a unit of work belongs to one task"
            )
        self._committing = True
        try:
            steps = plan(self._tracked.values())
            if self._checkpoint is not None:
                steps.append(self._checkpoint)
            if not steps:
                return
            groups = group_steps(steps)
            allowed = self.best_effort if best_effort is None else best_effort
            if not allowed and not is_atomic(groups):
                raise NotAtomic([group.describe() for group in groups])
            committed: list[tuple[Step, WriteResult]] = []
            try:
                await commit_groups(
                    groups,
                    lambda step, result: self._committed(step, result, committed),
                    best_effort=allowed,
                )
            finally:
                if committed:
                    if any(step is self._checkpoint for step, _ in committed):
                        self._checkpoint = None
                    await self._after_commit(committed)
        finally:
            self._committing = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.rollback()
            return
        try:
            await self.commit()
        except BaseException:
            self.rollback()
            raise

    # -- inside -----------------------------------------------------------------------------

    def _participant(self, entity_type: type) -> Participant:
        participant = self._participants.get(entity_type)
        if participant is None:
            raise ConfigurationError(
                f"no repository is registered for {entity_type.__qualname__} in this unit of "
                f"work; call uow.register_repository(repository, {entity_type.__name__}) "
                "first"
            )
        return participant

    def _find(self, entity: Any) -> tuple[_Identity, Tracked | None, Participant]:
        participant = self._participant(type(entity))
        entity_id = getattr(entity, "id", None)
        if not isinstance(entity_id, str) or not entity_id:
            raise ConfigurationError(
                f"{type(entity).__qualname__} objects are tracked by their id, which must be a "
                f"non-empty string; got {entity_id!r}"
            )
        identity: _Identity = (participant.target_type, entity_id)
        tracked = self._tracked.get(identity)
        if tracked is not None and tracked.obj is not entity:
            raise ConfigurationError(
                f"another {type(entity).__qualname__} object with id {entity_id!r} is already "
                "tracked by this unit of work; change that one (uow.get("
                f"{type(entity).__name__}, {entity_id!r}) returns it)"
            )
        return identity, tracked, participant

    def _put(self, identity: _Identity, tracked: Tracked) -> None:
        self._tracked[identity] = tracked

    def _committed(
        self, step: Step, result: WriteResult, committed: list[tuple[Step, WriteResult]]
    ) -> None:
        step.finish(result)
        for tracked in step.entries:
            identity: _Identity = (tracked.participant.target_type, tracked.obj.id)
            if tracked.state is EntityState.DELETED:
                self._tracked.pop(identity, None)
            else:
                tracked.state = EntityState.CLEAN
                tracked.snapshot = tracked.participant.snapshot(tracked.obj)
        committed.append((step, result))

    async def _after_commit(self, committed: list[tuple[Step, WriteResult]]) -> None:
        for step, result in committed:
            try:
                await step.after(result)
            except Exception:
                # The commit stands; a missing snapshot only makes later loads replay more.
                logger.warning("after committing, %s failed", step.describe(), exc_info=True)
        if self.dispatcher is None:
            return
        for step, _ in committed:
            for event in step.events:
                await dispatch(self.dispatcher, event)


def _has_changed(tracked: Tracked) -> bool:
    if isinstance(tracked.participant, AggregateParticipant):
        return tracked.participant.is_dirty(tracked)  # only pending events are written
    return tracked.state is not EntityState.CLEAN or tracked.participant.is_dirty(tracked)


def _describe(obj: Any) -> str:
    kind = "aggregate" if isinstance(obj, Aggregate) else "entity"
    return f"{type(obj).__qualname__} {kind} {getattr(obj, 'id', '')!r}"


def transactional(
    *repositories: tuple[object, type],
    best_effort: bool = False,
    dispatcher: Dispatcher | None = None,
    plugins: object = None,
) -> UnitOfWork:
    """A :class:`UnitOfWork` with each ``(repository, EntityType)`` pair registered.

    Use it with ``async with``: the block's changes are committed when it ends normally,
    and rolled back when it raises (the error propagates)::

        async with transactional((user_repo, User), (order_repo, Order)) as uow:
            uow.register_new(User(name="Charlie"))
    """
    if plugins is not None:
        _plugins_are_not_needed()
    uow = UnitOfWork(best_effort=best_effort, dispatcher=dispatcher)
    for pair in repositories:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ConfigurationError(
                f"transactional takes (repository, EntityType) pairs, e.g. "
                f"transactional((user_repo, User)); got {pair!r}"
            )
        uow.register_repository(*pair)
    return uow


async def dispatch(dispatcher: Dispatcher, event: Event) -> None:
    """Give *event* to *dispatcher* (an ``EventDispatcher``, alike, or a callable)."""
    sink = getattr(dispatcher, "dispatch", None)
    outcome = sink(event) if callable(sink) else dispatcher(event)  # type: ignore[operator]
    if inspect.isawaitable(outcome):
        await outcome


def _plugins_are_not_needed() -> None:
    warnings.warn(
        "the plugins= argument of UnitOfWork and transactional is deprecated and ignored: "
        "a commit asks the stores its writes name for their transaction manager; leave it out",
        DeprecationWarning,
        stacklevel=3,
    )
