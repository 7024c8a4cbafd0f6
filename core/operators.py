"""Managing operators: registration, API keys, webhook secrets, status, endpoint and allowlist.

Every change is audited (actor e.g. ``cli``, ``staff:<username>``); the caller
owns the transaction. Credentials follow the usual API-key conventions:

* **API keys**: ``nser_live_`` or ``nser_test_`` + 40 URL-safe random characters
  (240 bits), recognisable in a leak by their prefix (as GitHub's and Stripe's
  are). Shown once; only the SHA-256 of the whole key is stored (a key has far
  more entropy than a password, so a fast hash is the standard choice); the
  first 16 characters are kept as ``prefix`` to name it. Several may be active
  at once so operators rotate with overlap.
* **Webhook secrets**: ``whsec_`` + base64 of 32 random bytes, the Standard
  Webhooks format, sealed at rest (they must be read back to sign). A rotation
  keeps the previous secret signing beside the new one until its
  ``expires_at`` (default 72 hours), so receivers can switch without a gap.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.crypto import KeyRing
from core.errors import InvalidInput, NotFound, OperatorConflict
from core.identity import normalise_msisdn
from core.models import ApiKey, KeyMode, Operator, OperatorStatus, WebhookSecret

KEY_PREFIXES = {KeyMode.LIVE: "nser_live_", KeyMode.TEST: "nser_test_"}
_PREFIX_CHARS = 16
SECRET_PREFIX = "whsec_"  # noqa: S105 (a format prefix, not a secret)
SECRET_FIELD = "operator.webhook_secret"  # noqa: S105 (a column name)
CONTACT_FIELD = "operator.contact_phone"
ROTATION_OVERLAP = timedelta(hours=72)
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def hash_key(key: str) -> str:
    """SHA-256 hex (64 characters) of an API key, the only form stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_mode(key: str) -> KeyMode | None:
    """The mode an API key's prefix names, or ``None`` for anything that is not our key."""
    for mode, prefix in KEY_PREFIXES.items():
        if key.startswith(prefix):
            return mode
    return None


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_webhook_url(url: str) -> str:
    """``url`` if it is an absolute ``https`` URL (``http`` only for this machine).

    Raises:
        InvalidInput: anything else.
    """
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise InvalidInput("the webhook URL must be an absolute https URL")
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        raise InvalidInput("the webhook URL must use https (http only for localhost)")
    return url


def check_cidrs(cidrs: list[str] | tuple[str, ...]) -> list[str]:
    """The allowlist in canonical form (``10.0.0.0/8``); empty means any address.

    Raises:
        InvalidInput: an entry is not an IPv4/IPv6 address or network.
    """
    canonical = []
    for cidr in cidrs:
        try:
            canonical.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError as exc:
            raise InvalidInput(f"not an IP network: {cidr!r}") from exc
    return canonical


@dataclass(frozen=True)
class NewKey:
    """An API key just made: ``key`` is shown once and never stored."""

    id: int
    key: str
    prefix: str
    mode: KeyMode


@dataclass(frozen=True)
class NewOperator:
    """What registration hands back once: the operator id, a first live key and the secret."""

    id: int
    api_key: NewKey
    webhook_secret: str


