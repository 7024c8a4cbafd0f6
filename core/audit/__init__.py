"""The audit log: entries written with each change, sequenced into a signed Merkle log.

* :mod:`core.audit.entries` — :func:`append` in the business transaction; leaf content.
* :mod:`core.audit.merkle` — RFC 9162 hashing over stored subtree hashes (pure).
* :mod:`core.audit.notes` — C2SP signed notes (Ed25519) and checkpoints.
* :mod:`core.audit.sequencer` — the one-at-a-time job that extends the tree and signs.
* :mod:`core.audit.proofs` — the latest checkpoint, inclusion and consistency proofs.
* :mod:`core.audit.verify` — the full check behind ``nser audit verify``.
"""

from __future__ import annotations

from core.audit.entries import append, canonical_json, drop_pending, insert_pending

__all__ = ["append", "canonical_json", "drop_pending", "insert_pending"]
