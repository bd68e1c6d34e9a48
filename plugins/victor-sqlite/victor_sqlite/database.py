"""One SQLite database behind one aiosqlite connection, shared by every victor component on it.

aiosqlite runs each call on the connection's worker thread, and the hand-off between the
event loop and that thread costs far more than SQLite itself needs for a small statement.
So components never issue statements one ``await`` at a time: they write a plain function
of a :class:`sqlite3.Connection` and run it whole with :meth:`SQLiteDatabase.run` (or
:meth:`~SQLiteDatabase.write`, which wraps it in ``BEGIN IMMEDIATE`` ... ``COMMIT``): one
thread hop per operation, however many statements it runs. Functions queued on one
connection run one after another, so a write transaction never interleaves with anything
else on the same connection.

Short reads skip the hop: :meth:`SQLiteDatabase.read_here` runs them on a read-only
connection of the event loop's own thread, in WAL mode only, where a reader never waits for
a writer; the event store reads the first records of a stream that way, so that loading an
aggregate takes no hop at all.

The event store, snapshots and checkpoints share a database this way, and so can
repositories or a unit of work: pass the same :class:`SQLiteDatabase` to each.

Writes commit in groups. With ``synchronous=FULL`` every commit waits for the disk, and that
wait, not SQLite, bounds how many transactions a second one file can take. So writes that
arrive while a transaction is being written do not each start their own: the next hop runs
all of them in one ``BEGIN IMMEDIATE`` ... ``COMMIT``, each inside its own savepoint, so
each still fails alone (a stale expected version rolls back that write only) while the
others commit, and each is acknowledged only once the commit that holds it is on disk. A
lone writer never waits for company: its write starts at once, as before.
"""

from __future__ import annotations

import asyncio
import enum
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import aiosqlite
import attrs

from victor_core.backend import (
    AppendBroadcast,
    BackendError,
    ConfigurationError,
    LoopBinding,
    StoreClosed,
    TransientBackendError,
    VictorError,
)
from victor_sqlite.schema import SchemaPart, check_ownership, claim, ensure_part
from victor_sqlite.settings import SQLiteSettings

T = TypeVar("T")

if not hasattr(aiosqlite.Connection, "_execute"):  # pragma: no cover - depends on the install
    raise ImportError(
        "victor-sqlite runs functions on aiosqlite's worker thread through "
        "Connection._execute, which this aiosqlite version lacks; install aiosqlite>=0.19"
    )


class NotHere(enum.Enum):
    """What :meth:`SQLiteDatabase.read_here` returns for a read it leaves to the worker."""

    NOT_HERE = "not here"


NOT_HERE = NotHere.NOT_HERE


