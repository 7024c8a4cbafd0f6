"""Sending one signed webhook: the Standard Webhooks headers, the HTTP POST, test webhooks.

Signing uses the official ``standardwebhooks`` package, so what operators
verify with it is exactly what we sign. Each request carries:

* ``webhook-id``: the delivery's ``message_id`` (``msg_…``), the same on every
  retry, so a receiver recognises a replay;
* ``webhook-timestamp``: Unix seconds when *this attempt* was signed (the
  machine's clock: receivers compare it with theirs, 5 minutes' tolerance);
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``,
  one per active signing secret, space-separated (two during a rotation).

The body is the payload as compact JSON with sorted keys (ASCII), identical on
every attempt. Every request is bounded: :data:`CONNECT_TIMEOUT` to connect,
:data:`READ_TIMEOUT` between bytes, :data:`ATTEMPT_DEADLINE` in all; redirects
are not followed (a ``3xx`` is a failed attempt).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession
from standardwebhooks.webhooks import Webhook

from core import operators
from core.crypto import KeyRing
from core.deliveries import Result
from core.errors import InvalidInput
from core.models import EventType
from core.outbox import iso

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
#: Seconds one attempt may take in all (a receiver dripping bytes cannot hold it longer).
ATTEMPT_DEADLINE = 15.0
USER_AGENT = "NSER-Webhooks/1"
#: The customer reference (unless the caller names one) and BST of every test webhook: the
#: test person that test keys answer as excluded (``api.testmode``; docs/operators.md).
TEST_CUSTOMER_REF = "TEST-CUSTOMER-1"
TEST_BST = "BST-TESTTEST"


def http_client(*, connections: int = 100, tls: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    """A client webhooks go out on: bounded timeouts, no redirects, ``connections`` at most.

    ``tls`` shares one verifying TLS context between clients (loading the CA
    certificates costs tens of milliseconds per context); default: a new one.
    """
    return httpx.AsyncClient(
        verify=tls or httpx.create_ssl_context(),
        timeout=httpx.Timeout(
            connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, write=READ_TIMEOUT, pool=CONNECT_TIMEOUT
        ),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )


def body(payload: dict[str, Any]) -> str:
    """The exact request body of ``payload``: compact JSON, sorted keys, ASCII."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def headers(*, message_id: str, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    """Standard Webhooks headers for ``body`` signed at ``at`` with every secret in ``secrets``.

    Raises:
        ValueError: ``secrets`` is empty.
    """
    if not secrets:
        raise ValueError("no active signing secret")
    signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as a wait from ``now``; else ``None``."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


async def post(
    http: httpx.AsyncClient,
    *,
    url: str,
    message_id: str,
    payload: dict[str, Any],
    secrets: list[str],
) -> Result:
    """POST ``payload`` to ``url`` signed with ``secrets``; never raises for the network's sake.

    Returns the status code (with ``Retry-After`` for a ``429`` or ``503``), or an
    ``error`` naming what went wrong (``ConnectTimeout``, ``ConnectError``,
    ``deadline``…). The response body is not read beyond what httpx buffers.
    """
    text = body(payload)
    signed_at = datetime.now(UTC)  # receivers check it against their own clock
    try:
        sent = headers(message_id=message_id, body=text, secrets=secrets, at=signed_at)
    except ValueError as exc:
        return Result(None, error=str(exc))
    try:
        async with asyncio.timeout(ATTEMPT_DEADLINE):
            response = await http.post(url, content=text.encode(), headers=sent)
    except TimeoutError:
        return Result(None, error="deadline")
    except httpx.HTTPError as exc:
        return Result(None, error=type(exc).__name__)
    wait = None
    if response.status_code in (429, 503):
        wait = retry_after(response.headers.get("retry-after"), now=signed_at)
    error = None if response.is_success else f"HTTP {response.status_code}"
    return Result(response.status_code, error=error, retry_after=wait)


def sample_payload(*, customer_ref: str, now: datetime) -> dict[str, Any]:
    """A sample ``exclusion.created`` body, marked ``"test": true`` (no real event exists).

    ``event_id`` 0, the test person's BST (:data:`TEST_BST`), six months from ``now``.
    """
    return {
        "type": EventType.CREATED.value,
        "timestamp": iso(now),
        "data": {
            "event_id": 0,
            "occurred_at": iso(now),
            "customer_ref": customer_ref,
            "bst": TEST_BST,
            "until": iso(now + timedelta(days=183)),
            "test": True,
        },
    }


@dataclass(frozen=True)
class Sample:
    """A test webhook ready to go: where, its ``message_id`` (``msg_test_…``), body and secrets."""

    url: str
    message_id: str
    payload: dict[str, Any]
    secrets: list[str]

    async def send(self, http: httpx.AsyncClient) -> Result:
        """POST it once, signed like every delivery (no outbox row, no retry)."""
        result = await post(
            http,
            url=self.url,
            message_id=self.message_id,
            payload=self.payload,
            secrets=self.secrets,
        )
        log.info("test webhook %s: %s", self.message_id, result.status_code or result.error)
        return result


async def sample(
    db: AsyncSession,
    *,
    keyring: KeyRing,
    operator_id: int,
    now: datetime,
    customer_ref: str = TEST_CUSTOMER_REF,
) -> Sample:
    """A signed test ``exclusion.created`` for the operator's webhook URL (send it after the
    session is closed: no transaction waits on the operator's endpoint).

    For ``POST /v1/webhooks/test`` with a test key: the same signing and HTTP
    code as real deliveries, but no outbox row, no retry, and a ``410`` does not
    disable the endpoint. A disabled endpoint is still tried (that is how an
    operator checks a fixed one before its URL is set again).

    Raises:
        NotFound: no such operator.
        InvalidInput: the operator has no webhook URL.
    """
    operator = await operators.get(db, operator_id)
    if not operator.webhook_url:
        raise InvalidInput("no webhook URL is set for this operator")
    secrets = await operators.signing_secrets(db, keyring=keyring, operator_id=operator_id, now=now)
    return Sample(
        url=operator.webhook_url,
        message_id="msg_test_" + uuid4().hex,
        payload=sample_payload(customer_ref=customer_ref, now=now),
        secrets=secrets,
    )
