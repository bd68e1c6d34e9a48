"""Wake-ups on append: ``LISTEN victor_events``, kept alive across dropped connections.

Every append announces itself with ``NOTIFY victor_events, '<last position>'`` when it
commits (unless the store was opened with ``notify=False``). :class:`AppendListener` holds one
connection of its own (outside the pool) listening on that channel, so that a live
subscription or a projection runner sleeps until something was appended instead of polling
the log. Notifications are hints, never the data: a woken reader reads ``read_all`` from its
own position, so a lost or merged notification loses nothing.

When the listening connection drops (a server restart, a failover, ``pg_terminate_backend``),
the listener reconnects in the background with a growing pause, and until it is back every
waiter is woken each ``poll_interval`` seconds, so readers poll meanwhile; once it is back,
waiters are woken once, since appends may have happened while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any, Self

from victor_core.backend import AppendSignal, ConfigurationError, VictorError
from victor_postgres.database import Connection, PostgresDatabase
from victor_postgres.event_log import CHANNEL


class AppendListener:
    """Wakes waiters when events are appended to the database; ``async with`` starts it.

    ::

        async with AppendListener(database) as listener:
            while True:
                await listener.wait(within=30)  # an append, a poll tick, or the timeout
                ...  # read_all from the last position seen

    *poll_interval* is how often waiters are woken while the connection is down;
    *max_reconnect_delay* caps the pause between reconnection attempts.
    """

    def __init__(
        self,
        database: PostgresDatabase,
        *,
        poll_interval: float = 1.0,
        max_reconnect_delay: float = 5.0,
    ) -> None:
        if not poll_interval > 0 or not max_reconnect_delay > 0:
            raise ConfigurationError("poll_interval and max_reconnect_delay must be > 0 seconds")
        self.database = database
        self.poll_interval = poll_interval
        self.max_reconnect_delay = max_reconnect_delay
        #: The highest position announced so far (0 before the first).
        self.last_position = 0
        #: How many times the listening connection was (re)established.
        self.connections = 0
        self._connection: Connection | None = None
        self._woken = asyncio.Event()
        self._lost = asyncio.Event()
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """True while the connection is up and listening on the channel."""
        return self._connected.is_set()

    async def start(self) -> None:
        """Connect and listen; returns once listening (raises if the first connect fails)."""
        if self._task is not None:
            return
        await self._connect()
        self._task = asyncio.create_task(self._keep_alive(), name="victor-append-listener")

    async def wait(self, within: float | None = None) -> bool:
        """Sleep until an append is announced (True), or a poll tick or *within* s (False).

        While the connection is down, a poll tick comes every ``poll_interval`` seconds.
        """
        if self._task is None:
            raise ConfigurationError("start the AppendListener first (async with listener:)")
        limit = within
        if not self.listening:
            limit = self.poll_interval if within is None else min(within, self.poll_interval)
        if not self._woken.is_set():
            try:
                # asyncio.timeout rather than wait_for, which runs the wait in a task of
                # its own: one more turn of the event loop between a NOTIFY and its reader.
                async with asyncio.timeout(limit):
                    await self._woken.wait()
            except TimeoutError:
                return False
        self._woken.clear()
        return True

    async def wait_connected(self, within: float | None = None) -> bool:
        """Wait until the listener is connected (again); False after *within* seconds."""
        try:
            await asyncio.wait_for(self._connected.wait(), within)
        except TimeoutError:
            return False
        return True

    @property
    def server_pid(self) -> int | None:
        """The server process of the listening connection, None while disconnected."""
        connection = self._connection
        if connection is None or connection.is_closed():
            return None
        return connection.get_server_pid()

    async def close(self) -> None:
        """Stop listening and close the connection; closing twice is harmless."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._disconnect()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _notified(self, connection: Any, pid: int, channel: str, payload: object) -> None:
        with contextlib.suppress(ValueError):
            self.last_position = max(self.last_position, int(str(payload)))
        self._woken.set()

    def _terminated(self, connection: Any) -> None:
        self._connected.clear()
        self._lost.set()

    async def _connect(self) -> None:
        connection = await self.database.connect()
        try:
            await connection.add_listener(CHANNEL, self._notified)
        except BaseException:
            await connection.close()
            raise
        connection.add_termination_listener(self._terminated)
        self._connection = connection
        self.connections += 1
        self._lost.clear()
        self._connected.set()

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        self._connected.clear()
        if connection is not None and not connection.is_closed():
            connection.terminate()

    async def _keep_alive(self) -> None:
        while True:
            await self._watch()
            await self._disconnect()
            self._woken.set()  # waiters poll while the connection is down
            delay = min(0.05, self.max_reconnect_delay)
            while True:
                await asyncio.sleep(delay)
                try:
                    await self._connect()
                except VictorError:
                    delay = min(delay * 2, self.max_reconnect_delay)
                    continue
                break
            self._woken.set()  # appends may have happened while nobody listened

    async def _watch(self) -> None:
        """Return when the connection is lost: told by asyncpg, or found by a probe."""
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), self.poll_interval)
                return
            except TimeoutError:
                pass
            connection = self._connection
            if connection is None or connection.is_closed():
                return
            try:
                await asyncio.wait_for(connection.execute("SELECT 1"), self.poll_interval * 5)
            except Exception:
                return


class ListeningSignal(AppendSignal):
    """The event store's :class:`~victor_core.backend.AppendSignal`: an :class:`AppendListener`
    started on the first wait, in the waiting event loop.

    Until the listener is connected (and while it reconnects) a wait ends after its
    *seconds* with True, so the subscription reads again: polling, never missing an append.
    """

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database
        self._listener: AppendListener | None = None
        self._answered = -1

    async def wait(self, after: int, seconds: float) -> bool:
        listener = self._listener
        if listener is None:
            listener = AppendListener(self.database, poll_interval=max(seconds, 0.05))
            try:
                await listener.start()
            except VictorError:
                await asyncio.sleep(seconds)
                return True
            self._listener = listener
            return True  # appends before it listened are only found by reading
        if listener.last_position > after and after != self._answered:
            # Announced but not read yet. If a read from *after* found nothing new (an older
            # transaction holds it back), the next wait for the same *after* sleeps instead.
            self._answered = after
            return True
        if not listener.listening:
            await asyncio.sleep(seconds)
            return True
        return await listener.wait(within=seconds) or listener.last_position > after

    async def close(self) -> None:
        """Stop the listener, if one was started."""
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()
