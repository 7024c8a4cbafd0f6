"""A witness of the audit log: keep every checkpoint seen, check each new one against the last.

An operator (``nser operator-sim`` plays one) fetches ``GET /v1/audit/checkpoint``
now and then. A witness that keeps the checkpoints it has seen outside NSER
turns the log's signatures into evidence: once it holds checkpoint *(n, root)*,
NSER cannot rewrite, drop or reorder any of the first *n* entries without
either signing a checkpoint that is not consistent with it (caught here, with
the proof NSER served) or never publishing a larger one again.

For each new signed note, :meth:`Witness.observe` checks, in order:

1. the note is signed by the log's key, for the log's own origin
   (:func:`core.audit.notes.open_checkpoint`);
2. a tree no smaller than the last kept one (a smaller one means truncation);
3. the same size → the same root; a larger size → the RFC 9162 §2.1.4.2
   consistency proof from the last kept tree to it verifies
   (:func:`verify_consistency`).

Only a checkpoint that passes is kept (one file ``<size>.note`` per tree size,
the signed note as served), so the last kept one is always trustworthy and a
witness restarted later picks up where it stopped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.audit.notes import Checkpoint, NoteError, NoteVerifier, open_checkpoint


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """Whether ``proof`` shows tree ``(second, second_root)`` extends ``(first, first_root)``.

    The verification algorithm of RFC 9162 §2.1.4.2 over 32-byte SHA-256 node
    hashes; ``first``/``second`` are tree sizes in leaves. Never raises: a
    malformed proof (wrong length, sizes out of order) is simply ``False``.
    """
    if first == second:
        return first_root == second_root and not proof
    if first == 0:
        return not proof  # every tree extends the empty one
    if first > second or not proof:
        return False
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old = new = path[0]
    for hash_ in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old, new = _node(hash_, old), _node(hash_, new)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new = _node(new, hash_)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and old == first_root and new == second_root


class WitnessAlarm(NoteError):
    """The log served something a witness must not accept; the message says what."""


@dataclass(frozen=True)
class Observed:
    """What :meth:`Witness.observe` made of a note: the checkpoint, and the one kept before."""

    checkpoint: Checkpoint
    previous: Checkpoint | None

    @property
    def new(self) -> bool:
        """True when the tree grew (or this is the first checkpoint kept)."""
        return self.previous is None or self.checkpoint.size > self.previous.size


class Witness:
    """Checkpoints kept in ``directory`` (created if missing), checked with ``verifier``."""

    def __init__(self, directory: Path, verifier: NoteVerifier) -> None:
        self.directory = directory
        self.verifier = verifier
        directory.mkdir(parents=True, exist_ok=True)

    def last(self) -> Checkpoint | None:
        """The largest checkpoint kept so far, re-verified from its file; ``None`` at first.

        Raises:
            WitnessAlarm: a kept file no longer verifies (edited on disk, or another key).
        """
        sizes = sorted(int(p.stem) for p in self.directory.glob("*.note") if p.stem.isdigit())
        if not sizes:
            return None
        path = self.directory / f"{sizes[-1]}.note"
        try:
            return open_checkpoint(path.read_text(), self.verifier)
        except NoteError as exc:
            raise WitnessAlarm(f"kept checkpoint {path.name} does not verify: {exc}") from exc

    def needs_proof(self, note: str) -> tuple[int, int] | None:
        """The ``(first, second)`` consistency proof :meth:`observe` will need for ``note``.

        ``None`` when no proof is needed (first checkpoint, or same size).

        Raises:
            WitnessAlarm: the note is not a checkpoint signed by the log, or it is smaller.
        """
        checkpoint, previous = self._open(note), self.last()
        if previous is None or checkpoint.size == previous.size:
            return None
        self._not_smaller(checkpoint, previous)
        return previous.size, checkpoint.size

    def observe(self, note: str, proof: list[bytes] | None = None) -> Observed:
        """Check ``note`` against the last kept checkpoint and keep it if it passes.

        ``proof`` is the consistency proof for :meth:`needs_proof`'s sizes (the
        hashes of ``GET /v1/audit/proofs/consistency``, base64-decoded).

        Raises:
            WitnessAlarm: bad signature or origin, a smaller tree, the same size
                with another root, or a proof that does not verify.
        """
        checkpoint, previous = self._open(note), self.last()
        if previous is not None:
            self._not_smaller(checkpoint, previous)
            if checkpoint.size == previous.size and checkpoint.root != previous.root:
                raise WitnessAlarm(
                    f"checkpoint {checkpoint.size} has another root than the one kept: "
                    "the log was rewritten"
                )
            consistent = verify_consistency(
                previous.size, checkpoint.size, previous.root, checkpoint.root, proof or []
            )
            if not consistent:
                raise WitnessAlarm(
                    f"checkpoint {checkpoint.size} is not consistent with {previous.size}: "
                    "entries the earlier checkpoint covered were changed"
                )
        (self.directory / f"{checkpoint.size}.note").write_text(note)
        return Observed(checkpoint, previous)

    def _open(self, note: str) -> Checkpoint:
        try:
            return open_checkpoint(note, self.verifier)
        except NoteError as exc:
            raise WitnessAlarm(f"checkpoint refused: {exc}") from exc

    @staticmethod
    def _not_smaller(checkpoint: Checkpoint, previous: Checkpoint) -> None:
        if checkpoint.size < previous.size:
            raise WitnessAlarm(
                f"checkpoint {checkpoint.size} is smaller than {previous.size} already seen: "
                "the log was truncated"
            )
