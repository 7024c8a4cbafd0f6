"""A handset texting the SMS shortcode exactly as Africa's Talking relays it, and its inbox."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text

from core.services import Services
from core.subjects import MSISDN_FIELD

_IDS = itertools.count(1)


@dataclass
class Texter:
    """``await texter.send("JIZUIE 1Y")`` posts one MO; ``await texter.inbox()`` reads its SMS."""

    client: httpx.AsyncClient
    services: Services
    number: str = "+254712345678"
    shortcode: str = "40400"
    path: str = "/sms/inbound"
    sent: list[str] = field(default_factory=list)

    async def post(
        self, body: str, *, message_id: str | None = None, link_id: str | None = None
    ) -> httpx.Response:
        """POST one MO (a fresh gateway id unless given); returns the HTTP answer.

        ``link_id`` is posted as ``linkId`` (a premium or on-demand service's MO);
        without it the field is empty, as on a standard shortcode.
        """
        gateway_id = message_id or f"ATXid_{next(_IDS):08d}"
        self.sent.append(gateway_id)
        return await self.client.post(
            self.path,
            data={
                "from": self.number,
                "to": self.shortcode,
                "text": body,
                "date": "2026-11-21 12:00:00",
                "id": gateway_id,
                "linkId": link_id or "",
                "networkCode": "63902",
            },
        )

    async def send(
        self, body: str, *, message_id: str | None = None, link_id: str | None = None
    ) -> None:
        """POST one MO and check the gateway got ``200 OK``."""
        response = await self.post(body, message_id=message_id, link_id=link_id)
        assert (response.status_code, response.text) == (200, "OK"), response.text

    async def inbox(self) -> list[str]:
        """Bodies of every SMS written to this number, oldest first (any status)."""
        bidx = self.services.keyring.blind_index(self.number, field=MSISDN_FIELD)
        async with self.services.engine.connect() as conn:
            result = await conn.execute(
                text("SELECT body, template FROM sms_message WHERE msisdn_bidx = :b ORDER BY id"),
                {"b": bidx},
            )
            return [row.body or f"<{row.template}>" for row in result]
