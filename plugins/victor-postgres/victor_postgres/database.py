"""One PostgreSQL database behind one pool of asyncpg connections, shared by every victor component.

Components write plain ``async def ..._in(connection, ...)`` functions of an
:class:`asyncpg.Connection` and run them with :meth:`PostgresDatabase.run` (a pooled
connection, autocommit) or :meth:`~PostgresDatabase.write` (the same inside one
transaction), so that the event store, snapshots, checkpoints, repositories and a unit of
work all share the same statements, and every driver error becomes a victor error in one
place: :func:`translate`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Self, TypeAlias, TypeVar

import asyncpg

from victor_core.backend import (
    BackendError,
    BackendUnavailable,
    ConcurrencyError,
    ConfigurationError,
    ExpectedVersion,
    LoopBinding,
    SerializationError,
    StoreClosed,
    TransientBackendError,
    VictorError,
)
from victor_postgres.schema import SchemaPart, ensure_part_in
from victor_postgres.settings import PostgresSettings

T = TypeVar("T")
P = ParamSpec("P")

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record]
else:  # the driver's classes are generic only to the type checker
    Connection = asyncpg.Connection


#: Failures after which a connection cannot be used again.
_BROKEN = (
    OSError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.IdleInTransactionSessionTimeoutError,
)


class PostgresUnavailable(BackendUnavailable):
    """The server cannot be reached or dropped the connection; trying again may work."""


class PostgresBusy(TransientBackendError):
    """Every pooled connection stayed busy for ``pool_timeout``; trying again may work."""


class PostgresConflict(TransientBackendError):
    """PostgreSQL aborted a transaction (serialization failure, deadlock); it wrote nothing.

    ``RetryCommandMiddleware`` retries it, since the same command usually succeeds when run
    again.
    """


class PostgresAppendConflict(PostgresConflict, ConcurrencyError):
    """An append inside a transaction found its stream's head written by a younger transaction.

    Positions come from transaction ids, and this transaction's id is older than the one
    that wrote the head: appended now, its events would sit below the head in the global
    order, after it in the stream. So the append is refused, and the transaction must be
    rolled back and run again (with a new, younger id); nothing of it is stored once it is.
    A :class:`PostgresConflict` (``RetryCommandMiddleware`` retries it) and a
    :class:`~victor_core.ConcurrencyError` (code that reloads and retries handles it).
    """

    def __init__(self, stream_id: str, expected: ExpectedVersion, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        VictorError.__init__(
            self,
            f"appending to stream {stream_id!r} inside a transaction: the stream's last event "
            f"(version {actual}) was committed by a transaction that began writing after "
            f"this one (the append expected {expected}), so this transaction's events would "
            "land below it in the global order. Nothing of the transaction is stored once it "
            "is rolled back; run the transaction (the unit of work) again "
            "(RetryCommandMiddleware does)",
        )


class PostgresDatabase:
    """A PostgreSQL database and the pool of connections to it.

    ``PostgresDatabase("postgresql://app@db/app", max_size=20)``: the pool opens on first
    use, in the event loop that uses it. Share one database between an event store,
    repositories and a unit of work so that they share the pool and can commit together.
    """

    def __init__(self, url: str | PostgresSettings, **options: Any) -> None:
        if isinstance(url, PostgresSettings):
            if options:
                raise ConfigurationError("pass PostgresSettings or options, not both")
            self.settings = url
        else:
            self.settings = PostgresSettings.create(url, **options)
        self._pool: _Pool | None = None
        self._open_lock: asyncio.Lock | None = None
        self._parts: set[str] = set()
        self._closed = False
        # asyncpg's pool and connections belong to the event loop that opened them; the
        # backend does not declare Capability.THREADS.
        self._loop = LoopBinding(self.settings.describe(), "postgres")

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    async def run(
        self,
        function: Callable[Concatenate[Connection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``await function(connection, *args)`` on a pooled connection, in autocommit mode.

        Driver errors come back as victor errors that say what to do; victor errors the
        function raises (a :class:`~victor_core.ConcurrencyError`, say) come back unchanged.
        """
        self._loop.check()
        pool = self._pool or await self._open()
        try:
            connection = pool.take() or await pool.acquire()
            try:
                result = await function(connection, *args, **kwargs)
            except _BROKEN:
                # Dropped by the server (or left mid-protocol): never handed out again, so
                # the next operation gets a new connection.
                pool.discard(connection)
                raise
            except Exception:
                await pool.give_back(connection)
                raise
            except BaseException:
                # Cancelled in the middle of a statement: the connection may still be
                # busy with it, so it is not handed out again.
                pool.discard(connection)
                raise
            if connection.is_in_transaction():
                await pool.give_back(connection)
            else:
                pool.put(connection)
            return result
        except VictorError:
            raise
        except (
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
            OSError,
            TimeoutError,
        ) as exc:
            raise translate(exc, self.settings) from exc

    async def write(
        self,
        function: Callable[Concatenate[Connection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """:meth:`run` *function* inside one transaction; any exception rolls it all back."""
        return await self.run(_in_transaction, function, *args, **kwargs)

    async def ensure(self, part: SchemaPart) -> None:
        """Create *part*'s tables unless they exist; cheap after the first call."""
        if part.name not in self._parts:
            await self.run(ensure_part_in, part, self.settings.describe(), self.settings.schema)
            self._parts.add(part.name)

    async def close(self) -> None:
        """Close the pool; the database is not used afterwards. Closing twice is fine."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

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
        return f"PostgresDatabase({self.settings.shown!r})"

    async def connect(self) -> Connection:
        """A new connection outside the pool, configured like pooled ones; the caller closes it.

        For what must not hold a pooled connection for long (a LISTEN helper).
        """
        settings = self.settings
        try:
            return await asyncpg.connect(
                settings.dsn,
                timeout=settings.connect_timeout,
                server_settings=server_settings(settings),
            )
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise translate(exc, settings) from exc

    async def _open(self) -> _Pool:
        if self._pool is not None:
            return self._pool
        if self._closed:
            raise StoreClosed(f"{self.settings.describe()} was closed; open a new store")
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._pool is None:
                pool = _Pool(self.connect, self.settings.max_size, self.settings.pool_timeout)
                await pool.fill(self.settings.min_size)
                self._pool = pool
        return self._pool


class _Pool:
    """The connections :meth:`PostgresDatabase.run` borrows, at most *size* of them.

    Borrowing an idle connection and returning it are plain list operations: no task, no
    timer and no statement (asyncpg's own pool spends all three on every borrow, which on
    a short statement costs about as much as the statement itself). A caller finding
    every connection busy waits its turn, up to *timeout* seconds.
    """

    def __init__(
        self, connect: Callable[[], Awaitable[Connection]], size: int, timeout: float
    ) -> None:
        self._connect = connect
        self._size = size
        self._timeout = timeout
        self._idle: list[Connection] = []
        #: Connections open, lent or being opened.
        self._count = 0
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._closed = False

    async def fill(self, count: int) -> None:
        """Open connections until *count* are idle (min_size): the first borrows wait less."""
        opened: list[Connection] = []
        try:
            while self._count < min(count, self._size):
                self._count += 1
                try:
                    opened.append(await self._connect())
                except BaseException:
                    self._count -= 1
                    raise
        finally:
            self._idle.extend(opened)

    def take(self) -> Connection | None:
        """An idle connection, or None."""
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.is_closed():
                return connection
            self._count -= 1
        return None

    async def acquire(self) -> Connection:
        """A connection: an idle one, a new one below the size, or the next one returned."""
        if self._closed:
            raise StoreClosed("the database was closed; open a new store")
        deadline: float | None = None
        while True:
            connection = self.take()
            if connection is not None:
                return connection
            if self._count < self._size:
                self._count += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._count -= 1
                    self._hand_over(None)
                    raise
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self._timeout
            waiter: asyncio.Future[Connection | None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    # Handed a connection (or a turn) just as the wait ended: pass it on.
                    self._hand_over(waiter.result())
                else:
                    waiter.cancel()
                raise
            if handed is not None:
                return handed
            if self._closed:
                raise StoreClosed("the database was closed; open a new store")

    def put(self, connection: Connection) -> None:
        """Return a connection that is ready for the next user."""
        if self._closed:
            self.discard(connection)
        else:
            self._hand_over(connection)

    async def give_back(self, connection: Connection) -> None:
        """Return a connection that may be left inside a transaction (an interrupted one)."""
        if connection.is_in_transaction() and not connection.is_closed():
            try:
                await connection.execute("ROLLBACK")
            except BaseException:
                self.discard(connection)
                raise
        self.put(connection)

    def discard(self, connection: Connection) -> None:
        """Drop a connection that must not be used again; a waiter may open a new one."""
        connection.terminate()
        self._count -= 1
        self._hand_over(None)

    def _hand_over(self, connection: Connection | None) -> None:
        """Give *connection* (or, with None, a turn to open one) to the first waiter."""
        if connection is not None and connection.is_closed():
            self._count -= 1
            connection = None
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is not None:
            self._idle.append(connection)

    async def close(self) -> None:
        """Close the idle connections now, and the lent ones when they come back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()
        for connection in idle:
            self._count -= 1
            try:
                await connection.close(timeout=5)
            except Exception:
                connection.terminate()


def server_settings(settings: PostgresSettings) -> dict[str, str]:
    """Session settings of victor's connections."""
    milliseconds = max(1, round(settings.idle_in_transaction_timeout * 1000))
    chosen = {
        "idle_in_transaction_session_timeout": str(milliseconds),
        "application_name": "victor",
    }
    if settings.schema is not None:
        chosen["search_path"] = settings.schema
    if settings.lock_timeout is not None:
        chosen["lock_timeout"] = str(max(1, round(settings.lock_timeout * 1000)))
    return chosen


async def _in_transaction(
    connection: Connection,
    function: Callable[..., Awaitable[T]],
    /,
    *args: Any,
    **kwargs: Any,
) -> T:
    async with connection.transaction():
        return await function(connection, *args, **kwargs)


def translate(exc: BaseException, settings: PostgresSettings) -> VictorError:
    """The victor error for a driver failure; what failed was rolled back by the server."""
    where = settings.describe()
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return ConfigurationError(
            f"{where} refused the credentials ({exc}); check the user name and password in "
            "the URL (postgresql://USER:PASSWORD@host/database)"
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return ConfigurationError(
            f"{where} does not exist on the server ({exc}); create it first (createdb NAME, "
            "or CREATE DATABASE NAME), then victor creates its tables in it"
        )
    if isinstance(exc, asyncpg.TooManyConnectionsError):
        return PostgresBusy(
            f"{where}: the server refused another connection ({exc}); lower max_size, or raise "
            "the server's max_connections"
        )
    if isinstance(exc, asyncpg.LockNotAvailableError):
        return PostgresBusy(
            f"{where}: a lock held by another session was not granted within lock_timeout="
            f"{settings.lock_timeout:g}s ({exc}); nothing was written. Retry "
            "(RetryCommandMiddleware does), or raise lock_timeout"
        )
    if isinstance(exc, asyncpg.SerializationError | asyncpg.DeadlockDetectedError):
        return PostgresConflict(
            f"{where} aborted the transaction ({type(exc).__name__}: {exc}); nothing of it "
            "was written. Run the operation again (RetryCommandMiddleware does)"
        )
    if isinstance(
        exc, asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError
    ):
        return SerializationError(
            f"{where} cannot store this text ({exc}): PostgreSQL text and JSONB refuse the NUL "
            "character (\\x00, \\u0000). Nothing was written; remove NUL characters from ids "
            "and values (or encode them, e.g. as base64) before storing"
        )
    if type(exc) is asyncpg.ProgramLimitExceededError:  # 54000, not its kin (54001...)
        # Mostly "index row size ... exceeds btree version 4 maximum 2704": an id, or an
        # indexed attribute's value, longer than a B-tree index entry holds.
        return ConfigurationError(
            f"{where} cannot store a value this long ({exc}); nothing was written. Stream "
            "ids, event ids, entity ids and the values of indexed attributes each go into an "
            "index, which holds at most about 2,700 bytes of UTF-8: use a shorter id (a hash "
            "of a long natural key, for instance) or keep long text out of indexed attributes"
        )
    if isinstance(exc, asyncpg.DataError):
        return ConfigurationError(
            f"a value cannot be sent to {where} ({exc}); nothing was written. Check the "
            "arguments (numbers must fit in 64 bits)"
        )
    if isinstance(exc, TimeoutError):
        return PostgresBusy(
            f"no connection to {where} became free within pool_timeout="
            f"{settings.pool_timeout:g}s (all max_size={settings.max_size} are in use), or the "
            "server did not answer in time; nothing was written. Retry, raise max_size or "
            "pool_timeout, or keep transactions shorter"
        )
    if isinstance(
        exc,
        OSError
        | asyncpg.InterfaceError
        | asyncpg.InternalClientError
        | asyncpg.ConnectionDoesNotExistError
        | asyncpg.PostgresConnectionError
        | asyncpg.AdminShutdownError
        | asyncpg.CannotConnectNowError
        | asyncpg.IdleInTransactionSessionTimeoutError,
    ):
        return PostgresUnavailable(
            f"lost or could not open a connection to {where} ({type(exc).__name__}: {exc}); "
            "check that the server is running and reachable at that host and port. An "
            "operation that was not acknowledged may or may not have committed: read back "
            "what it wrote before trying it again"
        )
    return BackendError(f"PostgreSQL failed on {where}: {type(exc).__name__}: {exc}")
