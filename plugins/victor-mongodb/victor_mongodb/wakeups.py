"""Wake-ups on append: a change stream on the events collection, and this process's appends.

A subscription that has read to the end of the log waits on a :class:`ChangeStreamSignal`.
Appends made through the same :class:`~victor_mongodb.MongoDatabase` wake it at once, when
they return. Appends made elsewhere (another process, another client) are announced by a
change stream on ``victor_events``: one stream per database object, opened by the first
waiting subscription and closed with the last, carrying only the ``last_position`` of each
inserted commit document (a transaction's inserts show up when it commits).

The stream is a wake-up, never the data: a woken subscription reads ``read_all`` from its
own position, so events appended while the stream was down, or before it opened, are read
all the same, in order. Whenever the stream (re)opens or is lost, every waiter reads once
more; while it is down, waiters read again every poll interval. Change streams need a
replica set or a sharded cluster: a standalone server refuses them (error 40573), and the
in-process stand-ins have none, so there the signal polls, at the poll interval, for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import weakref
from typing import Any

from pymongo.errors import OperationFailure, PyMongoError

from victor_core.backend import AppendBroadcast, AppendSignal, VictorError
from victor_mongodb.client import Flavour, resolved
from victor_mongodb.database import MongoDatabase
from victor_mongodb.testing import is_stand_in

logger = logging.getLogger(__name__)

#: The collection holding the commit documents (as in :mod:`victor_mongodb.event_log`).
EVENTS = "victor_events"
#: Inserted commits only, and of each only what says how far the log has got.
PIPELINE: list[dict[str, Any]] = [
    {"$match": {"operationType": "insert"}},
    {"$project": {"operationType": True, "fullDocument.last_position": True}},
]
#: The server's answer to ``$changeStream`` on a standalone server.
CHANGE_STREAM_NOT_SUPPORTED = 40573
#: Seconds before the first attempt to open a lost stream again; doubled up to the maximum.
FIRST_RETRY_DELAY = 0.05
MAX_RETRY_DELAY = 5.0


class StreamState(enum.Enum):
    """Where a database's change stream stands."""

    #: Not open: opening, or open again after it was lost. Waiters poll meanwhile.
    DOWN = "down"
    #: Open: an insert by anyone wakes the waiters.
    WATCHING = "watching"
    #: The deployment has no change streams (a standalone server, a stand-in): waiters poll.
    UNAVAILABLE = "unavailable"


