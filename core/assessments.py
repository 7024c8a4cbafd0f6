"""Staff-administered assessments: a trained officer records the DSM-5 gambling disorder
checklist (:data:`core.instruments.dsm5.DSM5`) for a person.

Stored like every screening (:func:`core.screening.record`): channel
``backoffice``, answers sealed, audited as ``screening.recorded`` with the
officer as actor (never the answers, score or band), the helpline SMS at a band
where NSER refers (mild and above), idempotent on ``request_key``. Results are
never shown to operators nor read back to the citizen.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from core import screening
from core.crypto import KeyRing
from core.instruments.dsm5 import DSM5
from core.models import Channel, Role
from core.permissions import Principal, requires

#: The option indexes of the DSM-5 checklist's yes/no scale.
MET, NOT_MET = 0, 1


def answers_of(met: Collection[int]) -> list[int]:
    """The checklist's answers (option indexes) for the criteria ``met`` (0-based, 0..8).

    Raises:
        ValueError: a criterion outside 0..8.
    """
    if any(not 0 <= item < len(DSM5.items) for item in met):
        raise ValueError(f"DSM-5 criteria are numbered 0..{len(DSM5.items) - 1}")
    return [MET if item in met else NOT_MET for item in range(len(DSM5.items))]


@requires(Role.OFFICER, "screening.assess")
async def record_dsm5(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    keyring: KeyRing,
    msisdn: str,
    met: Collection[int],
    request_key: str,
    language: str,
    now: datetime,
) -> screening.Recorded:
    """Store the DSM-5 checklist of the holder of ``msisdn``: the criteria ``met`` (0-based).

    A person new to the register is enrolled with ``language``. ``request_key``
    (``backoffice:dsm5:<uuid>``, one per form) makes a repeated save store one
    result. The caller commits.

    Raises:
        PermissionDenied: below officer (audited; nothing stored).
        InvalidMsisdn: not a Kenyan mobile number.
        RequestKeyConflict: ``request_key`` was used for another person.
        ValueError: a criterion outside 0..8.
    """
    return await screening.record(
        db,
        keyring=keyring,
        msisdn=msisdn,
        instrument=DSM5,
        answers=answers_of(met),
        channel=Channel.BACKOFFICE,
        request_key=request_key,
        seq=1,
        language=language,
        actor=principal.actor,
        now=now,
    )
