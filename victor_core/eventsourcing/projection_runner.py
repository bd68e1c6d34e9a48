"""Feeding a projection from the store's global order, resuming from a saved checkpoint.

The runner reads ``read_all`` from the position after the projection's checkpoint, hands
each event to the projection, and saves the checkpoint after every batch. After a restart it
continues after the last saved position, so a stopped run neither skips an event nor hands
one over twice.

Delivery is *at least once*: when the process dies after the projection handled events but
before their checkpoint was saved, those events (at most one batch) are handed over again
on the next run. Handlers that must not see an event twice should be idempotent, or keep the
read model and the checkpoint in one transaction. When a handler raises, or the run is
cancelled, the checkpoint is first saved at the last event fully handled.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

import attrs

from victor_core.errors import CapabilityNotSupported, ConfigurationError, ProjectionFailed
from victor_core.eventsourcing.checkpoints import CheckpointStore
from victor_core.eventsourcing.projections import Projection
from victor_core.eventsourcing.store import EventStore

#: How many events the runner reads, hands over and checkpoints at a time.
DEFAULT_BATCH_SIZE = 500


@attrs.frozen
class ProjectionProgress:
    """How far a run has got, reported after each batch and returned at the end."""

    #: The projection's checkpoint name.
    name: str
    #: Events handed to the projection during this run (those it ignores included).
    events: int
    #: The saved checkpoint: global position of the last event handled.
    position: int
    #: Seconds since the run started.
    elapsed: float

    @property
    def rate(self) -> float:
        """Events per second over the run so far."""
        return self.events / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[ProjectionProgress], Awaitable[None] | None]


class ProjectionRunner:
    """Runs one projection over the event store, with a checkpoint that survives restarts.

    ``checkpoints`` defaults to the event store's own (``store.checkpoints``); pass another
    :class:`~victor_core.eventsourcing.checkpoints.CheckpointStore` to keep checkpoints
    elsewhere, for instance next to the read model. Run one runner per projection name at a
    time. ``on_progress`` is called with a :class:`ProjectionProgress` after each batch.
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
    ) -> None:
        if not isinstance(projection, Projection):
            raise ConfigurationError(
                f"ProjectionRunner runs a victor_core.Projection, got "
                f"{type(projection).__qualname__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(f"batch_size must be an int >= 1, got {batch_size!r}")
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

    async def position(self) -> int:
        """The saved checkpoint: the position of the last event the projection handled."""
        return await self.checkpoints.load(self.name)

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
        while True:
            handled, position = await self._batch(position)
            events += handled
            progress = ProjectionProgress(self.name, events, position, time.monotonic() - started)
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
        done = after
        handled = 0
        try:
            async for recorded in self.store.read_all(
                from_position=after + 1, limit=self.batch_size, page_size=self.batch_size
            ):
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
                done = recorded.position
                handled += 1
        finally:
            if done != after:
                await self.checkpoints.save(self.name, done)
        return handled, done

    async def _report(self, progress: ProjectionProgress) -> None:
        if self.on_progress is not None:
            outcome = self.on_progress(progress)
            if inspect.isawaitable(outcome):
                await outcome
