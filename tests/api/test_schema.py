"""The OpenAPI document is accurate, and no input answers 5xx: schemathesis over a real process.

``nser web`` runs as a real process on the suite's database and Redis; an operator
is registered through ``nser operator add --json`` (the CLI's contract), and
schemathesis generates requests for every operation of ``/v1/openapi.json``,
checking each answer's status, content type and body against the document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.keys import TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY
from tests.support.ports import free_port


def _environment(database_url: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        NSER_ENV="test",
        NSER_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        NSER_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
        NSER_INDEX_KEY=TEST_INDEX_KEY,
        NSER_API_RATE="100000",
        NSER_LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture(scope="module")
def live_api(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """``(base URL, live API key)`` of a real ``nser web`` process."""
    data_dir = tmp_path_factory.mktemp("schema")
    env = _environment(database_url, redis_url, data_dir)
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "nser",
            "operator",
            "add",
            "Schema Bets",
            "--licence",
            f"GRAK-S{time.monotonic_ns()}",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key = json.loads(added.stdout)["api_key"]
    port = free_port()
    log = (data_dir / "web.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "nser", "web", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (data_dir / "web.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "nser web did not start"
            time.sleep(0.1)
        yield url, key
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert b"Traceback" not in (data_dir / "web.log").read_bytes()


def test_every_operation_answers_as_documented(live_api: tuple[str, str]) -> None:
    url, key = live_api
    schema = schemathesis.openapi.from_url(f"{url}/v1/openapi.json")
    headers = {"Authorization": f"Bearer {key}"}
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == 11  # with POST /v1/webhooks/test

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: schemathesis.Case[Any]) -> None:
            # A schema cannot say which digit strings are real Kenyan mobiles (libphonenumber
            # can): a well-formed but unallocated number is rightly a 422.
            case.call_and_validate(
                base_url=url,
                headers=headers,
                timeout=10,
                excluded_checks=[positive_data_acceptance],
            )

        answers_as_documented()
