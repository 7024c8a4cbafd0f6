"""The ``nser`` command.

``nser serve`` runs everything on one machine (embedded PostgreSQL and Redis
when ``DATABASE_URL``/``REDIS_URL`` are unset, migrations, web and worker);
``nser migrate``, ``nser web`` and ``nser worker`` are the production
processes of the ``Procfile``; ``nser audit verify`` checks the audit chain;
``nser dial`` tries the USSD service by hand; ``nser keys`` prints fresh
production key material.
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

from pydantic import ValidationError

from core import audit
from core.crypto import KEY_BYTES
from core.embedded import EmbeddedServers, start_embedded
from core.errors import NSERError
from core.migrate import upgrade
from core.services import open_services
from core.settings import Settings

log = logging.getLogger("nser")

SERVES_HTTP = frozenset({"serve", "web"})
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nser", description="National Self-Exclusion Register")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, then run web and worker together")
    web = commands.add_parser("web", help="run the web process (production)")
    for sub in (serve, web):
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
    commands.add_parser("worker", help="run the ARQ worker (production)")
    commands.add_parser("migrate", help="apply database migrations")
    audit_cmd = commands.add_parser("audit", help="audit log tools")
    audit_cmd.add_argument("action", choices=["verify"])
    commands.add_parser("keys", help="print new NSER_ENCRYPTION_KEYS and NSER_INDEX_KEY values")
    dial = commands.add_parser("dial", help="a terminal phone for the USSD service")
    dial.add_argument("--url", default="http://127.0.0.1:8000")
    dial.add_argument("--phone", default="+254712345678")
    dial.add_argument("--code", default="*384*7#", help="USSD service code dialled")
    dial.add_argument("--network", default="63902", help="network code (63902 = Safaricom)")
    return parser


async def _verify(settings: Settings) -> int:
    services = open_services(settings)
    try:
        async with services.sessions() as db:
            report = await audit.verify(db)
    finally:
        await services.close()
    if report.ok:
        print(f"audit chain OK: {report.checked} entries verified")
        return 0
    print(
        f"audit chain BROKEN at entry {report.broken_id}: {report.reason} "
        f"({report.checked} entries verified before it)"
    )
    return 1


def _keys() -> int:
    key = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    index = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    print(f"NSER_ENCRYPTION_KEYS=k1:{key}")
    print(f"NSER_INDEX_KEY={index}")
    return 0


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
    from nser.runner import run_worker, serve

    if args.command == "audit":
        return asyncio.run(_verify(settings))
    if args.command in {"migrate", "serve"}:
        upgrade(settings.database_url)
    if args.command == "worker":
        asyncio.run(run_worker(settings))
    elif sock is not None:
        asyncio.run(serve(settings, sock, worker=args.command == "serve"))
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit code.

    Raises:
        NSERError: configuration errors propagate to :func:`main`, which prints them.
        KeyboardInterrupt: SIGINT or SIGTERM before serving started (servers are stopped).
    """
    args = _parser().parse_args(argv)
    if args.command == "keys":
        return _keys()
    if args.command == "dial":
        from nser.dial import main_dial

        return main_dial(args.url, args.phone, args.code, args.network)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
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
        settings, servers = start_embedded(settings)
        return _run_command(args, settings, sock)
    finally:
        with _signals_held():
            servers.stop()
        if sock is not None:
            sock.close()


def main() -> None:
    """Console entry point of ``nser``."""
    try:
        code = run()
    except (NSERError, ValidationError) as exc:
        print(f"nser: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130  # interrupted while starting; whatever had started is stopped
    sys.exit(code)