class SQLiteDatabase:
    """An SQLite database file (or an in-memory database) and the connection to it.

    The connection opens on first use: the durability pragmas are applied, the file is
    checked to be victor's (or empty), and each component's tables are created the first
    time it needs them. ``SQLiteDatabase("app.db", synchronous="NORMAL")`` takes the
    same options as the ``sqlite://`` URLs (``synchronous``, ``journal_mode``,
    ``busy_timeout``); *path* may also be such a URL, or ready-made settings.
    """

    def __init__(
        self, path: str | os.PathLike[str] | SQLiteSettings = ":memory:", **options: Any
    ) -> None:
        if isinstance(path, SQLiteSettings):
            if options:
                raise ConfigurationError("pass SQLiteSettings or options, not both")
            self.settings = path
        else:
            self.settings = SQLiteSettings.create(path, **options)
        self._connection: aiosqlite.Connection | None = None
        self._submit: Callable[..., Awaitable[Any]] | None = None
        self._raw: sqlite3.Connection | None = None
        self._open_lock: asyncio.Lock | None = None
        self._parts: set[str] = set()
        self._closed = False
        # The connection's futures, its open lock and the group commit's queue belong to
        # one event loop; the backend does not declare Capability.THREADS.
        self._loop = LoopBinding(self.settings.describe(), "sqlite")
        # Writes waiting for the next group commit, and the task that runs the groups.
        self._waiting: list[_Waiting] = []
        self._committer: asyncio.Task[None] | None = None
        self._writing = False
        # Set while no write is in flight, so that closing can wait for the last commit.
        self._idle = asyncio.Event()
        self._idle.set()
        self._appended = (
            AppendBroadcast() if self.settings.in_memory else _broadcast_of(self.settings.path)
        )
        # A second connection, on the event loop's thread, for short reads (see read_here).
        self._reader: sqlite3.Connection | None = None
        self._reads_here = not self.settings.in_memory and self.settings.journal_mode == "WAL"

    @property
    def appended(self) -> AppendBroadcast:
        """Notified after each commit that appended events, by every connection to the file
        in this process; subscriptions in this process wait on it."""
        return self._appended

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(connection, *args)`` on the worker thread, in one hop, in autocommit mode.

        *function* gets the raw :class:`sqlite3.Connection` and must not keep it. SQLite
        errors come back as victor errors that say what to do; victor errors the function
        raises (a :class:`~victor_core.ConcurrencyError`, say) come back unchanged.
        """
        self._loop.check()
        submit, raw = self._submit, self._raw
        if submit is None or raw is None:
            submit, raw = await self._open()
        try:
            return cast(T, await submit(function, raw, *args))
        except sqlite3.Error as exc:
            raise _translate(exc, self.settings) from exc

    def read_here(self, function: Callable[..., T], *args: Any) -> T | NotHere:
        """``function(connection, *args)`` at once, on the event loop's thread; or NOT_HERE.

        A hop to the worker thread costs more than SQLite needs to read a short stream, so
        a read that is known to be short (the caller bounds its rows) runs on a second,
        read-only connection that lives on the event loop's thread, as a blocking driver
        would run it. In WAL mode a reader never waits for a writer and sees every commit
        acknowledged before it started. ``NOT_HERE`` says to :meth:`run` it instead: the
        database is in memory (one connection only) or not in WAL mode (readers wait for
        writers there), not opened yet, or busy for a moment (its WAL index being rebuilt),
        which the worker's connection waits out within ``busy_timeout``.
        """
        if not self._reads_here or self._closed or self._raw is None:
            return NOT_HERE
        self._loop.check()
        reader = self._reader
        try:
            if reader is None:
                # No wait for locks: a busy file is read by the worker, which may wait.
                reader = sqlite3.connect(self.settings.path, timeout=0, isolation_level=None)
                reader.execute("PRAGMA query_only = ON")
                self._reader = reader
            return function(reader, *args)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                return NOT_HERE
            raise _translate(exc, self.settings) from exc
        except sqlite3.Error as exc:
            raise _translate(exc, self.settings) from exc

    async def write(self, function: Callable[..., T], *args: Any) -> T:
        """:meth:`run` *function* inside ``BEGIN IMMEDIATE`` ... ``COMMIT``, still one hop.

        The write lock is taken before *function* reads anything, so what it reads cannot
        change before it commits, and transactions of all connections to the file commit one
        after another. Any exception rolls back everything *function* did, and only that:
        writes that arrive together share one transaction (see the module's docstring), each
        in its own savepoint. The result comes back once the transaction is committed.
        """
        self._loop.check()
        if self._committer is not None or self._writing:
            # A transaction is on its way: wait for the next group.
            waiting = _Waiting(function, args, asyncio.get_running_loop().create_future())
            self._waiting.append(waiting)
            return cast(T, await waiting.future)
        # Alone: commit at once, on this task, as an ungrouped write would.
        self._writing = True
        self._idle.clear()
        try:
            return await self.run(_in_write_transaction, function, *args)
        finally:
            self._writing = False
            if self._waiting:
                self._committer = asyncio.get_running_loop().create_task(self._commit_groups())
            else:
                self._idle.set()

    async def _commit_groups(self) -> None:
        """Commit every waiting write, in groups, until none is left."""
        try:
            while self._waiting:
                # A write whose caller gave up before its group started is not written.
                group = [w for w in self._waiting if not w.future.done()]
                self._waiting = []
                if group:
                    await self._commit_group(group)
        finally:
            self._committer = None
            self._idle.set()

    async def _commit_group(self, group: list[_Waiting]) -> None:
        try:
            outcomes = await self.run(_in_group_transaction, [(w.function, w.args) for w in group])
        except BaseException as exc:
            # Nothing of the group was committed: every write in it failed with the error.
            for waiting in group:
                if waiting.future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    waiting.future.cancel()
                else:
                    waiting.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for waiting, (succeeded, value) in zip(group, outcomes, strict=True):
            if waiting.future.done():
                continue
            if succeeded:
                waiting.future.set_result(value)
            elif isinstance(value, sqlite3.Error):
                error = _translate(value, self.settings)
                error.__cause__ = value
                waiting.future.set_exception(error)
            else:
                waiting.future.set_exception(value)

    async def read(self, function: Callable[..., T], *args: Any) -> T:
        """:meth:`run` *function* inside one read transaction: all its queries see one state."""
        return await self.run(_in_read_transaction, function, *args)

    async def ensure(self, part: SchemaPart) -> None:
        """Create *part*'s tables unless they exist; cheap after the first call."""
        if part.name not in self._parts:
            await self.run(ensure_part, part, self.settings.describe())
            self._parts.add(part.name)

    async def close(self) -> None:
        """Close the connection; the database is not used afterwards. Closing twice is fine.

        Writes already handed over are committed (or fail) first.
        """
        self._closed = True
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        await self._idle.wait()
        connection, self._connection = self._connection, None
        self._submit = self._raw = None
        if connection is not None:
            await connection.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"SQLiteDatabase({self.settings.path!r})"

    async def _open(self) -> tuple[Callable[..., Awaitable[Any]], sqlite3.Connection]:
        if self._submit is not None and self._raw is not None:
            return self._submit, self._raw
        if self._closed:
            raise StoreClosed(f"{self.settings.describe()} was closed; open a new store")
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._submit is None:
                await self._connect()
        assert self._submit is not None
        assert self._raw is not None
        return self._submit, self._raw

    async def _connect(self) -> None:
        settings = self.settings
        connection = aiosqlite.connect(
            settings.path, timeout=settings.busy_timeout, isolation_level=None
        )
        # A daemon worker lets the interpreter exit even if the database was never closed;
        # SQLite's commits are atomic, so nothing half-done can be left behind.
        worker = getattr(connection, "_thread", connection)
        if isinstance(worker, threading.Thread):
            worker.daemon = True
        try:
            await connection
        except sqlite3.Error as exc:
            await _stopped(worker)
            raise _translate(exc, settings) from exc
        submit = cast(Callable[..., Awaitable[Any]], connection._execute)
        try:
            raw = await submit(_raw_connection, connection)
            await submit(_configure, raw, settings)
        except BaseException as exc:
            await connection.close()
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, settings) from exc
            raise
        self._connection, self._submit, self._raw = connection, submit, raw


