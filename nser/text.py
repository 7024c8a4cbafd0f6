"""``nser text``: send an SMS to the service exactly as Africa's Talking relays it.

It posts the MO callback (``from``, ``to``, ``text``, ``date``, ``id``,
``linkId``, ``networkCode``, form-encoded) to ``/sms/inbound`` with a fresh
message id. The reply is an MT message: with the console gateway (the
default) it appears in the server's log as ``SMS to <masked number>: …``.
Without a message argument, each line typed is sent as one SMS until Ctrl-D.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx


def mo_form(*, phone: str, to: str, network: str, body: str) -> dict[str, str]:
    """The form of one MO callback with a fresh ``ATXid_text_…`` id."""
    message_id = f"ATXid_text_{uuid.uuid4().hex[:16]}"
    return {
        "from": phone,
        "to": to,
        "text": body,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "id": message_id,
        "linkId": f"link_{message_id}",
        "networkCode": network,
    }


def text(
    *,
    url: str,
    phone: str,
    to: str,
    network: str,
    bodies: list[str] | None,
    client: httpx.Client,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> int:
    """Post each of ``bodies`` (or each line read) as an MO to ``url``; returns an exit code."""
    base = url.rstrip("/").removesuffix("/sms/inbound")
    pending = list(bodies) if bodies is not None else None
    while True:
        if pending is not None:
            if not pending:
                return 0
            body = pending.pop(0)
        else:
            try:
                body = read("sms> ")
            except (EOFError, KeyboardInterrupt):
                return 0
        form = mo_form(phone=phone, to=to, network=network, body=body)
        response = client.post(f"{base}/sms/inbound", data=form)
        if response.status_code != 200:
            write(f"[HTTP {response.status_code}] {response.text.strip()}")
            return 1
        write(f"sent {form['id']}: the reply follows by SMS (console gateway: the server's log)")


def main_text(url: str, phone: str, to: str, network: str, body: str | None) -> int:
    """Entry point used by the CLI; connection errors become a one-line message."""
    try:
        with httpx.Client(timeout=15) as client:
            return text(
                url=url,
                phone=phone,
                to=to,
                network=network,
                bodies=None if body is None else [body],
                client=client,
            )
    except httpx.HTTPError as exc:
        print(f"cannot reach {url}: {exc}", file=sys.stderr)
        return 1
