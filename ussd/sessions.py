"""Redis records that let a citizen resume a dropped USSD session.

* ``nser:ussd:resume:<msisdn blind index>``: the path of the last session that
  stopped mid-flow, its session id and language; expires after
  ``NSER_USSD_RESUME_SECONDS``.
* ``nser:ussd:offer:<sessionId>``: that a new session was offered to resume,
  and what; kept for the session's life so every replay of the new session
  sees the same first screen.

Only blind indexes appear in keys; no MSISDN is ever written to Redis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from redis.asyncio import Redis

from ussd.menu import State

_OFFER_SECONDS = 600  # longer than any gateway session (about 3 minutes at most)


@dataclass(frozen=True)
class Offer:
    """A resume offer: the dropped session's path and language."""

    path: tuple[str, ...]
    lang: str


class ResumeStore:
    """Reads and writes the resume records of :mod:`ussd.sessions` (docstring above)."""

    def __init__(self, redis: Redis, *, resume_seconds: int) -> None:
        self._redis = redis
        self._resume_seconds = resume_seconds

    @staticmethod
    def _resume_key(bidx: str) -> str:
        return f"nser:ussd:resume:{bidx}"

    @staticmethod
    def _offer_key(session_id: str) -> str:
        return f"nser:ussd:offer:{session_id}"

    async def offer_for(self, *, session_id: str, bidx: str, first_request: bool) -> Offer | None:
        """The resume offer this session shows first, if any.

        On the session's first request (empty ``text``) a fresh offer is made
        when another session of this MSISDN dropped mid-flow recently; later
        requests read back what the first one decided.
        """
        stored = await self._redis.get(self._offer_key(session_id))
        if stored is not None:
            data = json.loads(stored)
            return Offer(path=tuple(data["path"]), lang=data["lang"])
        if not first_request or self._resume_seconds == 0:
            return None
        dropped = await self._redis.get(self._resume_key(bidx))
        if dropped is None:
            return None
        data = json.loads(dropped)
        if data["session"] == session_id:
            return None
        offer = Offer(path=tuple(data["path"]), lang=data["lang"])
        await self._redis.set(
            self._offer_key(session_id),
            json.dumps({"path": list(offer.path), "lang": offer.lang}),
            ex=_OFFER_SECONDS,
        )
        return offer

    async def remember(self, *, session_id: str, bidx: str, state: State) -> None:
        """After a ``CON`` answer: keep a mid-flow state for resuming, or drop any record."""
        if state.resumable and state.lang is not None and self._resume_seconds:
            record = {"session": session_id, "path": list(state.path), "lang": state.lang}
            await self._redis.set(
                self._resume_key(bidx), json.dumps(record), ex=self._resume_seconds
            )
        else:
            await self._redis.delete(self._resume_key(bidx))

    async def finish(self, *, bidx: str) -> None:
        """After an ``END`` answer: nothing is left to resume."""
        await self._redis.delete(self._resume_key(bidx))