_broadcasts: weakref.WeakValueDictionary[str, AppendBroadcast] = weakref.WeakValueDictionary()
_broadcasts_lock = threading.Lock()


def _broadcast_of(path: str) -> AppendBroadcast:
    """The one broadcast of the file at *path* in this process, whichever way it is named."""
    key = os.path.realpath(path)
    with _broadcasts_lock:
        broadcast = _broadcasts.get(key)
        if broadcast is None:
            broadcast = _broadcasts[key] = AppendBroadcast()
        return broadcast


async def _stopped(worker: object) -> None:
    """Wait for a worker that aiosqlite stops after a failed connect to finish.

    It reports back to the event loop as it ends; waiting here keeps that report from
    arriving after the loop is closed.
    """
    deadline = time.monotonic() + 5
    while isinstance(worker, threading.Thread) and worker.is_alive():
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.001)


def _raw_connection(connection: aiosqlite.Connection) -> sqlite3.Connection:
    return connection._conn


def _configure(raw: sqlite3.Connection, settings: SQLiteSettings) -> None:
    where = settings.describe()
    # Both ownership reads in one snapshot, before anything in the file is changed.
    owned = _in_read_transaction(raw, check_ownership, where)
    if not owned:
        claim(raw, where)
    if not settings.in_memory:
        _set_journal_mode(raw, settings)
    raw.execute(f"PRAGMA synchronous = {settings.synchronous}")
    raw.execute("PRAGMA foreign_keys = ON")