class AppendWakeups:
    """One database's wake-ups: what its appends notify, and the change stream feeding it.

    :func:`wakeups_of` gives the one belonging to a :class:`MongoDatabase`. Signals
    :meth:`enter` it as they start waiting and :meth:`leave` it when their subscription
    ends; the stream runs while at least one is in.
    """

    def __init__(self, database: MongoDatabase) -> None:
        self.database = database
        #: Notified with the last position of every append known to have committed.
        self.appended = AppendBroadcast()
        self.state = StreamState.UNAVAILABLE if is_stand_in(database.client) else StreamState.DOWN
        #: How many times the change stream was opened (once, unless it was lost).
        self.streams_opened = 0
        self._users = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def watching(self) -> bool:
        """True while the change stream is open."""
        return self.state is StreamState.WATCHING

    def committed(self, position: int) -> None:
        """An append ending at *position* committed: wake whoever waits for less."""
        if position > self.appended.head:
            self.appended.notify(position)

    def enter(self) -> None:
        """A signal starts waiting: open the stream if it is not running yet."""
        self._users += 1
        if self._task is None and self.state is StreamState.DOWN:
            self._task = asyncio.get_running_loop().create_task(
                self._keep_watching(), name="victor-mongodb-change-stream"
            )

    async def leave(self) -> None:
        """A signal is done; the last one out closes the stream."""
        self._users = max(self._users - 1, 0)
        if self._users:
            return
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.state is StreamState.WATCHING:
            self.state = StreamState.DOWN

    async def _keep_watching(self) -> None:
        delay = FIRST_RETRY_DELAY
        while True:
            try:
                await self._watch()
                delay = FIRST_RETRY_DELAY  # it ran, then ended: open it again at once
            except OperationFailure as exc:
                if _unsupported(exc):
                    logger.info(
                        "%s has no change streams (%s); subscriptions poll for appends of "
                        "other processes",
                        self.database.settings.describe(),
                        exc,
                    )
                    self._lost(StreamState.UNAVAILABLE)
                    return
                logger.warning("the change stream on %s failed: %s", EVENTS, exc)
            except (PyMongoError, VictorError) as exc:
                if self.database.closed:
                    self._lost(StreamState.DOWN)
                    return
                logger.debug("the change stream on %s was lost: %s", EVENTS, exc)
            except Exception:
                # A client that does not speak change streams as PyMongo does: poll.
                logger.warning("cannot follow a change stream on %s", EVENTS, exc_info=True)
                self._lost(StreamState.UNAVAILABLE)
                return
            self._lost(StreamState.DOWN)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    async def _watch(self) -> None:
        """Follow the stream until it ends (an error, or the server closed its cursor)."""
        collection = self.database.collection(EVENTS)
        stream = await resolved(collection.watch(PIPELINE))
        try:
            if self.database.adapter.flavour is Flavour.PYMONGO:
                self._opened()  # PyMongo ran the aggregate before answering
            while stream.alive:
                # Motor opens its stream on the first call: only then does it watch.
                change = await stream.try_next()
                self._opened()
                if change is not None:
                    position = change.get("fullDocument", {}).get("last_position")
                    if isinstance(position, int):
                        self.committed(position)
        finally:
            with contextlib.suppress(Exception):
                await resolved(stream.close())

    def _opened(self) -> None:
        if self.state is not StreamState.WATCHING:
            self.state = StreamState.WATCHING
            self.streams_opened += 1
            # Appends may have committed before the stream saw them: everyone reads once.
            self.appended.notify(0)

    def _lost(self, state: StreamState) -> None:
        was = self.state
        self.state = state
        if was is StreamState.WATCHING:
            self.appended.notify(0)  # waiters poll from now on


def _unsupported(error: OperationFailure) -> bool:
    return error.code == CHANGE_STREAM_NOT_SUPPORTED or "only supported on replica sets" in str(
        error
    )


_WAKEUPS: weakref.WeakKeyDictionary[MongoDatabase, AppendWakeups] = weakref.WeakKeyDictionary()


def wakeups_of(database: MongoDatabase) -> AppendWakeups:
    """The wake-ups of *database*, shared by every recorder and subscription on it."""
    found = _WAKEUPS.get(database)
    if found is None:
        found = _WAKEUPS[database] = AppendWakeups(database)
    return found


class ChangeStreamSignal(AppendSignal):
    """The MongoDB event store's :class:`~victor_core.backend.AppendSignal`, one per subscription.

    Answers ``True`` at once when an append beyond *after* is known (this process's, or one
    the change stream announced) that this subscription has not yet read again for; at most
    once per position, so that a read that cannot see the commit yet (a lagging secondary)
    then waits instead of spinning. Without a watching stream, a wait ends with ``True``
    after its *seconds*: polling.
    """

    def __init__(self, database: MongoDatabase) -> None:
        self.wakeups = wakeups_of(database)
        self._entered = False
        self._answered = -1

    async def wait(self, after: int, seconds: float) -> bool:
        wakeups = self.wakeups
        if not self._entered:
            self._entered = True
            wakeups.enter()
        appended = wakeups.appended
        if appended.head > after and after != self._answered:
            self._answered = after
            return True
        if await appended.wait(max(after, appended.head), seconds):
            return True
        return not wakeups.watching or appended.head > after

    async def close(self) -> None:
        if self._entered:
            self._entered = False
            await self.wakeups.leave()
