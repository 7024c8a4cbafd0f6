"""Who is calling the operator API: API keys held in process, with per-key rate limits.

The lookup is the hot path, so authenticating must not cost a round trip. Every
unrevoked key's hash, with its operator's status and allowlist, is loaded into
memory and re-read every ``refresh_every`` seconds (default 1 s): a revoked key
or a suspended operator stops working within about a second, and a new key
starts working within about a second.

Rate limits are token buckets per key and per process (``rate`` requests per
second, bursts up to twice that): with N web processes a key may reach N times
the rate, which the settings' documentation says.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.models import ApiKey, KeyMode, Operator, OperatorStatus
from core.operators import hash_key, key_mode

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
KEY = ApiKey.__table__  # type: ignore[attr-defined]
OPERATOR = Operator.__table__  # type: ignore[attr-defined]

_KEYS = (
    select(
        KEY.c.id,
        KEY.c.key_hash,
        KEY.c.mode,
        KEY.c.operator_id,
        OPERATOR.c.status,
        OPERATOR.c.allow_cidrs,
    )
    .join_from(KEY, OPERATOR, OPERATOR.c.id == KEY.c.operator_id)
    .where(KEY.c.revoked_at.is_(None))
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind one API key: operator, key, mode, standing and allowlist."""

    operator_id: int
    key_id: int
    mode: KeyMode
    active: bool
    networks: tuple[Network, ...]

    def allows(self, address: str | None) -> bool:
        """True when the allowlist is empty or holds ``address`` (an IP string)."""
        if not self.networks:
            return True
        if address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float = field(default_factory=time.monotonic)


class KeyCache:
    """Every unrevoked API key, by hash, refreshed in the background (see module docstring)."""

    def __init__(self, engine: AsyncEngine, *, rate: float, refresh_every: float = 1.0) -> None:
        self._engine = engine
        self.rate = rate
        self.refresh_every = refresh_every
        self._by_hash: dict[str, Principal] = {}
        self._buckets: dict[int, _Bucket] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Load the keys and keep them fresh (no-op when running).

        Raises:
            sqlalchemy.exc.SQLAlchemyError, OSError, TimeoutError: the first load failed.
        """
        async with self._lock:
            if self._task is not None and not self._task.done():
                return
            await self.reload()
            self._task = asyncio.create_task(self._run(), name="api-keys")

    async def close(self) -> None:
        """Stop refreshing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def reload(self) -> None:
        """Read every unrevoked key with its operator's status and allowlist."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_KEYS)).all()
        self._by_hash = {
            row.key_hash: Principal(
                operator_id=row.operator_id,
                key_id=row.id,
                mode=KeyMode(row.mode),
                active=row.status == OperatorStatus.ACTIVE.value,
                networks=tuple(ipaddress.ip_network(c, strict=False) for c in row.allow_cidrs),
            )
            for row in rows
        }

    def authenticate(self, key: str) -> Principal | None:
        """The principal of ``key``, or ``None`` for an unknown, malformed or revoked key."""
        if key_mode(key) is None or len(key) > 128:
            return None
        return self._by_hash.get(hash_key(key))

    def take(self, principal: Principal, cost: int = 1) -> float:
        """Spend ``cost`` requests from the key's bucket: 0.0 if allowed, else seconds to wait."""
        now = time.monotonic()
        capacity = 2 * self.rate
        bucket = self._buckets.get(principal.key_id)
        if bucket is None:
            bucket = self._buckets[principal.key_id] = _Bucket(tokens=capacity, stamp=now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.rate

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_every)
            try:
                await self.reload()
            except Exception:  # keep the last good keys; try again next tick
                log.warning("API key refresh failed", exc_info=True)
