"""The long-lived resources a process needs, built once from settings.

A web process and an ARQ worker each open one :class:`Services` at start-up and
close it at shutdown; nothing is created at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from core.audit.notes import NoteSigner
from core.crypto import KeyRing
from core.db import SessionFactory, create_engine, session_factory
from core.desk import OperatorDesk
from core.errors import ConfigurationError
from core.hints import Hints
from core.i18n import Catalogues
from core.keys import load_audit_signer, load_keyring
from core.queue import QUEUE
from core.settings import Settings

#: Where the composition root puts the process's :class:`Services` in each request's ASGI scope.
SCOPE_KEY = "nser.services"


def services_in(scope: Mapping[str, Any]) -> Services:
    """The :class:`Services` of the process serving this request (one accessor for every channel).

    Read from the ASGI scope, which a mounted sub-app shares with its parent
    (``request.app.state`` would be the sub-app's own).

    Raises:
        ConfigurationError: the app was not built by ``nser.web.create_app``.
    """
    services = scope.get(SCOPE_KEY)
    if not isinstance(services, Services):
        raise ConfigurationError("no services in the request scope (use nser.web.create_app)")
    return services


def utc_now() -> datetime:
    """The default clock: now, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass
class Services:
    """Settings, keys, database, Redis, catalogues and the clock, shared by handlers and jobs.

    ``audit_signer`` signs the audit log's checkpoints (:mod:`core.audit.sequencer`).

    ``redis`` raises on failure (jobs, health checks); ``queue`` is the same
    connection pool as ARQ's client (enqueue with :func:`core.queue.commit`);
    ``hints`` is the same server seen as best-effort (:class:`core.hints.Hints`)
    for anything a citizen's answer must not wait on.
    """

    settings: Settings
    keyring: KeyRing
    audit_signer: NoteSigner
    engine: AsyncEngine
    db: SessionFactory
    redis: Redis
    queue: ArqRedis
    hints: Hints
    catalogues: Catalogues
    clock: Callable[[], datetime] = field(default=utc_now)
    _desk: OperatorDesk | None = field(default=None, init=False, repr=False)
    _desk_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def operator_desk(self) -> OperatorDesk:
        """The operator API's in-process state, started on first use (see :mod:`core.desk`).

        Raises:
            sqlalchemy.exc.SQLAlchemyError, OSError, TimeoutError: the first load failed
                (the next call tries again).
        """
        if self._desk is not None:
            return self._desk
        async with self._desk_lock:
            if self._desk is None:
                desk = OperatorDesk.build(
                    self.settings, engine=self.engine, db=self.db, redis=self.redis
                )
                try:
                    await desk.start()
                except BaseException:
                    await desk.close()
                    raise
                self._desk = desk
        return self._desk

    async def close(self) -> None:
        """Stop the operator desk, then release the database pool and the Redis connections."""
        if self._desk is not None:
            await self._desk.close()
            self._desk = None
        await self.redis.aclose()
        await self.engine.dispose()


def open_services(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now, pool_size: int = 10
) -> Services:
    """Build :class:`Services` for ``settings`` whose URLs are set (see :mod:`core.embedded`).

    Raises:
        ConfigurationError: a URL is unset, or key material is missing/malformed.
    """
    if settings.database_url is None or settings.redis_url is None:
        raise ConfigurationError("DATABASE_URL and REDIS_URL must be resolved before opening")
    engine = create_engine(
        settings.database_url, pool_size=pool_size, timeout=settings.database_timeout
    )
    redis = Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
    )
    return Services(
        settings=settings,
        keyring=load_keyring(settings),
        audit_signer=load_audit_signer(settings),
        engine=engine,
        db=session_factory(engine),
        redis=redis,
        queue=ArqRedis(connection_pool=redis.connection_pool, default_queue_name=QUEUE),
        hints=Hints(redis),
        catalogues=Catalogues(),
        clock=clock,
    )
