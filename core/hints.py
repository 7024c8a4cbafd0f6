"""Best-effort Redis for hints: values that help but that no answer depends on.

Redis holds only hints in NSER (a USSD session to resume, later rate-limit
counters and caches); menus, status and self-exclusion must work without it.
:class:`Hints` wraps a Redis client so that every call is bounded by the
client's socket timeouts and a failed or timed-out call returns ``None``
instead of raising. After a failure the store is skipped for
``cooldown_seconds``, so while Redis is down or frozen each request pays for
at most one timeout per cool-down, not one per call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

T = TypeVar("T")


class Hints:
    """A Redis client whose failures read as "no hint" (see module docstring).

    ``redis`` should be built with ``socket_timeout`` and
    ``socket_connect_timeout`` (see :func:`core.services.open_services`): a
    frozen server then fails a call after that many seconds instead of hanging.
    ``clock`` is a monotonic clock in seconds (tests may pass their own).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        cooldown_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        """False during the cool-down after a failure."""
        return self._clock() >= self._down_until

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> T | None:
        if not self.available:
            return None
        try:
            return await call()
        except (RedisError, OSError, TimeoutError) as exc:
            # RedisError covers redis-py's ConnectionError and TimeoutError; OSError a
            # socket that fails below it. Logged once per cool-down, with no key (keys
            # hold blind indexes, which are still identifiers).
            log.warning(
                "redis unavailable (%s during %s); skipping hints for %.0f s",
                type(exc).__name__,
                what,
                self._cooldown,
            )
            self._down_until = self._clock() + self._cooldown
            return None

    async def get(self, key: str) -> bytes | None:
        """``GET key``; ``None`` when absent or when Redis is unavailable."""
        return await self._call("get", lambda: self.redis.get(key))

    async def getdel(self, key: str) -> bytes | None:
        """``GETDEL key`` (read and remove at once); ``None`` when absent or unavailable."""
        return await self._call("getdel", lambda: self.redis.getdel(key))

    async def set(self, key: str, value: str | bytes, *, ttl_seconds: int) -> None:
        """``SET key value EX ttl_seconds``; silently skipped when Redis is unavailable."""
        await self._call("set", lambda: self.redis.set(key, value, ex=ttl_seconds))

    async def delete(self, key: str) -> None:
        """``DEL key``; silently skipped when Redis is unavailable."""
        await self._call("delete", lambda: self.redis.delete(key))
