"""C2SP signed notes and checkpoints, checked against the Go reference and the spec's example."""

from __future__ import annotations

import hashlib

import pytest

from core.audit.notes import Checkpoint, NoteError, NoteSigner, NoteVerifier, open_checkpoint
from tests.support.keys import TEST_AUDIT_SIGNING_KEY, TEST_AUDIT_VERIFIER_KEY

# golang.org/x/mod/sumdb/note's documented example (Ed25519 signatures are deterministic).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZS"
    "NXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# https://c2sp.org/signed-note, "Verifier keys", example.
SPEC_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi"
    "2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_signing_reproduces_the_go_reference_byte_for_byte() -> None:
    signer = NoteSigner.parse(GO_SIGNER)
    assert signer.encode() == GO_SIGNER
    assert signer.verifier.encode() == GO_VERIFIER
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert NoteVerifier.parse(GO_VERIFIER).open(GO_NOTE) == GO_TEXT


def test_the_spec_example_verifies() -> None:
    assert NoteVerifier.parse(SPEC_VERIFIER).open(SPEC_NOTE) == "This is an example message.\n"


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (GO_NOTE.replace("problem,", "problem;"), "does not verify"),
        (GO_NOTE.replace("PeterNeumann x08", "PeterNewman x08"), "no signature by PeterNeumann"),
        (GO_TEXT, "not a signed note"),
        (GO_NOTE.replace("— ", "- "), "malformed signature line"),
    ],
)
def test_a_changed_note_is_refused(note: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        NoteVerifier.parse(GO_VERIFIER).open(note)


@pytest.mark.parametrize(
    "vkey",
    [
        GO_VERIFIER.replace("c74f20a3", "c74f20a4"),  # hash does not match
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpjZGVm",  # not Ed25519
        "PeterNeumann+c74f20a3+!!!",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        NoteVerifier.parse(vkey)


def test_checkpoint_text_and_signature() -> None:
    signer = NoteSigner.parse(TEST_AUDIT_SIGNING_KEY)
    assert signer.verifier.encode() == TEST_AUDIT_VERIFIER_KEY
    root = hashlib.sha256(b"").digest()
    checkpoint = Checkpoint(signer.name, 0, root)
    assert checkpoint.text() == (
        "test.nser.invalid/audit\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    )
    note = signer.sign(checkpoint.text())
    assert open_checkpoint(note, NoteVerifier.parse(TEST_AUDIT_VERIFIER_KEY)) == checkpoint
    other = NoteSigner.generate("test.nser.invalid/audit")
    with pytest.raises(NoteError, match="no signature by"):
        open_checkpoint(note, other.verifier)
    foreign = NoteSigner.generate("elsewhere.example/log")
    with pytest.raises(NoteError, match=r"checkpoint of 'test\.nser\.invalid/audit'"):
        open_checkpoint(foreign.sign(checkpoint.text()), foreign.verifier)


@pytest.mark.parametrize(
    "text", ["origin\n", "origin\n01\nAAAA\n", "origin\n-1\nAAAA\n", "origin\n1\nAAAA\n"]
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)
