"""``nser staff``: create, list, disable and reset back-office accounts, on the server.

Only someone with a shell on the server runs these (staff reach the
back-office through ``ForceCommand nser backoffice`` and never get a shell), so
they are the root of trust for staff accounts. Each is audited with actor
``cli:<operating-system user>``. A temporary password is printed once; the
staff member replaces it and enrols an authenticator at first sign-in.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from core import staff
from core.db import create_engine, session_factory
from core.i18n import LANGUAGES
from core.models import Role


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    formatter: type[argparse.HelpFormatter],
) -> None:
    """Add ``staff add|list|disable|reset`` to the ``nser`` parser."""
    group = commands.add_parser(
        "staff", help="back-office staff accounts", formatter_class=formatter
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, summary: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = actions.add_parser(
            name, help=summary, description=summary, formatter_class=formatter
        )
        return sub

    add = action("add", "create an account and print its temporary password (shown once)")
    add.add_argument("username", help="2 to 24 of a-z 0-9 . _ - starting with a letter")
    add.add_argument(
        "--role", required=True, choices=[role.value for role in Role], help="what they may do"
    )
    add.add_argument("--language", default="en", choices=LANGUAGES, help="back-office language")
    action("list", "list the accounts")
    for name, summary in (
        ("disable", "disable an account: it can no longer sign in or act"),
        ("reset", "new temporary password, forget the authenticator, unlock"),
    ):
        action(name, summary).add_argument("username", help="the account")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


async def _list(db: AsyncSession, now: datetime) -> None:
    for account in await staff.accounts(db):
        locked = account.locked_until is not None and account.locked_until > now
        print(
            f"{account.username:<24} {account.role:<10} {account.status:<8} "
            + ("authenticator" if account.enrolled else "not set up")
            + (f", locked until {account.locked_until:%Y-%m-%d %H:%M} UTC" if locked else "")
        )


async def _change(db: AsyncSession, args: argparse.Namespace, now: datetime) -> str | None:
    """Run add, disable or reset; returns the temporary password, if one was made."""
    if args.action == "disable":
        await staff.disable(db, username=args.username, actor=_actor(), now=now)
        return None
    if args.action == "add":
        return await staff.add(
            db,
            username=args.username,
            role=Role(args.role),
            language=args.language,
            actor=_actor(),
            now=now,
        )
    return await staff.reset(db, username=args.username, actor=_actor(), now=now)


async def run(args: argparse.Namespace, database_url: str) -> int:
    """Run one ``nser staff`` action against ``database_url``; returns the exit code.

    Raises:
        NSERError: a bad username or role, an unknown or taken account (printed by ``main``).
    """
    engine = create_engine(database_url, pool_size=1)
    now = datetime.now(UTC)
    try:
        async with session_factory(engine)() as db:
            if args.action == "list":
                await _list(db, now)
                return 0
            password = await _change(db, args, now)
            await db.commit()
    finally:
        await engine.dispose()
    name = staff.normalise_username(args.username)
    if password is None:
        print(f"staff account {name} disabled")
        return 0
    print(f"staff account {name}: {'created as ' + args.role if args.action == 'add' else 'reset'}")
    print(f"temporary password (shown once, valid {staff.TEMPORARY_HOURS} hours): {password}")
    print("at the first sign-in to 'nser backoffice' they choose their own password")
    print("and enrol an authenticator app by scanning a QR code")
    return 0
