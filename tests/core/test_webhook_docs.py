"""The verification snippet of docs/operators.md works on what NSER really sends."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import operators, webhooks

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operators.md"


def snippet() -> str:
    """The Python block under '### Verifying (Python)'."""
    section = GUIDE.read_text().split("### Verifying (Python)", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def test_the_documented_handler_accepts_a_delivery_once_and_refuses_a_forgery() -> None:
    secret = operators.new_webhook_secret()
    payload = webhooks.sample_payload(customer_ref="cust-42", now=datetime.now(UTC))
    body = webhooks.body(payload)
    signed = webhooks.headers(
        message_id="msg_doc", body=body, secrets=[secret], at=datetime.now(UTC)
    )
    seen: set[str] = set()
    blocked: list[tuple[str, Any]] = []
    namespace: dict[str, Any] = {
        "already_processed": seen.__contains__,
        "remember": seen.add,
        "block_customer": lambda ref, until: blocked.append((ref, until)),
    }
    exec(snippet().replace('"whsec_..."', repr(secret)), namespace)
    handle = namespace["handle"]

    assert handle(body.encode(), signed) == 204
    assert handle(body.encode(), signed) == 204  # the retry is recognised, not handled twice
    assert blocked == [("cust-42", payload["data"]["until"])]
    forged = dict(signed, **{"webhook-signature": "v1,AAAA"})
    assert handle(body.encode(), forged) == 401
