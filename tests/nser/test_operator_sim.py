"""``nser operator-sim`` as a real process: subscribes via the API, verifies and prints webhooks."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from core import operators, outbox, periods
from core.periods import Period
from core.services import Services
from core.settings import Settings
from nser.operator_sim import ALARM_EXIT
from nser.receiver import listening_socket, serving
from nser.web import create_app
from tests.support.audit import as_superuser, sequence, write_entries
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.keys import TEST_AUDIT_VERIFIER_KEY
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


async def start_sim(api: str, key: str, secret: str, *options: str) -> asyncio.subprocess.Process:
    """``nser operator-sim`` as a real process against ``api``, stdout and stderr piped."""
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "nser", "operator-sim", "--api", api, "--key", key),
        *("--secret", secret, *options),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


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
        sim = await start_sim(
            api,
            key,
            secret,
            "--port",
            str(port),
            "--exit-after",
            "1",
            "--subscribe",
            "C-1=0712000001",
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
    # One year from the test's clock (set to today above), not a month written into the test.
    one_year = periods.ends_at(Period.ONE_YEAR, starts_at=clock.now)
    assert one_year is not None
    assert data["until"] == outbox.iso(one_year)


async def test_as_a_witness_it_keeps_growing_checkpoints_and_raises_an_alarm_on_truncation(
    settings: Settings, services: Services, clock: Clock, tmp_path: Path
) -> None:
    _, key, secret = await register(services, url=None, customers={})
    app = create_app(settings, services=services)
    kept = tmp_path / "witness"
    async with serving(app, listening_socket()) as api:
        sim = await start_sim(
            *(api, key, secret, "--port", str(free_port())),
            *("--log-key", TEST_AUDIT_VERIFIER_KEY, "--witness-dir", str(kept)),
            *("--witness-every", "0.1"),
        )
        try:
            out = Lines(sim)
            assert (await out.next()).startswith("operator-sim: receiving webhooks at ")
            assert await out.next() == "operator-sim: ready"
            await write_entries(services, 5)
            first = (await sequence(services)).size  # the operator's own entries and these
            assert await out.next() == f"witness: kept checkpoint {first}"
            await write_entries(services, 8)
            clock.advance(seconds=10)
            second = (await sequence(services)).size
            assert second == first + 8
            assert await out.next() == f"witness: checkpoint {second} consistent with {first}, kept"
            # An insider drops the newest checkpoint to hide what it covered.
            await as_superuser(settings, f"DELETE FROM audit_checkpoint WHERE tree_size = {second}")
            assert await out.next() == (
                f"WITNESS ALARM: checkpoint {first} is smaller than {second} already seen: "
                "the log was truncated"
            )
            sim.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(sim.wait(), 30) == ALARM_EXIT
        finally:
            if sim.returncode is None:
                sim.kill()
                await sim.wait()
    assert {p.name for p in kept.iterdir()} == {f"{first}.note", f"{second}.note"}
