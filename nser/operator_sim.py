"""``nser operator-sim``: a local betting operator for demos and tests.

It does what an integrating operator does: subscribes its customers through
the operator API (``PUT /v1/subscriptions/{customer_ref}`` with
``{"msisdn": …}``, or ``{"national_id": …}`` for ``REF=id:NUMBER``; the answer
carries the customer's current status), then serves a webhook receiver
(:mod:`nser.receiver`) that verifies every delivery with the official
``standardwebhooks`` package and prints one line per POST, flushed at once::

    operator-sim: receiving webhooks at http://127.0.0.1:9000/webhooks
    subscribed C-1: not excluded
    operator-sim: ready
    verified exclusion.created webhook-id=msg_… customer_ref=C-1 bst=BST-… until=… event_id=1
    REJECTED webhook-id=msg_… (No matching signature found)

``--exit-after N`` stops after N verified, non-replayed deliveries (exit 0);
otherwise it runs until Ctrl-C or SIGTERM. The webhook URL it prints is the
one to give the operator (``nser operator add … --webhook-url URL``).

With ``--log-key VKEY`` (the log's verifier key, ``nser audit public-key``) it
is also a witness of the audit log (:mod:`core.audit.witness`): every
``--witness-every`` seconds it fetches ``GET /v1/audit/checkpoint``, checks the
signature and, with ``GET /v1/audit/proofs/consistency``, that the new tree
extends the last one it kept in ``--witness-dir``, and keeps it::

    witness: kept checkpoint 12
    witness: checkpoint 20 consistent with 12, kept
    WITNESS ALARM: checkpoint 20 is not consistent with 12: entries … were changed

An alarm is printed once per distinct alarm and makes the exit code 3.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from core.audit.notes import NoteError, NoteVerifier
from core.audit.witness import Witness, WitnessAlarm
from nser.receiver import Received, WebhookReceiver, listening_socket, serving

API_TIMEOUT = 10.0
#: Exit code when the witness raised an alarm.
ALARM_EXIT = 3


@dataclass(frozen=True)
class SimOptions:
    """What ``nser operator-sim`` was asked to do (see ``nser operator-sim --help``)."""

    api: str
    key: str
    secret: str
    host: str = "127.0.0.1"
    port: int = 9000
    path: str = "/webhooks"
    subscribe: list[str] = field(default_factory=list)
    exit_after: int | None = None
    log_key: str | None = None
    witness_dir: Path = Path("operator-sim-witness")
    witness_every: float = 10.0


def customer(spec: str) -> tuple[str, dict[str, str]]:
    """``REF=MSISDN`` or ``REF=id:NUMBER`` as the customer ref and the PUT body.

    Raises:
        ValueError: no ``=``, or an empty side.
    """
    ref, sep, value = spec.partition("=")
    if not sep or not ref or not value:
        raise ValueError(f"expected REF=MSISDN or REF=id:NUMBER, got {spec!r}")
    if value.startswith("id:"):
        return ref, {"national_id": value.removeprefix("id:")}
    return ref, {"msisdn": value}


def _standing(answer: dict[str, object]) -> str:
    if not answer.get("excluded"):
        return "not excluded"
    return f"EXCLUDED until {answer.get('until') or 'permanent'} ({answer.get('bst')})"


async def subscribe_all(http: httpx.AsyncClient, specs: list[str]) -> list[str]:
    """Subscribe every ``REF=…`` customer; one line each.

    Raises:
        RuntimeError: the API refused one (the line says why) or could not be reached.
    """
    lines = []
    for spec in specs:
        ref, body = customer(spec)
        try:
            response = await http.put(f"/v1/subscriptions/{quote(ref, safe='')}", json=body)
        except httpx.HTTPError as exc:
            raise RuntimeError(f"operator API unreachable: {type(exc).__name__}") from exc
        if not response.is_success:
            detail = response.text[:200].replace("\n", " ")
            raise RuntimeError(f"subscription {ref} refused: HTTP {response.status_code} {detail}")
        lines.append(f"subscribed {ref}: {_standing(response.json())}")
    return lines


async def witness_once(http: httpx.AsyncClient, witness: Witness) -> str | None:
    """Fetch the latest checkpoint, check it and keep it; the line to print, if any.

    ``None`` when there is nothing new (no checkpoint yet, or the same one).
    Never raises: an unreachable API or a refused checkpoint is a line.
    """
    try:
        response = await http.get("/v1/audit/checkpoint")
        if response.status_code == 404:
            return None
        if not response.is_success:
            return f"witness: checkpoint unavailable: HTTP {response.status_code}"
        note = response.text
        proof = None
        sizes = witness.needs_proof(note)
        if sizes is not None:
            params = {"first": sizes[0], "second": sizes[1]}
            answer = await http.get("/v1/audit/proofs/consistency", params=params)
            if not answer.is_success:
                return f"witness: consistency proof unavailable: HTTP {answer.status_code}"
            proof = [base64.b64decode(h, validate=True) for h in answer.json()["proof"]]
        observed = witness.observe(note, proof)
    except httpx.HTTPError as exc:
        return f"witness: operator API unreachable: {type(exc).__name__}"
    except (binascii.Error, KeyError, TypeError, ValueError):
        return "WITNESS ALARM: the consistency proof is malformed"
    except WitnessAlarm as exc:
        return f"WITNESS ALARM: {exc}"
    if not observed.new:
        return None
    size = observed.checkpoint.size
    if observed.previous is None:
        return f"witness: kept checkpoint {size}"
    return f"witness: checkpoint {size} consistent with {observed.previous.size}, kept"


async def _witness(
    options: SimOptions, witness: Witness, write: Callable[[str], None], alarms: list[str]
) -> None:
    auth = {"authorization": f"Bearer {options.key}"}
    async with httpx.AsyncClient(
        base_url=options.api.rstrip("/"), headers=auth, timeout=API_TIMEOUT
    ) as http:
        said = None
        while True:
            line = await witness_once(http, witness)
            if line is not None and line != said:
                write(line)
                said = line
                if line.startswith("WITNESS ALARM"):
                    alarms.append(line)
            await asyncio.sleep(options.witness_every)


@contextlib.asynccontextmanager
async def _watching(
    options: SimOptions, witness: Witness | None, write: Callable[[str], None], alarms: list[str]
) -> AsyncIterator[None]:
    """The witness loop in the background for the block's length (nothing without a witness)."""
    if witness is None:
        yield
        return
    task = asyncio.create_task(_witness(options, witness, write, alarms))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_sim(options: SimOptions, *, write: Callable[[str], None]) -> int:
    """Run until ``exit_after`` deliveries, SIGINT or SIGTERM; returns the exit code.

    0, or 1 when it could not start (port taken, subscription refused, bad
    ``--log-key``), or :data:`ALARM_EXIT` when the witness raised an alarm.
    """
    stop = asyncio.Event()
    counted = 0
    witness = None
    if options.log_key is not None:
        try:
            witness = Witness(options.witness_dir, NoteVerifier.parse(options.log_key))
        except NoteError as exc:
            write(f"operator-sim: --log-key: {exc}")
            return 1

    def receive(received: Received) -> None:
        nonlocal counted
        write(received.line())
        if received.verified and not received.replay:
            counted += 1
            if options.exit_after is not None and counted >= options.exit_after:
                stop.set()

    receiver = WebhookReceiver([options.secret], on_receive=receive)
    try:
        sock = listening_socket(options.host, options.port)
    except OSError as exc:
        write(f"operator-sim: cannot listen on {options.host}:{options.port}: {exc.strerror}")
        return 1
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serving(receiver.app(options.path), sock) as url:
        write(f"operator-sim: receiving webhooks at {url}{options.path}")
        auth = {"authorization": f"Bearer {options.key}"}
        async with httpx.AsyncClient(
            base_url=options.api.rstrip("/"), headers=auth, timeout=API_TIMEOUT
        ) as http:
            try:
                for line in await subscribe_all(http, options.subscribe):
                    write(line)
            except (RuntimeError, ValueError) as exc:
                write(f"operator-sim: {exc}")
                return 1
        write("operator-sim: ready")
        alarms: list[str] = []
        async with _watching(options, witness, write, alarms):
            await stop.wait()
    return ALARM_EXIT if alarms else 0


def main_sim(options: SimOptions) -> int:
    """Entry point of ``nser operator-sim`` (prints flushed lines to stdout)."""

    def write(line: str) -> None:
        print(line, flush=True)

    return asyncio.run(run_sim(options, write=write))
