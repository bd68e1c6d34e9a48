"""Keeping a backend's connection on the event loop it belongs to.

Drivers built on asyncio (aiosqlite's futures, PyMongo's async client, a group commit's
queue) hold objects tied to the loop that made them; used from another thread's loop they
fail in ways that say nothing useful, or not at all until data is wrong. A backend that
does not declare ``Capability.THREADS`` checks each operation with :class:`LoopBinding`,
so that such use is refused at once with a :class:`~victor_core.errors.WrongEventLoop`
that says what to do instead.
"""

from __future__ import annotations

import asyncio
import threading

from victor_core.errors import WrongEventLoop


class LoopBinding:
    """The event loop one connection belongs to: the first that uses it, while it lives.

    Once that loop is closed (an ``asyncio.run`` ended), the next loop to use the
    connection takes it over, so running a program's parts one ``asyncio.run`` after
    another still works; only use from two loops at once is refused.
    """

    def __init__(self, what: str, backend: str) -> None:
        #: What messages call the connection ("SQLite file 'app.db'").
        self.what = what
        self.backend = backend
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = ""

    def check(self) -> None:
        """Raise :class:`WrongEventLoop` unless the running loop may use the connection."""
        loop = asyncio.get_running_loop()
        bound = self._loop
        if loop is bound:
            return
        if bound is None or bound.is_closed():
            self._loop, self._thread = loop, threading.current_thread().name
            return
        raise WrongEventLoop(
            f"{self.what} is in use on the event loop of thread {self._thread!r} and was "
            f"used from another one (thread {threading.current_thread().name!r}); nothing "
            f"was done. The {self.backend} backend does not declare the 'threads' "
            "capability: open a store or repository in each thread (or event loop) instead "
            "of sharing one"
        )


__all__ = ["LoopBinding"]
