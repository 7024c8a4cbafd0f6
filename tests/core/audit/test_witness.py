"""A witness keeps the checkpoints the log publishes and refuses any that rewrite the past."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.audit import proofs
from core.audit.notes import Checkpoint, NoteSigner, NoteVerifier
from core.audit.witness import Witness, WitnessAlarm
from core.services import Services
from tests.support.audit import sequence, write_entries
from tests.support.clock import Clock
from tests.support.keys import TEST_AUDIT_VERIFIER_KEY


async def published(services: Services, clock: Clock, entries: int) -> str:
    """Write ``entries`` more entries, sequence them and return the new signed checkpoint."""
    await write_entries(services, entries)
    clock.advance(seconds=10)
    await sequence(services)
    async with services.db() as db:
        latest = await proofs.latest_checkpoint(db)
    assert latest is not None
    return latest.note


async def proof_for(services: Services, witness: Witness, note: str) -> list[bytes] | None:
    """The consistency proof the witness asks for, as the log serves it."""
    sizes = witness.needs_proof(note)
    if sizes is None:
        return None
    async with services.db() as db:
        return await proofs.consistency_proof(db, first=sizes[0], second=sizes[1])


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(tmp_path / "kept", NoteVerifier.parse(TEST_AUDIT_VERIFIER_KEY))


async def test_a_growing_log_is_kept_checkpoint_by_checkpoint(
    services: Services, clock: Clock, witness: Witness
) -> None:
    assert witness.last() is None
    first = await published(services, clock, 5)
    kept = witness.observe(first, await proof_for(services, witness, first))
    assert (kept.checkpoint.size, kept.previous, kept.new) == (5, None, True)
    again = witness.observe(first, await proof_for(services, witness, first))
    assert not again.new  # the same checkpoint twice changes nothing
    second = await published(services, clock, 8)
    grown = witness.observe(second, await proof_for(services, witness, second))
    assert (grown.checkpoint.size, grown.previous, grown.new) == (13, kept.checkpoint, True)
    assert sorted(p.name for p in witness.directory.iterdir()) == ["13.note", "5.note"]
    # A witness restarted later picks up from what it kept.
    restarted = Witness(witness.directory, witness.verifier)
    assert restarted.last() == grown.checkpoint


async def test_a_rewritten_history_a_truncation_and_a_forgery_raise_alarms(
    services: Services, clock: Clock, witness: Witness
) -> None:
    signer: NoteSigner = services.audit_signer
    first = await published(services, clock, 6)
    witness.observe(first, await proof_for(services, witness, first))
    kept = witness.last()
    assert kept is not None
    second = await published(services, clock, 3)
    proof = await proof_for(services, witness, second)
    assert proof is not None

    # An insider with the signing key signs a tree of the same size with another root…
    other_root = Checkpoint(kept.origin, kept.size, bytes(32))
    with pytest.raises(WitnessAlarm, match="another root"):
        witness.observe(signer.sign(other_root.text()))
    # …or a larger tree that does not extend the kept one (the proof cannot verify).
    rewritten = Checkpoint(kept.origin, 9, bytes(range(32)))
    with pytest.raises(WitnessAlarm, match="not consistent with 6"):
        witness.observe(signer.sign(rewritten.text()), proof)
    # …or serves an older, smaller tree after dropping entries.
    shorter = Checkpoint(kept.origin, 4, bytes(32))
    with pytest.raises(WitnessAlarm, match="truncated"):
        witness.needs_proof(signer.sign(shorter.text()))
    # A note signed by anybody else is refused before any proof is asked for.
    stranger = NoteSigner.generate(kept.origin)
    with pytest.raises(WitnessAlarm, match="refused"):
        witness.needs_proof(stranger.sign(Checkpoint(kept.origin, 9, bytes(32)).text()))
    # A tampered proof for the genuine checkpoint fails too, and nothing bad was kept.
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    with pytest.raises(WitnessAlarm, match="not consistent"):
        witness.observe(second, flipped)
    assert witness.last() == kept
    assert witness.observe(second, proof).checkpoint.size == 9


async def test_a_kept_checkpoint_edited_on_disk_is_an_alarm(
    services: Services, clock: Clock, witness: Witness
) -> None:
    note = await published(services, clock, 3)
    witness.observe(note)
    path = witness.directory / "3.note"
    path.write_text(note.replace("\n3\n", "\n2\n", 1))
    with pytest.raises(WitnessAlarm, match=r"3\.note does not verify"):
        witness.last()
