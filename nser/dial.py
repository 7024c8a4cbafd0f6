"""``nser dial``: a terminal phone that speaks Africa's Talking's USSD protocol.

It posts form-encoded callbacks exactly as the gateway does (``sessionId``,
``serviceCode``, ``phoneNumber``, ``networkCode``, ``text`` growing with
``*``), prints each screen and reads the next input. Ctrl-D or Ctrl-C hangs up
and sends an end-of-session notification with status ``Incomplete``, so a
redial within a few minutes shows the resume offer.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable

import httpx


def dial(
    *,
    url: str,
    phone: str,
    code: str,
    network: str,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> int:
    """Run one USSD session against ``url``; returns an exit code.

    ``url`` is the web app (``http://127.0.0.1:8000``) or its callback URL
    (``http://127.0.0.1:8000/ussd``, as ``nser serve`` prints it).
    """
    session_id = f"ATUid_dial_{uuid.uuid4().hex[:16]}"
    inputs: list[str] = []
    base = url.rstrip("/").removesuffix("/ussd")
    with httpx.Client(timeout=15) as client:
        while True:
            form = {
                "sessionId": session_id,
                "serviceCode": code,
                "phoneNumber": phone,
                "networkCode": network,
                "text": "*".join(inputs),
            }
            response = client.post(f"{base}/ussd", data=form)
            if response.status_code != 200:
                write(f"[HTTP {response.status_code}] {response.text.strip()}")
                return 1
            kind, _, screen = response.text.partition(" ")
            write(screen)
            if kind == "END":
                return 0
            try:
                inputs.append(read("> ").strip())
            except (EOFError, KeyboardInterrupt):
                write("[hung up]")
                client.post(
                    f"{base}/ussd/events",
                    data={
                        "sessionId": session_id,
                        "serviceCode": code,
                        "phoneNumber": phone,
                        "networkCode": network,
                        "status": "Incomplete",
                        "input": "*".join(inputs),
                        "hopsCount": str(len(inputs) + 1),
                    },
                )
                return 0


def main_dial(url: str, phone: str, code: str, network: str) -> int:
    """Entry point used by the CLI; connection errors become a one-line message."""
    try:
        return dial(url=url, phone=phone, code=code, network=network)
    except httpx.HTTPError as exc:
        print(f"cannot reach {url}: {exc}", file=sys.stderr)
        return 1
