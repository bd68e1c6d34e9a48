"""Live subscriptions: catch up through ``read_all``, then follow appends as they commit.

A subscription reads the log page by page from a position and, once it has reached the
end, waits for the backend to say that something new may be there. The recorder's
``read_all`` stays the only source of truth: a wake-up is a hint to read again, never an
event in itself, so a lost, repeated or early signal costs a query, not an event. Each
delivered event has a higher position than the one before it, which is what makes a
subscription never repeat an event; never skipping one is the recorder's promise that
``read_all`` shows no position before every lower position that will ever exist is visible.

Backends wake subscriptions through an :class:`AppendSignal` (``recorder.append_signal()``).
:class:`AppendBroadcast` is the in-process one every backend can use: appends notify it after
they commit, and waiting subscriptions in any thread or event loop wake up. Where other
processes write too, a backend's signal also looks for their commits at the poll interval
(SQLite's ``PRAGMA data_version``; NOTIFY/LISTEN on a server). A backend with no signal at
all is read again every poll interval.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Self

from victor_core.errors import BackendError, ConfigurationError, StoreClosed, UnknownEventType
from victor_core.eventsourcing.events import Event
from victor_core.eventsourcing.records import RecordedEvent, StoredEventRecord

if TYPE_CHECKING:
    from victor_core.eventsourcing.store import EventStore

#: Seconds between looks for appends the backend cannot signal (other processes, say).
DEFAULT_POLL_INTERVAL = 0.5


class AppendSignal(abc.ABC):
    """How a backend tells waiting subscriptions that the log may hold new events.

    The kernel calls :meth:`wait` once a subscription has read everything up to *after*.
    Answer ``True`` as soon as a read from ``after + 1`` may find something (an append
    committed, or the signal lost track, e.g. its connection dropped and came back) and
    ``False`` when *seconds* passed and nothing can be new. A ``True`` too many costs
    one read; a ``False`` when something was appended delays the event until the next one.
    """

    @abc.abstractmethod
    async def wait(self, after: int, seconds: float) -> bool:
        """Return once events beyond position *after* may be visible, or after *seconds*."""

    async def close(self) -> None:  # noqa: B027 - optional for signals holding nothing
        """Release what the signal holds (a LISTEN connection, say): its subscription ended.

        Called once, when the subscription is closed or its iteration ends.
        """


class AppendBroadcast(AppendSignal):
    """An in-process signal: appends call :meth:`notify`, subscriptions :meth:`wait`.

    Safe across threads and event loops, so that stores sharing one storage from several
    threads wake each other. Call :meth:`notify` only *after* the append committed, with
    its last position: waiting on a position that a rollback took back would spin.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._head = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def head(self) -> int:
        """The highest position notified so far."""
        return self._head

    def notify(self, position: int) -> None:
        """Tell every waiter that events up to *position* are committed."""
        with self._lock:
            if position > self._head:
                self._head = position
            waiters, self._waiters = self._waiters, []
        if not waiters:
            return
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        for loop, future in waiters:
            if loop is here:
                # The same loop: no need to wake it through its self-pipe.
                _resolve(future)
                continue
            # A closed loop raises RuntimeError: nobody is waiting there any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, after: int, seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._lock:
            if self._head > after:
                return True
            self._waiters.append(entry)
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for puts one more turn of
            # the loop between the notify and the waiter (a callback on a second future).
            async with asyncio.timeout(seconds):
                await future
        except TimeoutError:
            return False
        finally:
            with self._lock:
                if entry in self._waiters:
                    self._waiters.remove(entry)
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Subscription:
    """An async iterator over recorded events: everything from a position on, then live ones.

    Made by :meth:`EventStore.subscribe <victor_core.EventStore.subscribe>`. Events come in
    global order, each once. Iteration ends when the subscription is closed (:meth:`aclose`,
    the end of an ``async with`` block) or its store is; cancelling the task that iterates
    stops it at once. :attr:`position` says how far it has got, so a consumer can resume
    with ``subscribe(from_position=subscription.position + 1)``.
    """

    def __init__(
        self,
        store: EventStore,
        from_position: int,
        *,
        types: Iterable[type[Event] | str] | type[Event] | str | None,
        page_size: int,
        poll_interval: float,
    ) -> None:
        self._store = store
        self._page_size = page_size
        self._poll_interval = poll_interval
        self._matches = _type_filter(store, types)
        #: The global position of the last event delivered or passed over by the type filter.
        self.position = max(from_position, 1) - 1
        self._read_to = self.position
        self._buffer: deque[StoredEventRecord] = deque()
        # Decodes the buffered records, looking each event type up once per page read; a
        # fresh one for every page, so that classes registered meanwhile are seen.
        self._decode = store.serializer._page_decoder()
        self._caught_up = False
        self._closed = False
        # The consumer's task while it waits for the signal, and whether close() has
        # cancelled that wait (see _wait).
        self._waiting: asyncio.Task[object] | None = None
        self._interrupted = False
        self._signal = store.recorder.append_signal()

    @property
    def closed(self) -> bool:
        """True once the subscription or its store was closed; iteration has then ended."""
        return self._ended()

    def _ended(self) -> bool:
        return self._closed or self._store.closed

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> RecordedEvent:
        while True:
            if self._buffer:
                # Decoded before it leaves the buffer: a record that cannot be read stays
                # first in line, so the error repeats rather than the event being skipped.
                record = self._buffer[0]
                recorded = self._store._recorded(record, deserialize=self._decode)
                self._buffer.popleft()
                self.position = record.position
                return recorded
            self.position = self._read_to
            if not await self._fill():
                await self._release_signal()
                raise StopAsyncIteration

    async def next_batch(self, limit: int) -> list[RecordedEvent]:
        """Up to *limit* events, waiting only for the first: what a batch consumer wants.

        Returns as soon as at least one event is in hand, with no more than were already
        read; returns an empty list once the subscription is closed.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"limit must be an int >= 1, got {limit!r}")
        batch: list[RecordedEvent] = []
        while not batch:
            if not self._buffer:
                self.position = self._read_to
                if not await self._fill():
                    await self._release_signal()
                    return batch
            while self._buffer and len(batch) < limit:
                record = self._buffer[0]
                try:
                    recorded = self._store._recorded(record, deserialize=self._decode)
                except Exception:
                    if batch:
                        return batch  # what was read is delivered; the error comes next call
                    raise
                batch.append(recorded)
                self._buffer.popleft()
                self.position = record.position
        if not self._buffer:
            self.position = self._read_to
        return batch

    async def next_records(self, limit: int) -> list[StoredEventRecord]:
        """:meth:`next_batch`, as stored records: for tools without the event classes.

        ``victor tail`` reads the log this way, so it prints events of any application.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"limit must be an int >= 1, got {limit!r}")
        if not self._buffer:
            self.position = self._read_to
            if not await self._fill():
                await self._release_signal()
                return []
        records = [self._buffer.popleft() for _ in range(min(limit, len(self._buffer)))]
        self.position = records[-1].position if self._buffer else self._read_to
        return records

    def close(self) -> None:
        """Stop the subscription; a consumer waiting in ``async for`` finishes its loop."""
        self._closed = True
        self._buffer.clear()
        self._wake()

    async def aclose(self) -> None:
        """:meth:`close`, and release the backend's signal (a connection it may hold) now."""
        self.close()
        await self._release_signal()

    async def _release_signal(self) -> None:
        signal, self._signal = self._signal, None
        if signal is not None:
            await signal.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _wake(self) -> None:
        """Called by the store as it closes: end the wait of a consumer, if any."""
        task = self._waiting
        if task is not None and not self._interrupted:
            self._interrupted = True
            task.cancel()

    async def _fill(self) -> bool:
        """Read the next matching records into the buffer; False once closed."""
        while not self._ended():
            if self._caught_up and not await self._wait():
                continue
            if self._ended():
                return False
            try:
                page = await self._store.recorder.read_all(self._read_to + 1, self._page_size)
            except StoreClosed:
                # The store closed while the read was on its way: the end, not an error.
                if self._ended():
                    return False
                raise
            self._caught_up = len(page) < self._page_size
            if page:
                self._decode = self._store.serializer._page_decoder()
            for record in page:
                if record.position <= self._read_to:
                    raise BackendError(
                        f"{type(self._store.recorder).__qualname__}.read_all returned position "
                        f"{record.position} after {self._read_to}; a recorder must return "
                        "positions above from_position in increasing order"
                    )
                self._read_to = record.position
                if self._matches(record):
                    self._buffer.append(record)
            if self._buffer:
                return True
            if not page:
                self._caught_up = True
        return False

    async def _wait(self) -> bool:
        """Wait for a hint that something new may be there; False on a quiet time-out.

        The signal's wait runs in the consumer's own task, so that an append wakes the
        consumer in one turn of the event loop, as a bare ``asyncio.Event`` would: no task
        of its own, no ``asyncio.wait`` in between. Closing interrupts it by cancelling
        that task and taking the cancellation back (:meth:`_wake`), which is how
        ``asyncio.timeout`` ends a wait without ending the task.
        """
        if self._ended():
            return False
        task = asyncio.current_task()
        self._waiting = task
        try:
            if self._signal is None:
                await asyncio.sleep(self._poll_interval)
                return True
            return bool(await self._signal.wait(self._read_to, self._poll_interval))
        except asyncio.CancelledError:
            if self._interrupted and task is not None and task.uncancel() == 0:
                return False  # cancelled by close(), not by the consumer's owner
            raise
        except StoreClosed:
            if self._ended():
                return False
            raise
        finally:
            self._waiting = None
            self._interrupted = False


