"""Redis hints that let a citizen resume a dropped USSD session.

* ``nser:ussd:resume:<msisdn blind index>``: the path of the caller's session
  that stopped mid-flow, its session id and language; expires after
  ``NSER_USSD_RESUME_SECONDS``. The next session's first request takes it
  (``GETDEL``) and turns it into an offer.
* ``nser:ussd:offer:<sessionId>:<msisdn blind index>``: that a session was
  offered to resume, and what; kept for the session's life so every replay of
  that session sees the same first screen. Keyed on the session *and* the
  caller, so a gateway that reuses a session id for another phone never shows
  that phone the first caller's offer.

Only blind indexes appear in keys; no MSISDN is ever written to Redis. The
values are sealed with the key ring (AES-256-GCM, field ``ussd.resume``): a
path holds the citizen's inputs, and on the way through a screening those are
health answers. These are hints (:class:`core.hints.Hints`): with Redis down or frozen, resuming is
simply not offered and every menu still works.

Cost per menu step: a session's offer is decided by its first request and
never changes, so once read it is remembered in process (:class:`OfferMemo`);
the resume record is written only when the resumable path changes. A typical
step therefore makes no Redis call at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.crypto import KeyRing
from core.errors import IntegrityFailure
from core.hints import Hints
from ussd.state import State

_OFFER_SECONDS = 600  # longer than any gateway session (about 3 minutes at most)
_FIELD = "ussd.resume"


@dataclass(frozen=True)
class Offer:
    """A resume offer: the dropped session's path and language."""

    path: tuple[str, ...]
    lang: str


class OfferMemo:
    """What each recent (session, caller) was offered, in process; at most ``size`` entries.

    Safe to remember because an offer is decided once, on the session's first
    request, before the gateway sends the next one. The oldest entries go first.
    """

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._offers: dict[tuple[str, str], Offer | None] = {}

    def get(self, key: tuple[str, str]) -> tuple[bool, Offer | None]:
        """``(known, offer)`` for ``key``."""
        if key in self._offers:
            return True, self._offers[key]
        return False, None

    def put(self, key: tuple[str, str], offer: Offer | None) -> None:
        """Remember ``offer`` (``None``: none was made) for ``key``."""
        if len(self._offers) >= self._size:
            del self._offers[next(iter(self._offers))]
        self._offers[key] = offer


class ResumeStore:
    """Reads and writes the resume hints described in the module docstring."""

    def __init__(
        self, hints: Hints, *, keyring: KeyRing, resume_seconds: int, memo: OfferMemo
    ) -> None:
        self._hints = hints
        self._keyring = keyring
        self._resume_seconds = resume_seconds
        self._memo = memo

    def _seal(self, record: Mapping[str, object]) -> bytes:
        return self._keyring.seal(json.dumps(record), field=_FIELD)

    def _open(self, stored: bytes | None) -> dict[str, Any] | None:
        """The record in ``stored``; ``None`` if absent or unreadable (e.g. a retired key's)."""
        if stored is None:
            return None
        try:
            record: dict[str, Any] = json.loads(self._keyring.open(stored, field=_FIELD))
        except (IntegrityFailure, ValueError):
            return None
        return record

    @staticmethod
    def _resume_key(bidx: str) -> str:
        return f"nser:ussd:resume:{bidx}"

    @staticmethod
    def _offer_key(session_id: str, bidx: str) -> str:
        return f"nser:ussd:offer:{session_id}:{bidx}"

    async def offer_for(self, *, session_id: str, bidx: str, first_request: bool) -> Offer | None:
        """The resume offer this session shows first, if any.

        On the session's first request (empty ``text``) an offer is made when
        another session of this caller dropped mid-flow recently; later requests
        read back what the first one decided (from the memo when this process
        already knows).
        """
        key = (session_id, bidx)
        known, offer = self._memo.get(key)
        if known:
            return offer
        if not first_request:
            stored = self._open(await self._hints.get(self._offer_key(session_id, bidx)))
            offer = Offer(path=tuple(stored["path"]), lang=stored["lang"]) if stored else None
            if self._hints.available:  # a Redis failure is not "no offer"
                self._memo.put(key, offer)
            return offer
        dropped = await self._hints.getdel(self._resume_key(bidx)) if self._resume_seconds else None
        data = self._open(dropped)
        if data is None or data["session"] == session_id:
            self._memo.put(key, None)
            return None
        offer = Offer(path=tuple(data["path"]), lang=data["lang"])
        sealed = self._seal({"path": list(offer.path), "lang": offer.lang})
        await self._hints.set(self._offer_key(session_id, bidx), sealed, ttl_seconds=_OFFER_SECONDS)
        self._memo.put(key, offer)
        return offer

    async def record(
        self, *, session_id: str, bidx: str, before: State, after: State, final: bool
    ) -> None:
        """Keep the resume hint in step with the session after an answer.

        ``before`` is the state one input earlier; the hint is written only
        when the resumable path changed: set while mid-flow, removed once the
        session is no longer resumable or has ended.
        """
        resumable = after.resumable and not final and after.lang is not None
        if resumable and self._resume_seconds:
            if before.resumable and before.path == after.path:
                return
            record = {"session": session_id, "path": list(after.path), "lang": after.lang}
            await self._hints.set(
                self._resume_key(bidx), self._seal(record), ttl_seconds=self._resume_seconds
            )
        elif before.resumable:
            await self._hints.delete(self._resume_key(bidx))
