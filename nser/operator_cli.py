"""``nser operator …``: managing operators from the shell (the back-office's ``p`` screen too).

Every subcommand prints plain lines for people, or one JSON object with
``--json`` for scripts; credentials (API keys, webhook secrets) are printed
once, at creation, and never again. Each change is audited with actor
``cli:<os user>``. Only the database is used (no Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from core import operators
from core.db import create_engine, session_factory
from core.errors import NSERError
from core.keys import load_keyring
from core.models import KeyMode, OperatorStatus
from core.services import utc_now
from core.settings import Settings

Adder = Callable[..., argparse.ArgumentParser]


def add_commands(command: Adder) -> None:
    """Declare ``nser operator ACTION …`` through the CLI's ``command(name, summary, within)``."""
    group = command("operator", "manage licensed operators (API keys, webhook secrets, status)")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, summary: str, *, operator_id: bool = True) -> argparse.ArgumentParser:
        sub = command(name, summary, actions)
        if operator_id:
            sub.add_argument("operator_id", type=int, help="the operator's id (see 'list')")
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        return sub

    add = action(
        "add",
        "register an operator: prints its id, a first API key and the webhook secret",
        operator_id=False,
    )
    add.add_argument("name", help="the company's name")
    add.add_argument("--licence", required=True, help="its GRAK licence number")
    add.add_argument(
        "--webhook-url", help="https URL for exclusion events (http only for localhost)"
    )
    add.add_argument(
        "--allow", nargs="*", default=[], metavar="CIDR", help="source networks (none = any)"
    )
    add.add_argument("--contact-name", help="technical contact for delivery alerts")
    add.add_argument("--contact-phone", help="the contact's mobile number")
    action("list", "list operators and their active keys", operator_id=False)
    create = action("key-create", "make another API key (shown once)")
    create.add_argument(
        "--test", action="store_true", help="a test key (documented test numbers only)"
    )
    revoke = action("key-revoke", "revoke an API key")
    revoke.add_argument("key_id", type=int, help="the key's id (see 'list')")
    rotate = action(
        "secret-rotate", "new webhook secret; the old one signs too until the overlap ends"
    )
    rotate.add_argument("--overlap-hours", type=float, default=72.0, help="hours both secrets sign")
    action("suspend", "suspend an operator: 403 on the API, no pushes")
    action("activate", "reactivate a suspended operator")
    configure = action("configure", "change the webhook URL and/or the allowlist")
    configure.add_argument("--webhook-url", help="new URL ('' removes it)")
    configure.add_argument("--allow", nargs="*", metavar="CIDR", help="new allowlist (none = any)")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def _act(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    assert settings.database_url is not None
    keyring = load_keyring(settings)
    engine = create_engine(settings.database_url, pool_size=1, timeout=settings.database_timeout)
    actor, now = _actor(), utc_now()
    try:
        async with session_factory(engine)() as db:
            result: dict[str, Any]
            if args.action == "add":
                made = await operators.register(
                    db,
                    keyring=keyring,
                    name=args.name,
                    licence=args.licence,
                    webhook_url=args.webhook_url,
                    allow=args.allow,
                    contact_name=args.contact_name,
                    contact_phone=args.contact_phone,
                    actor=actor,
                    now=now,
                )
                result = {
                    "operator_id": made.id,
                    "api_key": made.api_key.key,
                    "key_id": made.api_key.id,
                    "webhook_secret": made.webhook_secret,
                }
            elif args.action == "list":
                result = {"operators": [asdict(s) for s in await operators.summaries(db)]}
            elif args.action == "key-create":
                mode = KeyMode.TEST if args.test else KeyMode.LIVE
                key = await operators.create_key(
                    db, operator_id=args.operator_id, mode=mode, actor=actor, now=now
                )
                result = {"key_id": key.id, "api_key": key.key, "mode": key.mode.value}
            elif args.action == "key-revoke":
                await operators.revoke_key(
                    db, operator_id=args.operator_id, key_id=args.key_id, actor=actor, now=now
                )
                result = {"revoked": args.key_id}
            elif args.action == "secret-rotate":
                secret = await operators.rotate_secret(
                    db,
                    keyring=keyring,
                    operator_id=args.operator_id,
                    actor=actor,
                    now=now,
                    overlap=timedelta(hours=args.overlap_hours),
                )
                result = {"webhook_secret": secret, "previous_valid_hours": args.overlap_hours}
            elif args.action in {"suspend", "activate"}:
                status = (
                    OperatorStatus.SUSPENDED if args.action == "suspend" else OperatorStatus.ACTIVE
                )
                await operators.set_status(
                    db, operator_id=args.operator_id, status=status, actor=actor, now=now
                )
                result = {"operator_id": args.operator_id, "status": status.value}
            else:
                await operators.configure(
                    db,
                    operator_id=args.operator_id,
                    actor=actor,
                    now=now,
                    webhook_url=args.webhook_url,
                    allow=args.allow,
                )
                result = {"operator_id": args.operator_id, "configured": True}
            await db.commit()
    finally:
        await engine.dispose()
    return result


def _human(action: str, result: dict[str, Any]) -> str:
    if action == "list":
        lines = []
        for op in result["operators"]:
            hook = op["webhook_url"] or "-"
            if op["webhook_disabled"]:
                hook += " (disabled by 410)"
            lines.append(
                f"{op['id']:>4}  {op['name']}  licence {op['licence']}  {op['status']}"
                f"  webhook {hook}"
            )
            for key in op["keys"]:
                used = key["last_used_at"] or "never"
                lines.append(
                    f"      key {key['id']}: {key['prefix']}… ({key['mode']}, last used {used})"
                )
        return "\n".join(lines) or "no operators"
    lines = [f"{name}: {value}" for name, value in result.items()]
    if "api_key" in result or "webhook_secret" in result:
        lines.append("(shown once: store these now; NSER keeps only a hash of the key)")
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out ``nser operator ACTION``; 0 on success, 1 with a message on a refused change."""
    try:
        result = asyncio.run(_act(args, settings))
    except NSERError as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}))
        else:
            print(f"nser operator {args.action}: {exc}")
        return 1
    print(json.dumps(result, default=str) if args.json else _human(args.action, result))
    return 0
