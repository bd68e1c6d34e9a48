"""One PostgreSQL database behind one asyncpg pool, shared by every victor component on it.

Components write plain ``async def ..._in(connection, ...)`` functions of an
:class:`asyncpg.Connection` and run them with :meth:`PostgresDatabase.run` (a pooled
connection, autocommit) or :meth:`~PostgresDatabase.write` (the same inside one
transaction), so that the event store, snapshots, checkpoints, repositories and a unit of
work all share the same statements, and every driver error becomes a victor error in one
place: :func:`translate`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Self, TypeAlias, TypeVar, cast

import asyncpg

from victor_core.backend import (
    BackendError,
    BackendUnavailable,
    ConfigurationError,
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
        self._pool: asyncpg.Pool | None = None
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
            async with pool.acquire(timeout=self.settings.pool_timeout) as proxy:
                try:
                    # The pool hands out a proxy that behaves as the connection it wraps.
                    return await function(cast(Connection, proxy), *args, **kwargs)
                except _BROKEN:
                    # Dropped by the server (or left mid-protocol): the pool must not hand
                    # this connection out again, so the next operation gets a new one.
                    proxy.terminate()
                    raise
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

    async def _open(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        if self._closed:
            raise StoreClosed(f"{self.settings.describe()} was closed; open a new store")
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._pool is None:
                settings = self.settings
                try:
                    self._pool = await asyncpg.create_pool(
                        settings.dsn,
                        min_size=settings.min_size,
                        max_size=settings.max_size,
                        timeout=settings.connect_timeout,
                        server_settings=server_settings(settings),
                        reset=_reset,
                    )
                except (
                    asyncpg.PostgresError,
                    asyncpg.InterfaceError,
                    OSError,
                    TimeoutError,
                ) as exc:
                    raise translate(exc, settings) from exc
        return self._pool


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


async def _reset(connection: Connection) -> None:
    """Make a returned connection ready for the next user, without a round trip if it is.

    asyncpg's default reset runs ``RESET ALL; UNLISTEN *; ...`` on every release, a round
    trip as long as the statement the connection was borrowed for. victor's functions leave
    no session state behind (no ``SET``, ``LISTEN`` or session locks on pooled connections),
    so only a transaction left open by an interrupted operation needs undoing.
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


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
