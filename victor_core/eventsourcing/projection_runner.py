"""Feeding a projection from the store's global order, resuming from a saved checkpoint.

The runner reads the log from the position after the projection's checkpoint, hands each
event to the projection, and moves the checkpoint on after every batch, by compare-and-set:
a runner whose checkpoint was moved by another one stops with
:class:`~victor_core.errors.CheckpointConflict` instead of writing over it. After a restart
it continues after the last saved position, so a stopped run neither skips an event nor
hands one over twice.

:meth:`ProjectionRunner.catch_up` stops at the end of the log; :meth:`~ProjectionRunner.
run_forever` follows it through a subscription until :meth:`~ProjectionRunner.stop`. With a
*lease*, runners of one projection in any number of processes take turns: one is active,
the others stand by and take over from the last committed checkpoint once its lease runs out.

Delivery is *at least once*: when the process dies after the projection handled events but
before their checkpoint was saved, those events (at most one batch) are handed over again
on the next run. Handlers that must not see an event twice should be idempotent, or keep the
read model and the checkpoint in one transaction. When a handler raises, or the run is
cancelled, the checkpoint is first saved at the last event fully handled.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from victor_core.errors import (
    CapabilityNotSupported,
    CheckpointConflict,
    ConfigurationError,
    ProjectionFailed,
    ProjectionTimeout,
)
from victor_core.eventsourcing.checkpoints import CheckpointStore
from victor_core.eventsourcing.projections import Projection
from victor_core.eventsourcing.records import RecordedEvent
from victor_core.eventsourcing.store import EventStore
from victor_core.eventsourcing.subscriptions import (
    DEFAULT_POLL_INTERVAL,
    AppendBroadcast,
    Subscription,
)

if TYPE_CHECKING:
    from victor_core.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

#: How many events the runner reads, hands over and checkpoints at a time.
DEFAULT_BATCH_SIZE = 500


@attrs.frozen
class ProjectionProgress:
    """How far a run has got, reported after each batch and returned at the end.

    *head* is the end of the log the run is heading for: its last position when the run
    started, or the position reached once the run has gone past it (events appended since),
    so :attr:`fraction` reads as the share of a rebuild or catch-up that is done.
    """

    #: The projection's checkpoint name.
    name: str
    #: Events handed to the projection during this run (those it ignores included).
    events: int
    #: The saved checkpoint: global position of the last event handled.
    position: int
    #: Seconds since the run started.
    elapsed: float
    #: The last position of the log as far as the run knows (never below *position*).
    head: int = 0

    @property
    def rate(self) -> float:
        """Events per second over the run so far."""
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def remaining(self) -> int:
        """Positions between the checkpoint and the head: what is left to hand over."""
        return max(self.head - self.position, 0)

    @property
    def fraction(self) -> float:
        """How far through the log the projection is, from 0.0 to 1.0 (1.0 for an empty log)."""
        if self.head <= 0:
            return 1.0
        return min(self.position / self.head, 1.0)


ProgressCallback = Callable[[ProjectionProgress], Awaitable[None] | None]


class ProjectionRunner:
    """Runs one projection over the event store, with a checkpoint that survives restarts.

    ``checkpoints`` defaults to the event store's own (``store.checkpoints``); pass another
    :class:`~victor_core.eventsourcing.checkpoints.CheckpointStore` to keep checkpoints
    elsewhere, for instance next to the read model. ``on_progress`` is called with a
    :class:`ProjectionProgress` after each batch: events handled, position, the head of the
    log and the fraction done, so that a long rebuild can show a percentage.

    Without a *lease*, run one runner per projection name at a time (a second one fails
    with :class:`~victor_core.errors.CheckpointConflict` rather than double-applying). With
    ``lease=seconds``, :meth:`run_forever` first claims the projection in the checkpoint
    store and renews the claim every third of *seconds*; other runners of the same name
    wait, and one of them takes over within about ``lease * 4 / 3`` seconds of the holder's
    last renewal when it dies. *owner* names this runner in the lease (unique by default).
    """

    def __init__(
        self,
        store: EventStore,
        projection: Projection,
        *,
        checkpoints: CheckpointStore | None = None,
        name: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_progress: ProgressCallback | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        lease: float | None = None,
        owner: str | None = None,
        unit_of_work: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        if not isinstance(projection, Projection):
            raise ConfigurationError(
                f"ProjectionRunner runs a victor_core.Projection, got "
                f"{type(projection).__qualname__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(f"batch_size must be an int >= 1, got {batch_size!r}")
        _check_seconds("poll_interval", poll_interval)
        if lease is not None:
            _check_seconds("lease", lease)
        if owner is not None and (not isinstance(owner, str) or not owner):
            raise ConfigurationError(f"owner must be a non-empty string, got {owner!r}")
        if unit_of_work is not None and not callable(unit_of_work):
            raise ConfigurationError(
                "unit_of_work takes a function returning a new UnitOfWork for each batch, "
                f"got {unit_of_work!r}"
            )
        chosen = checkpoints if checkpoints is not None else store.checkpoints
        if chosen is None:
            raise CapabilityNotSupported(
                f"{type(store).__name__} keeps no checkpoints; pass checkpoints= (a "
                "CheckpointStore of any backend) or use a backend that declares "
                "Capability.CHECKPOINTS"
            )
        self.store = store
        self.projection = projection
        self.checkpoints = chosen
        self.name = name if name is not None else projection.projection_name()
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.poll_interval = float(poll_interval)
        #: Seconds a claim on the projection lasts unless renewed; None: no lease.
        self.lease = None if lease is None else float(lease)
        #: This runner's name in the lease.
        self.owner = owner if owner is not None else _default_owner()
        #: Makes the unit of work of each batch, when the read model commits with the checkpoint.
        self.unit_of_work = unit_of_work
        self._stopping = False
        self._stop_requested = asyncio.Event()
        self._subscription: Subscription | None = None
        self._lease_lost = False
        self._holding = False
        # The head of the log the current run is heading for (see ProjectionProgress.head).
        self._head = 0
        # Positions this runner has committed, for wait_for in the same process.
        self._handled = AppendBroadcast()

    async def position(self) -> int:
        """The saved checkpoint: the position of the last event the projection handled."""
        return await self.checkpoints.load(self.name)

    @property
    def active(self) -> bool:
        """True while :meth:`run_forever` holds the projection (its lease, when it has one)."""
        return self._holding

    async def run_forever(self) -> ProjectionProgress:
        """Catch up, then follow the log through a subscription until :meth:`stop`.

        Events are handed over in batches of up to ``batch_size`` (what is there, without
        waiting for a batch to fill), each followed by its checkpoint. Stopping or
        cancelling lets the batch in hand finish and commit its checkpoint first. With a
        lease, the runner stands by until it holds the projection, and goes back to standing
        by if it loses it (it stalled past its lease and another runner took over).
        """
        started = time.monotonic()
        events = 0
        position = 0
        self._head = await self.store.last_position()
        self._stopping = False
        self._stop_requested.clear()
        try:
            while not self._stopping:
                if self.lease is not None and not await self._take_lease():
                    break
                self._holding = True
                try:
                    events, position = await self._follow(started, events)
                except CheckpointConflict:
                    if self.lease is None:
                        raise
                    logger.warning(
                        "projection %r: another runner moved the checkpoint while runner %r "
                        "held a lapsed lease; standing by",
                        self.name,
                        self.owner,
                    )
                finally:
                    self._holding = False
                if self.lease is None:
                    break
        finally:
            if self.lease is not None:
                await self._release_lease()
        return self._progress(events, position, started)

    def stop(self) -> None:
        """End :meth:`run_forever` once the batch in hand is handled and checkpointed."""
        self._stopping = True
        self._stop_requested.set()
        if self._subscription is not None:
            self._subscription.close()

    async def wait_for(self, position: int, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - the waiting itself is the API
        """Return once the projection has handled every event up to *position*.

        For read-your-writes: a command handler returns the position of its append (its
        ``AppendResult.positions[-1]``), and the query waits for it before reading the read
        model. Works whichever process runs the projection: besides this runner's own
        progress, the saved checkpoint is looked at every ``poll_interval``. Raises
        :class:`~victor_core.errors.ProjectionTimeout` after *timeout* seconds.
        """
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise ConfigurationError(f"position must be an int >= 0, got {position!r}")
        _check_seconds("timeout", timeout)
        deadline = time.monotonic() + timeout
        while True:
            if self._handled.head >= position:
                return
            reached = await self.checkpoints.load(self.name)
            if reached >= position:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProjectionTimeout(
                    f"projection {self.name!r} has handled events up to position {reached}, "
                    f"not yet {position}, after {timeout:g}s; check that a runner is running "
                    "for it (`victor projections URL` shows its lag) or wait longer"
                )
            await self._handled.wait(position - 1, min(remaining, self.poll_interval))

    async def _follow(self, started: float, events: int) -> tuple[int, int]:
        position = await self.checkpoints.load(self.name)
        self._handled.notify(position)
        subscription = self.store.subscribe(
            position + 1, page_size=self.batch_size, poll_interval=self.poll_interval
        )
        self._subscription = subscription
        if self._stopping:
            subscription.close()
        self._lease_lost = False
        keeper = (
            asyncio.ensure_future(self._keep_lease(subscription))
            if self.lease is not None
            else None
        )
        try:
            while not self._stopping and not self._lease_lost:
                batch = await subscription.next_batch(self.batch_size)
                if not batch:
                    break
                applying = asyncio.ensure_future(self._apply(batch, position))
                try:
                    position = await asyncio.shield(applying)
                except asyncio.CancelledError:
                    # Cancelled mid-batch: let the batch finish and commit, then stop.
                    if not applying.done():
                        await applying
                    raise
                events += len(batch)
                await self._report(self._progress(events, position, started))
        finally:
            self._subscription = None
            await subscription.aclose()
            if keeper is not None:
                keeper.cancel()
        return events, position

    async def _apply(self, batch: Sequence[RecordedEvent], after: int) -> int:
        """Hand *batch* to the projection and commit its checkpoint; the new position."""
        if self.unit_of_work is not None:
            return await self._apply_in_unit_of_work(self.unit_of_work, batch, after)
        done = after
        try:
            for recorded in batch:
                await self._handle(recorded, done)
                done = recorded.position
        finally:
            if done != after:
                await self.checkpoints.compare_and_set(self.name, after, done)
                self._handled.notify(done)
        return done

    async def _apply_in_unit_of_work(
        self, make: Callable[[], UnitOfWork], batch: Sequence[RecordedEvent], after: int
    ) -> int:
        """The batch's read-model changes and its checkpoint, in one commit: exactly once.

        A handler that fails takes the whole batch back (nothing of it was committed), so
        the checkpoint stays at *after* and the batch is handed over again on the next run.
        """
        uow = make()
        self.projection.unit_of_work = uow
        try:
            for recorded in batch:
                await self._handle(recorded, after)
            done = batch[-1].position
            uow.advance_checkpoint(self.checkpoints, self.name, after, done)
            await uow.commit()
        except BaseException:
            uow.rollback()
            raise
        finally:
            self.projection.unit_of_work = None
        self._handled.notify(done)
        return done

    async def _handle(self, recorded: RecordedEvent, done: int) -> None:
        try:
            await self.projection.handle(recorded.event)
        except Exception as exc:
            raise ProjectionFailed(
                f"projection {self.name!r} failed on the event at position "
                f"{recorded.position} ({recorded.type_name}, stream "
                f"{recorded.stream_id!r} version {recorded.version}): "
                f"{type(exc).__name__}: {exc}. Its checkpoint is at {done}; fix the "
                "cause and run it again to resume with this event"
            ) from exc

    async def _take_lease(self) -> bool:
        """Wait until this runner holds the lease; False when stopped first."""
        assert self.lease is not None
        while not self._stopping:
            if await self.checkpoints.acquire_lease(self.name, self.owner, self.lease):
                return True
            try:
                await asyncio.wait_for(self._stop_requested.wait(), self.lease / 3)
            except TimeoutError:
                continue
        return False

    async def _keep_lease(self, subscription: Subscription) -> None:
        """Renew the lease every third of its length; on losing it, end the subscription."""
        assert self.lease is not None
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                renewed = await self.checkpoints.acquire_lease(self.name, self.owner, self.lease)
            except Exception:
                logger.warning("projection %r: renewing the lease failed", self.name, exc_info=True)
                renewed = False
            if not renewed:
                self._lease_lost = True
                subscription.close()
                return

    async def _release_lease(self) -> None:
        assert self.lease is not None
        try:
            await self.checkpoints.release_lease(self.name, self.owner)
        except Exception:
            # It runs out by itself; the next runner only waits a little longer.
            logger.warning("projection %r: releasing the lease failed", self.name, exc_info=True)

    async def catch_up(self) -> ProjectionProgress:
        """Hand over every event after the checkpoint, up to the end of the log."""
        return await self._run(time.monotonic(), 0, follow=None)

    async def rebuild(self) -> ProjectionProgress:
        """Clear the projection (its ``reset`` method) and replay the whole log into it."""
        reset = getattr(self.projection, "reset", None)
        if not callable(reset):
            raise ConfigurationError(
                f"{type(self.projection).__qualname__} has no reset() method, so it cannot be "
                "rebuilt from zero: define `async def reset(self)` to clear its read model"
            )
        # Checkpoint first: a crash in between replays onto old state (at least once)
        # rather than leaving the cleared projection behind the log.
        await self.checkpoints.save(self.name, 0)
        outcome = reset()
        if inspect.isawaitable(outcome):
            await outcome
        return await self.catch_up()

    async def run(
        self, *, poll_interval: float = 1.0, stop: asyncio.Event | None = None
    ) -> ProjectionProgress:
        """Catch up, then keep following new events until *stop* is set (or cancelled).

        *stop* is looked at after every batch, so setting it ends the run once the batch in
        hand is handled and checkpointed, even while the runner is still catching up.
        """
        if not isinstance(poll_interval, int | float) or poll_interval <= 0:
            raise ConfigurationError(
                f"poll_interval must be a positive number of seconds, got {poll_interval!r}"
            )
        return await self._run(time.monotonic(), 0, follow=(poll_interval, stop))

    async def _run(
        self,
        started: float,
        events: int,
        follow: tuple[float, asyncio.Event | None] | None,
    ) -> ProjectionProgress:
        position = await self.checkpoints.load(self.name)
        self._head = await self.store.last_position()
        while True:
            handled, position = await self._batch(position)
            events += handled
            progress = self._progress(events, position, started)
            if handled:
                await self._report(progress)
            stop = None if follow is None else follow[1]
            if stop is not None and stop.is_set():
                # Checked after every batch, so a backlog cannot hold up a stopping runner.
                return progress
            if handled == self.batch_size:
                continue
            if follow is None:
                return progress
            interval = follow[0]
            if stop is None:
                await asyncio.sleep(interval)
                continue
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                continue
            return progress

    async def _batch(self, after: int) -> tuple[int, int]:
        """Handle up to one batch after position *after*; the count and the new checkpoint."""
        batch = [
            recorded
            async for recorded in self.store.read_all(
                from_position=after + 1, limit=self.batch_size, page_size=self.batch_size
            )
        ]
        if not batch:
            return 0, after
        return len(batch), await self._apply(batch, after)

    def _progress(self, events: int, position: int, started: float) -> ProjectionProgress:
        self._head = max(self._head, position)
        return ProjectionProgress(
            self.name, events, position, time.monotonic() - started, head=self._head
        )

    async def _report(self, progress: ProjectionProgress) -> None:
        if self.on_progress is not None:
            outcome = self.on_progress(progress)
            if inspect.isawaitable(outcome):
                await outcome


def _check_seconds(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")


def _default_owner() -> str:
    """Unique per runner, and readable in the lease table: host, process, random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
