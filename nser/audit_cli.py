"""``nser audit checkpoint | verify [--against FILE] | public-key``: the audit log from a shell.

Scripts depend on these forms and exit codes:

* ``checkpoint`` prints the latest signed checkpoint (the note text, as
  served to operators) and exits 0; 1 with a message when none is signed yet.
* ``verify`` rebuilds the log (:mod:`core.audit.verify`) and prints
  ``audit log OK: …`` (exit 0) or ``audit log MISMATCH: <what>`` (exit 1);
  ``--against FILE`` also proves the log extends the checkpoint saved in FILE.
  On a large log it reports progress on stderr every tenth.
* ``public-key`` prints the note verifier key (C2SP vkey) of the signing key.

Only PostgreSQL is used (no Redis); verifying needs no secret, only the
public key derived from the configured signing key.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.audit import proofs
from core.audit.notes import NoteVerifier
from core.audit.verify import Report, verify
from core.db import create_engine, session_factory
from core.keys import load_audit_signer
from core.settings import Settings

#: A log at least this long reports progress while it is verified.
PROGRESS_FROM = 100_000
#: Seconds each statement of a verification may take (a full-log query is slower than a request).
VERIFY_TIMEOUT = 120.0


def public_key(settings: Settings) -> int:
    """Print the verifier key; needs only the signing key's settings."""
    print(load_audit_signer(settings).verifier.encode())
    return 0


def _progress(done: int, total: int, state: list[int]) -> None:
    if total < PROGRESS_FROM:
        return
    tenth = done * 10 // total
    if tenth > state[0]:
        state[0] = tenth
        print(f"verified {done} of {total} entries", file=sys.stderr, flush=True)


async def _verify(
    settings: Settings, verifier: NoteVerifier, against: Path | None, note: str | None
) -> Report:
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1, timeout=VERIFY_TIMEOUT)
    state = [0]
    try:
        async with engine.connect() as conn:
            snapshot = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with snapshot.begin():
                return await verify(
                    snapshot,
                    verifier=verifier,
                    against=note,
                    against_label=f"the checkpoint in {against}",
                    progress=lambda done, total: _progress(done, total, state),
                )
    finally:
        await engine.dispose()


def _print_report(report: Report, against: Path | None) -> int:
    if not report.ok:
        print(f"audit log MISMATCH: {report.problem}")
        return 1
    line = f"audit log OK: {report.leaves} entries, {report.checkpoints} checkpoints verified"
    if report.waiting:
        line += f"; {report.waiting} entries waiting to be sequenced"
    if against is not None:
        line += f"; extends the checkpoint in {against}"
    print(line)
    return 0


async def _checkpoint(settings: Settings) -> int:
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1, timeout=settings.database_timeout)
    try:
        async with session_factory(engine)() as db:
            latest = await proofs.latest_checkpoint(db)
    finally:
        await engine.dispose()
    if latest is None:
        print("nser: no audit checkpoint signed yet (the worker signs the first)", file=sys.stderr)
        return 1
    sys.stdout.write(latest.note)
    return 0


def run_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``nser audit <action>``; returns the exit code.

    Raises:
        ConfigurationError: the signing key is missing or malformed.
    """
    if args.action == "public-key":
        return public_key(settings)
    if args.action == "checkpoint":
        return asyncio.run(_checkpoint(settings))
    verifier = load_audit_signer(settings).verifier
    against = Path(args.against) if args.against else None
    if against is not None and not against.is_file():
        print(f"nser: no checkpoint file {against}", file=sys.stderr)
        return 2
    note = against.read_text() if against is not None else None
    return _print_report(asyncio.run(_verify(settings, verifier, against, note)), against)
