"""A handset talking to the USSD callback exactly as Africa's Talking relays it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx


@dataclass
class Phone:
    """A handset in one USSD session: ``await phone.screen("2*1")`` posts one step."""

    client: httpx.AsyncClient
    number: str = "+254712345678"
    session_id: str = field(default_factory=lambda: f"ATUid_{uuid.uuid4().hex}")
    service_code: str = "*384*7#"
    network_code: str = "63902"
    path: str = "/ussd"

    async def post(self, text: str) -> httpx.Response:
        """POST one step with the session's full ``text``."""
        return await self.client.post(
            self.path,
            data={
                "sessionId": self.session_id,
                "serviceCode": self.service_code,
                "phoneNumber": self.number,
                "networkCode": self.network_code,
                "text": text,
            },
        )

    async def screen(self, text: str) -> str:
        """POST one step and return the whole ``CON …``/``END …`` answer."""
        response = await self.post(text)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return response.text

    def redial(self) -> Phone:
        """The same handset in a new session."""
        return Phone(self.client, self.number, service_code=self.service_code, path=self.path)
