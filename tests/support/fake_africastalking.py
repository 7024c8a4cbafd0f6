"""A fake Africa's Talking SMS API: a real HTTP server on 127.0.0.1, in a thread.

It answers ``POST /version1/messaging`` as the documented API does (HTTP 201,
``application/json``, ``SMSMessageData.Recipients`` with a ``statusCode`` and
``status`` per recipient), and records every request. A test scripts the
answer per recipient number with :meth:`FakeAfricasTalking.answer`: a
recipient status (``UserInBlacklist``, ``InvalidPhoneNumber``,
``InsufficientBalance``, …) inside a 201, or a bare HTTP error status.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

#: Documented per-recipient status codes.
CODES = {
    "Success": 101,
    "RiskHold": 401,
    "InvalidSenderId": 402,
    "InvalidPhoneNumber": 403,
    "UnsupportedNumberType": 404,
    "InsufficientBalance": 405,
    "UserInBlacklist": 406,
    "CouldNotRoute": 407,
    "InternalServerError": 500,
}


@dataclass
class Request:
    """One request the fake received: path, headers (lower-case names), form fields, and when.

    ``received_at`` is ``time.monotonic()`` when its body was read (benchmarks use it).
    """

    path: str
    headers: dict[str, str]
    form: dict[str, str]
    received_at: float = 0.0


@dataclass
class FakeAfricasTalking:
    """The server's state: scripted answers by number, and the requests received."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    scripts: dict[str, list[str | int]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def answer(self, number: str, *outcomes: str | int) -> None:
        """Answer the next sends to ``number`` with ``outcomes`` in turn (status or HTTP code).

        After the script runs out, sends succeed.
        """
        self.scripts.setdefault(number, []).extend(outcomes)

    def next_outcome(self, number: str) -> str | int:
        script = self.scripts.get(number)
        return script.pop(0) if script else "Success"

    def recipient(self, number: str, status: str) -> dict[str, object]:
        code = CODES[status]
        accepted = code < 200
        return {
            "statusCode": code,
            "number": number,
            "status": status,
            "cost": "KES 0.8000" if accepted else "0",
            "messageId": f"ATXid_fake_{next(self._ids)}" if accepted else "None",
        }


def _handler(fake: FakeAfricasTalking) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test reads fake.requests

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            form = {key: values[0] for key, values in parse_qs(raw).items()}
            headers = {key.lower(): value for key, value in self.headers.items()}
            fake.requests.append(Request(self.path, headers, form, time.monotonic()))
            if self.path != "/version1/messaging":
                self._reply(404, b"not found", "text/plain")
                return
            number = form.get("to", "")
            outcome = fake.next_outcome(number)
            if isinstance(outcome, int):
                self._reply(outcome, b"The service is unavailable", "text/plain")
                return
            recipients = [fake.recipient(number, outcome)]
            sent = sum(1 for r in recipients if int(str(r["statusCode"])) < 200)
            body = {
                "SMSMessageData": {
                    "Message": f"Sent to {sent}/1 Total Cost: KES 0.8000",
                    "Recipients": recipients,
                }
            }
            self._reply(201, json.dumps(body).encode(), "application/json")

    return Handler


@contextmanager
def fake_africastalking() -> Iterator[FakeAfricasTalking]:
    """Serve a :class:`FakeAfricasTalking` on a free port of 127.0.0.1 for the block."""
    fake = FakeAfricasTalking()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