def _type_filter(
    store: EventStore, types: Iterable[type[Event] | str] | type[Event] | str | None
) -> _Matcher:
    if types is None:
        return _everything
    if isinstance(types, str | type):
        types = [types]
    names: set[str] = set()
    classes: list[type[Event]] = []
    for each in types:
        if isinstance(each, str) and each:
            names.add(each)
        elif isinstance(each, type) and issubclass(each, Event):
            classes.append(each)
        else:
            raise ConfigurationError(
                f"types= takes Event subclasses or stored type names, got {each!r}"
            )
    return _Matcher(store, names, tuple(classes))


class _Matcher:
    """Whether a record's type is wanted: by stored name, or as a subclass of a given class."""

    def __init__(
        self, store: EventStore | None, names: set[str], classes: tuple[type[Event], ...]
    ) -> None:
        self._store = store
        self._names = names
        self._classes = classes
        self._known: dict[str, bool] = {}

    def __call__(self, record: StoredEventRecord) -> bool:
        name = record.type_name
        if name in self._names:
            return True
        if not self._classes or self._store is None:
            return False
        known = self._known.get(name)
        if known is None:
            try:
                resolved = self._store.serializer.registry.resolve(name)
            except UnknownEventType:
                known = False
            else:
                known = issubclass(resolved, self._classes)
            self._known[name] = known
        return known


class _Everything(_Matcher):
    def __call__(self, record: StoredEventRecord) -> bool:
        return True


_everything = _Everything(None, set(), ())


__all__ = ["DEFAULT_POLL_INTERVAL", "AppendBroadcast", "AppendSignal", "Subscription"]
