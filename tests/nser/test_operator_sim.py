"""``nser operator-sim`` as a real process: subscribes via the API, verifies and prints webhooks."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from core import operators
from core.services import Services
from core.settings import Settings
from nser.receiver import listening_socket, serving
from nser.web import create_app
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.phone import Phone
from tests.support.ports import free_port
from tests.support.push import register, run_burst


class Lines:
    """The simulator's stdout, one line at a time, each awaited for at most 30 s."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        self.stream = process.stdout

    async def next(self) -> str:
        raw = await asyncio.wait_for(self.stream.readline(), 30)
        assert raw, "operator-sim exited early"
        return raw.decode().rstrip("\n")


async def test_subscribe_reject_a_forgery_then_print_a_verified_exclusion_and_exit(
    settings: Settings,
    services: Services,
    clock: Clock,
    phone: Callable[..., Phone],
    rows: RowFetcher,
) -> None:
    clock.now = datetime.now(UTC)  # the simulator checks webhook timestamps against real time
    port = free_port()
    hook = f"http://127.0.0.1:{port}/webhooks"
    _, key, secret = await register(services, url=hook, customers={})
    app = create_app(settings, services=services)
    async with serving(app, listening_socket()) as api:
        sim = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "nser", "operator-sim", "--api", api, "--key", key),
            *("--secret", secret, "--port", str(port), "--exit-after", "1"),
            *("--subscribe", "C-1=0712000001"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        try:
            out = Lines(sim)
            assert await out.next() == f"operator-sim: receiving webhooks at {hook}"
            assert await out.next() == "subscribed C-1: not excluded"
            assert await out.next() == "operator-sim: ready"

            forged = '{"type":"exclusion.created"}'
            signed_at = datetime.now(UTC)
            signature = Webhook(operators.new_webhook_secret()).sign(
                "msg_forged", signed_at, forged
            )
            headers = {
                "webhook-id": "msg_forged",
                "webhook-timestamp": str(int(signed_at.timestamp())),
                "webhook-signature": signature,
            }
            async with httpx.AsyncClient(timeout=10) as http:
                refused = await http.post(hook, content=forged, headers=headers)
            assert refused.status_code == 401
            assert await out.next() == (
                "REJECTED webhook-id=msg_forged (No matching signature found)"
            )

            handset = phone("+254712000001")
            for step in ("", "2", "2*1", "2*1*2"):
                await handset.screen(step)
            assert (await handset.screen("2*1*2*1")).startswith("END ")
            await run_burst(settings, services)

            [delivery] = await rows("webhook_delivery")
            data = delivery["payload"]["data"]
            assert await out.next() == (
                f"verified exclusion.created webhook-id={delivery['message_id']} "
                f"customer_ref=C-1 bst={data['bst']} until={data['until']} event_id=1"
            )
            assert await asyncio.wait_for(sim.wait(), 30) == 0
        finally:
            if sim.returncode is None:
                sim.kill()
                await sim.wait()
    assert data["until"].startswith("2027-11-")
