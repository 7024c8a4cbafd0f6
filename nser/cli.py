"""The ``nser`` command.

``nser serve`` runs everything on one machine (embedded PostgreSQL and Redis
when ``DATABASE_URL``/``REDIS_URL`` are unset, migrations, web and worker);
``nser migrate``, ``nser web`` and ``nser worker`` are the production
processes of the ``Procfile``; ``nser audit checkpoint``, ``verify`` and
``public-key`` publish and check the audit log (:mod:`nser.audit_cli`);
``nser dial`` tries the USSD service by hand, ``nser text`` the SMS service;
``nser keys`` prints fresh production key material; ``nser operator …`` manages operators
(:mod:`nser.operator_cli`); ``nser operator-sim`` plays a betting operator
(subscriptions and a verifying webhook receiver, :mod:`nser.operator_sim`);
``nser staff`` manages back-office accounts and ``nser backoffice`` opens the
staff's terminal application (the SSH ``ForceCommand`` of ``docs/backoffice.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import secrets
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import ValidationError

from core.audit.notes import NoteSigner
from core.crypto import KEY_BYTES
from core.embedded import EmbeddedServers, register_exists, start_embedded
from core.errors import NSERError
from core.privileges import migrate
from core.settings import Settings
from nser import operator_cli, staffcmd
from nser.audit_cli import public_key, run_audit

log = logging.getLogger("nser")

#: Commands that may create a register in an empty data dir; the others refuse to.
CREATES_REGISTER = frozenset({"serve", "web", "worker", "migrate"})
#: Commands that use Redis; the others never start the embedded one.
USES_REDIS = frozenset({"serve", "web", "worker", "backoffice"})
SERVES_HTTP = frozenset({"serve", "web"})
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.ArgumentDefaultsHelpFormatter  # every option's help shows its default
    parser = argparse.ArgumentParser(
        prog="nser", description="National Self-Exclusion Register", formatter_class=formatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str,
        summary: str,
        within: argparse._SubParsersAction[argparse.ArgumentParser] = commands,
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = within.add_parser(
            name, help=summary, description=summary, formatter_class=formatter
        )
        return sub

    serve = command(
        "serve",
        "apply migrations, then run the web app and the worker in one process "
        "(embedded PostgreSQL and Redis unless DATABASE_URL and REDIS_URL are set)",
    )
    web = command("web", "run the web process (production)")
    for sub in (serve, web):
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on")
        sub.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    command("worker", "run the ARQ worker (production)")
    command("migrate", "apply database migrations")
    audit_cmd = command("audit", "audit log tools")
    actions = audit_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = command(
        "verify",
        "rebuild the audit log's Merkle tree from its entries and check every stored "
        "checkpoint; name the first mismatch and exit 1",
        actions,
    )
    verify.add_argument(
        "--against",
        metavar="FILE",
        help="a signed checkpoint saved earlier: also prove the log still extends it",
    )
    command("checkpoint", "print the latest signed checkpoint of the audit log", actions)
    command("public-key", "print the audit log's note verifier key", actions)
    keys = command(
        "keys",
        "print new NSER_ENCRYPTION_KEYS, NSER_INDEX_KEY and NSER_AUDIT_SIGNING_KEY values",
    )
    keys.add_argument(
        "--origin",
        default="nser.example/audit",
        help="the audit log's name in its checkpoints (a URL without scheme)",
    )
    operator_cli.add_commands(command)
    staffcmd.add_commands(commands, formatter)
    command("backoffice", "open the staff back-office (the SSH ForceCommand for staff)")
    dial = command("dial", "a terminal phone for the USSD service")
    dial.add_argument(
        "--url", default="http://127.0.0.1:8000", help="the web app, or its USSD callback URL"
    )
    dial.add_argument("--phone", default="+254712345678", help="the caller's number")
    dial.add_argument("--code", default="*384*7#", help="USSD service code dialled")
    dial.add_argument("--network", default="63902", help="network code (63902 = Safaricom)")
    sms = command("text", "send an SMS to the service as Africa's Talking relays it")
    sms.add_argument("message", nargs="?", help="the SMS text; without it, one SMS per line read")
    sms.add_argument("--url", default="http://127.0.0.1:8000", help="the web app")
    sms.add_argument("--phone", default="+254712345678", help="the sender's number")
    sms.add_argument("--to", default="40400", help="the shortcode texted")
    sms.add_argument("--network", default="63902", help="network code (63902 = Safaricom)")
    sim = command(
        "operator-sim",
        "a local operator: subscribes customers through the API and prints every verified "
        "webhook it receives",
    )
    sim.add_argument("--api", default="http://127.0.0.1:8000", help="the NSER web app")
    sim.add_argument("--key", required=True, help="the operator's API key (nser_live_/nser_test_)")
    sim.add_argument("--secret", required=True, help="the operator's webhook secret (whsec_...)")
    sim.add_argument("--host", default="127.0.0.1", help="address the receiver listens on")
    sim.add_argument("--port", type=int, default=9000, help="port the receiver listens on")
    sim.add_argument("--path", default="/webhooks", help="path the receiver takes POSTs on")
    sim.add_argument(
        "--subscribe",
        nargs="*",
        default=[],
        metavar="REF=MSISDN",
        help="customers to subscribe first (REF=id:NUMBER for a national ID)",
    )
    sim.add_argument(
        "--exit-after", type=int, default=None, metavar="N", help="exit after N verified events"
    )
    sim.add_argument(
        "--log-key",
        default=None,
        metavar="VKEY",
        help="witness the audit log: its verifier key (nser audit public-key)",
    )
    sim.add_argument(
        "--witness-dir",
        type=Path,
        default=Path("operator-sim-witness"),
        help="where the witness keeps the checkpoints it accepted",
    )
    sim.add_argument(
        "--witness-every",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how often the witness fetches the latest checkpoint",
    )
    return parser


def _keys(origin: str) -> int:
    key = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    index = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    print(f"NSER_ENCRYPTION_KEYS=k1:{key}")
    print(f"NSER_INDEX_KEY={index}")
    print(f"NSER_AUDIT_SIGNING_KEY={NoteSigner.generate(origin).encode()}")
    return 0


class _AlembicChatter(logging.Filter):
    """Drops the lines Alembic logs on every run; keeps the migrations it applies."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(("Context impl", "Will assume"))


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic.runtime.migration").addFilter(_AlembicChatter())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM before the event loop runs: clean up as for Ctrl-C


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM meanwhile: stopping servers must not be cut short
    (each of its waits is bounded)."""
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run_command(args: argparse.Namespace, settings: Settings, sock: socket.socket | None) -> int:
    assert settings.database_url is not None
    # Imported here: uvicorn, ARQ and the channels are not needed by the other commands.
    from nser.runner import run, run_worker, serve

    if args.command == "audit":
        return run_audit(args, settings)
    if args.command == "operator":
        return operator_cli.run(args, settings)
    if args.command == "staff":
        return asyncio.run(staffcmd.run(args, settings.database_url))
    if args.command == "backoffice":
        from nser.backoffice import run_backoffice

        return run_backoffice(settings)
    if args.command in {"migrate", "serve"}:
        migrate(settings)
    if args.command == "worker":
        run(run_worker(settings))
    elif sock is not None:
        run(serve(settings, sock, worker=args.command == "serve"))
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit code.

    Raises:
        NSERError: configuration errors propagate to :func:`main`, which prints them.
        pydantic.ValidationError: an environment variable has an invalid value (idem).
        KeyboardInterrupt: SIGINT or SIGTERM before serving started (servers are stopped).
    """
    args = _parser().parse_args(argv)
    if args.command == "keys":
        return _keys(args.origin)
    if args.command == "dial":
        from nser.dial import main_dial

        return main_dial(args.url, args.phone, args.code, args.network)
    if args.command == "text":
        from nser.text import main_text

        return main_text(args.url, args.phone, args.to, args.network, args.message)
    if args.command == "operator-sim":
        from nser.operator_sim import SimOptions, main_sim

        return main_sim(
            SimOptions(
                api=args.api,
                key=args.key,
                secret=args.secret,
                host=args.host,
                port=args.port,
                path=args.path,
                subscribe=args.subscribe,
                exit_after=args.exit_after,
                log_key=args.log_key,
                witness_dir=args.witness_dir,
                witness_every=args.witness_every,
            )
        )
    settings = Settings()
    _configure_logging(settings.log_level)
    if (
        args.command not in CREATES_REGISTER
        and settings.database_url is None
        and not register_exists(settings.data_dir)
    ):
        print(
            f"nser: no register in {settings.data_dir.resolve()}: run nser from the project "
            "root, or set NSER_DATA_DIR or DATABASE_URL ('nser serve' creates one)",
            file=sys.stderr,
        )
        return 2
    if args.command == "audit" and args.action == "public-key":
        return public_key(settings)  # no database needed
    sock = None
    if args.command in SERVES_HTTP:
        from nser.runner import bind

        try:
            sock = bind(args.host, args.port)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            print(f"nser: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
            return 1
    signal.signal(signal.SIGTERM, _interrupt)
    servers = EmbeddedServers()
    try:
        settings, servers = start_embedded(settings, redis=args.command in USES_REDIS)
        return _run_command(args, settings, sock)
    finally:
        with _signals_held():
            servers.stop()
        if sock is not None:
            sock.close()


def _describe(exc: ValidationError) -> str:
    """One line for a settings validation error, naming each variable and what it accepts."""
    parts = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        given = error.get("input")
        shown = f" (got {given!r})" if isinstance(given, str) and "KEY" not in name else ""
        parts.append(f"{name}: {error['msg']}{shown}")
    return "invalid configuration: " + "; ".join(parts)


def main() -> None:
    """Console entry point of ``nser``."""
    try:
        code = run()
    except NSERError as exc:
        print(f"nser: {exc}", file=sys.stderr)
        code = 2
    except ValidationError as exc:
        print(f"nser: {_describe(exc)}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130  # interrupted while starting; whatever had started is stopped
    sys.exit(code)
