"""Staff accounts for tests, made through the real core functions (add, sign in, set up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from core import exclusions, queue, staff, totp
from core.exclusion_store import ExclusionRow
from core.exclusions import Outcome
from core.models import Channel, Role
from core.periods import Period
from core.permissions import Principal
from core.services import Services
from core.subjects import Identifier

PASSWORD = "correct horse battery"
#: A fixed TOTP secret per username, so tests and snapshots are repeatable.
SECRETS = {
    "olive": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "sam": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
    "vera": "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK",
    "ada": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    "sue": "ONSWG4TFOQYTEMZUONSWG4TFOQYTEMZU",
}


@dataclass(frozen=True)
class Member:
    """A ready staff member: who they are, their password and authenticator secret."""

    principal: Principal
    password: str
    secret: str

    def code(self, at: datetime) -> str:
        """The authenticator's code at ``at``."""
        return totp.code_at(self.secret, at)


async def add_staff(services: Services, username: str, role: Role, *, language: str = "en") -> str:
    """Create an account as ``nser staff add`` does; returns its temporary password."""
    async with services.db() as db:
        temporary = await staff.add(
            db,
            username=username,
            role=role,
            language=language,
            actor="cli:test",
            now=services.clock(),
        )
        await db.commit()
    return temporary


async def member(services: Services, username: str, role: Role, *, language: str = "en") -> Member:
    """A staff member who has signed in once, chosen a password and enrolled an authenticator.

    The enrolment code is taken one step before the clock, so the next sign-in
    at the same instant (a later step) is accepted.
    """
    temporary = await add_staff(services, username, role, language=language)
    now = services.clock()
    async with services.db() as db:
        signed = await staff.sign_in(
            db,
            keyring=services.keyring,
            username=username,
            password=temporary,
            code="",
            now=now,
        )
    async with services.db() as db:
        await staff.change_password(
            db, principal=signed.principal, current=temporary, new=PASSWORD, now=now
        )
    secret = SECRETS[username]
    earlier = datetime.fromtimestamp((totp.step_of(now) - 1) * totp.STEP_SECONDS, tz=now.tzinfo)
    async with services.db() as db:
        await staff.enrol(
            db,
            principal=signed.principal,
            keyring=services.keyring,
            secret=secret,
            code=totp.code_at(secret, earlier),
            now=now,
        )
    return Member(signed.principal, PASSWORD, secret)


async def self_excluding(
    db: AsyncSession,
    services: Services,
    msisdn: str = "+254712345678",
    period: Period = Period.ONE_YEAR,
    *,
    key: str | None = None,
    language: str = "sw",
    document: Identifier | None = None,
) -> Outcome:
    """A citizen's self-exclusion as the USSD channel makes it, in ``db``'s transaction,
    left uncommitted (the caller commits, or holds the person's locks meanwhile).

    ``key`` is the request key (default ``ussd:<msisdn>:<period>``).
    """
    return await exclusions.self_exclude(
        db,
        keyring=services.keyring,
        msisdn=msisdn,
        period=period,
        channel=Channel.USSD,
        request_key=key or f"ussd:{msisdn}:{period.value}",
        language=language,
        actor="citizen:ussd",
        now=services.clock(),
        document=document,
    )


async def self_excluded(
    services: Services,
    msisdn: str = "+254712345678",
    period: Period = Period.ONE_YEAR,
    *,
    key: str | None = None,
    language: str = "sw",
    document: Identifier | None = None,
) -> Outcome:
    """:func:`self_excluding`, committed through :func:`core.queue.commit`, so subscribed
    operators' webhook jobs are queued."""
    async with services.db() as db:
        outcome = await self_excluding(
            db, services, msisdn, period, key=key, language=language, document=document
        )
        await queue.commit(db, services.queue)
    return outcome


async def excluded(
    services: Services,
    msisdn: str = "+254712345678",
    period: Period = Period.ONE_YEAR,
    *,
    key: str = "ussd:test-1",
) -> ExclusionRow:
    """A citizen excluded through USSD, as the channel does it; returns the exclusion."""
    return (await self_excluded(services, msisdn, period, key=key)).exclusion