def _set_journal_mode(raw: sqlite3.Connection, settings: SQLiteSettings) -> None:
    wanted = settings.journal_mode
    if str(raw.execute("PRAGMA journal_mode").fetchone()[0]).upper() == wanted:
        return
    # Changing the mode needs the file to itself, and SQLite reports a conflict at once
    # instead of waiting, so wait here, within the same busy_timeout.
    deadline = time.monotonic() + settings.busy_timeout
    while True:
        try:
            mode = raw.execute(f"PRAGMA journal_mode = {wanted}").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY")
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(0.002)
    if str(mode).upper() != wanted:
        raise ConfigurationError(
            f"{settings.describe()} cannot use journal_mode={wanted} (SQLite kept {mode!r}); "
            "WAL needs a local file system. Pass journal_mode='DELETE'"
        )


def _in_write_transaction(raw: sqlite3.Connection, function: Callable[..., T], *args: Any) -> T:
    raw.execute("BEGIN IMMEDIATE")
    try:
        result = function(raw, *args)
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return result


@attrs.define
class _Waiting:
    """A write handed to :meth:`SQLiteDatabase.write`, until its group commits."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future[Any]


def _in_group_transaction(
    raw: sqlite3.Connection, group: list[tuple[Callable[..., Any], tuple[Any, ...]]]
) -> list[tuple[bool, Any]]:
    """Each write of *group* in its own savepoint of one transaction: ``(succeeded, value)``.

    A write that raises an :class:`Exception` is rolled back to its savepoint and its error
    returned in its place; anything else (or a failed ``COMMIT``) rolls back the whole group
    and propagates, so that every write of it fails.
    """
    if len(group) == 1:
        # Alone, a write's failure may roll back the whole transaction: no savepoint needed.
        function, args = group[0]
        try:
            return [(True, _in_write_transaction(raw, function, *args))]
        except Exception as exc:
            return [(False, exc)]
    outcomes: list[tuple[bool, Any]] = []
    raw.execute("BEGIN IMMEDIATE")
    try:
        for function, args in group:
            raw.execute("SAVEPOINT victor_write")
            try:
                value = function(raw, *args)
            except Exception as exc:
                if not raw.in_transaction:
                    raise  # SQLite rolled the whole transaction back (disk full, I/O error)
                raw.execute("ROLLBACK TO victor_write")
                outcomes.append((False, exc))
            else:
                outcomes.append((True, value))
            raw.execute("RELEASE victor_write")
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return outcomes


def _in_read_transaction(raw: sqlite3.Connection, function: Callable[..., T], *args: Any) -> T:
    raw.execute("BEGIN")
    try:
        return function(raw, *args)
    finally:
        if raw.in_transaction:
            raw.execute("COMMIT")


def _translate(exc: sqlite3.Error, settings: SQLiteSettings) -> VictorError:
    """The victor error for an SQLite failure; nothing of the failed operation was kept."""
    where = settings.describe()
    code = getattr(exc, "sqlite_errorname", "")
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return TransientBackendError(
            f"{where} stayed locked by another connection for longer than busy_timeout="
            f"{settings.busy_timeout:g}s ({exc}); nothing was written. Retry, or raise "
            "busy_timeout (e.g. sqlite:///events.db?busy_timeout=30)"
        )
    if code == "SQLITE_NOTADB":
        return ConfigurationError(
            f"{where} is not an SQLite database ({exc}); it was left as it is. Point victor "
            "at a new file or at one it created"
        )
    if code.startswith("SQLITE_CANTOPEN"):
        return ConfigurationError(
            f"{where} cannot be opened ({exc}); check that its directory exists and is writable"
        )
    if code.startswith("SQLITE_READONLY"):
        return BackendError(f"{where} is read-only ({exc}); nothing was written")
    return BackendError(f"SQLite failed on {where}: {type(exc).__name__}: {exc}")
