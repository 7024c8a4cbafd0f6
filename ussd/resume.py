"""Redis hints that let a citizen resume a dropped USSD session.

* ``nser:ussd:resume:<msisdn blind index>``: the path of the last session of
  that caller that stopped mid-flow, its session id and language; expires after
  ``NSER_USSD_RESUME_SECONDS``.
* ``nser:ussd:offer:<sessionId>:<msisdn blind index>``: that a new session was
  offered to resume, and what; kept for the session's life so every replay of
  the new session sees the same first screen. Keyed on the session *and* the
  caller, so a gateway that reuses a session id for another phone never shows
  that phone the first caller's offer.

Only blind indexes appear in keys; no MSISDN is ever written to Redis. These
are hints (:class:`core.hints.Hints`): with Redis down or frozen, resuming is
simply not offered and every menu still works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.hints import Hints
from ussd.menu import State

_OFFER_SECONDS = 600  # longer than any gateway session (about 3 minutes at most)


@dataclass(frozen=True)
class Offer:
    """A resume offer: the dropped session's path and language."""

    path: tuple[str, ...]
    lang: str


class ResumeStore:
    """Reads and writes the resume hints described in the module docstring."""

    def __init__(self, hints: Hints, *, resume_seconds: int) -> None:
        self._hints = hints
        self._resume_seconds = resume_seconds

    @staticmethod
    def _resume_key(bidx: str) -> str:
        return f"nser:ussd:resume:{bidx}"

    @staticmethod
    def _offer_key(session_id: str, bidx: str) -> str:
        return f"nser:ussd:offer:{session_id}:{bidx}"

    async def offer_for(self, *, session_id: str, bidx: str, first_request: bool) -> Offer | None:
        """The resume offer this session shows first, if any (one Redis read).

        On the session's first request (empty ``text``) a fresh offer is made
        when another session of this caller dropped mid-flow recently; later
        requests read back what the first one decided.
        """
        if not first_request:
            stored = await self._hints.get(self._offer_key(session_id, bidx))
            if stored is None:
                return None
            data = json.loads(stored)
            return Offer(path=tuple(data["path"]), lang=data["lang"])
        if self._resume_seconds == 0:
            return None
        dropped = await self._hints.get(self._resume_key(bidx))
        if dropped is None:
            return None
        data = json.loads(dropped)
        if data["session"] == session_id:
            return None
        offer = Offer(path=tuple(data["path"]), lang=data["lang"])
        await self._hints.set(
            self._offer_key(session_id, bidx),
            json.dumps({"path": list(offer.path), "lang": offer.lang}),
            ttl_seconds=_OFFER_SECONDS,
        )
        return offer

    async def remember(self, *, session_id: str, bidx: str, state: State) -> None:
        """After a continuing answer: keep a mid-flow state for resuming, or drop any record."""
        if state.resumable and state.lang is not None and self._resume_seconds:
            record = {"session": session_id, "path": list(state.path), "lang": state.lang}
            await self._hints.set(
                self._resume_key(bidx), json.dumps(record), ttl_seconds=self._resume_seconds
            )
        else:
            await self._hints.delete(self._resume_key(bidx))

    async def finish(self, *, bidx: str) -> None:
        """After a final answer: nothing is left to resume."""
        await self._hints.delete(self._resume_key(bidx))