async def _audit(
    db: AsyncSession,
    *,
    operator_id: int,
    action: str,
    actor: str,
    now: datetime,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> None:
    await audit.append(
        db,
        actor=actor,
        action=action,
        entity=f"operator:{operator_id}",
        before=before,
        after=after,
        occurred_at=now,
    )


async def get(db: AsyncSession, operator_id: int) -> Operator:
    """The operator with ``operator_id``.

    Raises:
        NotFound: no such operator.
    """
    operator = await db.get(Operator, operator_id)
    if operator is None:
        raise NotFound(f"no operator {operator_id}")
    return operator


async def register(
    db: AsyncSession,
    *,
    keyring: KeyRing,
    name: str,
    licence: str,
    webhook_url: str | None = None,
    allow: list[str] | tuple[str, ...] = (),
    contact_name: str | None = None,
    contact_phone: str | None = None,
    actor: str,
    now: datetime,
) -> NewOperator:
    """Register an operator with a first live API key and a webhook secret.

    Raises:
        InvalidInput: empty name or licence, bad URL, CIDR or contact phone.
        OperatorConflict: the licence number is already registered.
    """
    name, licence = name.strip(), licence.strip()
    if not name or not licence:
        raise InvalidInput("an operator needs a name and a licence number")
    found = await db.exec(select(Operator.id).where(Operator.licence == licence))
    if found.first() is not None:
        raise OperatorConflict(f"licence {licence} is already registered")
    operator = Operator(
        name=name,
        licence=licence,
        webhook_url=check_webhook_url(webhook_url) if webhook_url else None,
        allow_cidrs=check_cidrs(allow),
        contact_name=contact_name,
        contact_phone_sealed=(
            keyring.seal(normalise_msisdn(contact_phone), field=CONTACT_FIELD)
            if contact_phone
            else None
        ),
        created_at=now,
        updated_at=now,
    )
    db.add(operator)
    await db.flush()
    assert operator.id is not None
    await _audit(
        db,
        operator_id=operator.id,
        action="operator.registered",
        actor=actor,
        now=now,
        after={
            "name": name,
            "licence": licence,
            "webhook_url": operator.webhook_url,
            "allow_cidrs": operator.allow_cidrs,
        },
    )
    key = await create_key(db, operator_id=operator.id, mode=KeyMode.LIVE, actor=actor, now=now)
    secret = await _add_secret(db, keyring=keyring, operator_id=operator.id, now=now)
    return NewOperator(id=operator.id, api_key=key, webhook_secret=secret)


async def create_key(
    db: AsyncSession, *, operator_id: int, mode: KeyMode, actor: str, now: datetime
) -> NewKey:
    """Make an API key for ``operator_id``; the returned key is the only copy.

    Raises:
        NotFound: no such operator.
    """
    await get(db, operator_id)
    mode = KeyMode(mode)
    key = KEY_PREFIXES[mode] + secrets.token_urlsafe(30)
    row = ApiKey(
        operator_id=operator_id,
        mode=mode.value,
        prefix=key[:_PREFIX_CHARS],
        key_hash=hash_key(key),
        created_at=now,
    )
    db.add(row)
    await db.flush()
    assert row.id is not None
    await _audit(
        db,
        operator_id=operator_id,
        action="operator.key_created",
        actor=actor,
        now=now,
        after={"key_id": row.id, "prefix": row.prefix, "mode": mode.value},
    )
    return NewKey(id=row.id, key=key, prefix=row.prefix, mode=mode)


async def revoke_key(
    db: AsyncSession, *, operator_id: int, key_id: int, actor: str, now: datetime
) -> None:
    """Revoke one of the operator's keys (at once: the API's key cache refreshes every second).

    Raises:
        NotFound: the operator has no such unrevoked key.
    """
    result = await db.exec(
        update(ApiKey)
        .where(
            col(ApiKey.id) == key_id,
            col(ApiKey.operator_id) == operator_id,
            col(ApiKey.revoked_at).is_(None),
        )
        .values(revoked_at=now)
        .returning(ApiKey.prefix)  # type: ignore[call-overload]
    )
    prefix = result.scalar_one_or_none()
    if prefix is None:
        raise NotFound(f"operator {operator_id} has no active key {key_id}")
    await _audit(
        db,
        operator_id=operator_id,
        action="operator.key_revoked",
        actor=actor,
        now=now,
        after={"key_id": key_id, "prefix": prefix},
    )


async def _add_secret(
    db: AsyncSession, *, keyring: KeyRing, operator_id: int, now: datetime
) -> str:
    secret = new_webhook_secret()
    db.add(
        WebhookSecret(
            operator_id=operator_id,
            secret_sealed=keyring.seal(secret, field=SECRET_FIELD),
            created_at=now,
        )
    )
    await db.flush()
    return secret


async def rotate_secret(
    db: AsyncSession,
    *,
    keyring: KeyRing,
    operator_id: int,
    actor: str,
    now: datetime,
    overlap: timedelta = ROTATION_OVERLAP,
) -> str:
    """Make a new webhook secret; the current ones keep signing for ``overlap``, then stop.

    Returns the new secret (shown once).

    Raises:
        NotFound: no such operator.
    """
    await get(db, operator_id)
    ends = now + overlap
    await db.exec(
        update(WebhookSecret)
        .where(
            col(WebhookSecret.operator_id) == operator_id,
            or_(col(WebhookSecret.expires_at).is_(None), col(WebhookSecret.expires_at) > ends),
        )
        .values(expires_at=ends)
    )
    secret = await _add_secret(db, keyring=keyring, operator_id=operator_id, now=now)
    await _audit(
        db,
        operator_id=operator_id,
        action="operator.secret_rotated",
        actor=actor,
        now=now,
        after={"previous_secrets_expire_at": ends.isoformat()},
    )
    return secret


async def signing_secrets(
    db: AsyncSession, *, keyring: KeyRing, operator_id: int, now: datetime
) -> list[str]:
    """The operator's webhook secrets that sign at ``now`` (``whsec_…``), newest first."""
    rows = await db.exec(
        select(WebhookSecret.secret_sealed)
        .where(
            WebhookSecret.operator_id == operator_id,
            or_(col(WebhookSecret.expires_at).is_(None), col(WebhookSecret.expires_at) > now),
        )
        .order_by(col(WebhookSecret.id).desc())
    )
    return [keyring.open(sealed, field=SECRET_FIELD) for sealed in rows]


async def set_status(
    db: AsyncSession, *, operator_id: int, status: OperatorStatus, actor: str, now: datetime
) -> None:
    """Suspend or reactivate an operator (a suspended one gets 403 and no pushes).

    Raises:
        NotFound: no such operator.
    """
    operator = await get(db, operator_id)
    status = OperatorStatus(status)
    if operator.status == status.value:
        return
    before = operator.status
    operator.status = status.value
    operator.updated_at = now
    db.add(operator)
    await _audit(
        db,
        operator_id=operator_id,
        action=f"operator.{'activated' if status is OperatorStatus.ACTIVE else 'suspended'}",
        actor=actor,
        now=now,
        before={"status": before},
        after={"status": status.value},
    )


async def configure(
    db: AsyncSession,
    *,
    operator_id: int,
    actor: str,
    now: datetime,
    webhook_url: str | None = None,
    allow: list[str] | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    keyring: KeyRing | None = None,
) -> None:
    """Change the webhook URL (re-enabling an endpoint a ``410`` disabled), the allowlist
    and/or the technical contact (``""`` removes a URL, name or phone; ``None`` keeps it).

    A new contact phone is sealed with ``keyring``; the audit entry says only
    whether the phone changed, never the number.

    Raises:
        NotFound: no such operator.
        InvalidInput: bad URL, CIDR or contact phone.
        ValueError: a contact phone without a ``keyring`` to seal it.
    """
    operator = await get(db, operator_id)
    before: dict[str, object] = {
        "webhook_url": operator.webhook_url,
        "allow_cidrs": list(operator.allow_cidrs),
        "contact_name": operator.contact_name,
    }
    after: dict[str, object] = {}
    if webhook_url is not None:
        operator.webhook_url = check_webhook_url(webhook_url) if webhook_url else None
        operator.webhook_disabled_at = None
    if allow is not None:
        operator.allow_cidrs = check_cidrs(allow)
    if contact_name is not None:
        operator.contact_name = contact_name.strip() or None
    if contact_phone is not None:
        if contact_phone and keyring is None:
            raise ValueError("a contact phone needs the keyring to seal it")
        operator.contact_phone_sealed = (
            keyring.seal(normalise_msisdn(contact_phone), field=CONTACT_FIELD)
            if contact_phone and keyring is not None
            else None
        )
        after["contact_phone_changed"] = True
    operator.updated_at = now
    db.add(operator)
    await _audit(
        db,
        operator_id=operator_id,
        action="operator.configured",
        actor=actor,
        now=now,
        before=before,
        after={
            "webhook_url": operator.webhook_url,
            "allow_cidrs": operator.allow_cidrs,
            "contact_name": operator.contact_name,
            **after,
        },
    )


@dataclass(frozen=True)
class OperatorSummary:
    """One line of ``nser operator list``."""

    id: int
    name: str
    licence: str
    status: str
    webhook_url: str | None
    webhook_disabled: bool
    allow_cidrs: list[str]
    keys: list[dict[str, object]]


async def summaries(db: AsyncSession) -> list[OperatorSummary]:
    """Every operator with its unrevoked keys (id, prefix, mode, created, last used)."""
    operators = (await db.exec(select(Operator).order_by(col(Operator.id)))).all()
    keys = (
        await db.exec(
            select(ApiKey).where(col(ApiKey.revoked_at).is_(None)).order_by(col(ApiKey.id))
        )
    ).all()
    by_operator: dict[int, list[dict[str, object]]] = {}
    for key in keys:
        by_operator.setdefault(key.operator_id, []).append(
            {
                "id": key.id,
                "prefix": key.prefix,
                "mode": key.mode,
                "created_at": key.created_at.isoformat(),
                "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
            }
        )
    return [
        OperatorSummary(
            id=op.id or 0,
            name=op.name,
            licence=op.licence,
            status=op.status,
            webhook_url=op.webhook_url,
            webhook_disabled=op.webhook_disabled_at is not None,
            allow_cidrs=list(op.allow_cidrs),
            keys=by_operator.get(op.id or 0, []),
        )
        for op in operators
    ]
