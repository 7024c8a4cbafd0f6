"""The audit log as operators witness it: checkpoints and proofs over the API."""

from __future__ import annotations

import base64

import httpx

from core.audit import proofs
from core.services import Services
from tests.api.conftest import Registered
from tests.support import rfc9162
from tests.support.audit import sequence, write_entries
from tests.support.clock import Clock


def _size_and_root(note: str) -> tuple[int, bytes]:
    """A C2SP checkpoint's tree size and root hash (lines 2 and 3 of its body)."""
    _origin, size, root = note.split("\n")[:3]
    return int(size), base64.b64decode(root)


async def test_a_witness_sees_the_log_grow_consistently(
    client: httpx.AsyncClient, operator: Registered, services: Services, clock: Clock
) -> None:
    none_yet = await client.get("/v1/audit/checkpoint", headers=operator.auth)
    assert none_yet.status_code == 404
    await write_entries(services, 5)
    await sequence(services)
    first = await client.get("/v1/audit/checkpoint", headers=operator.auth)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/plain")
    assert "\n\n\u2014 " in first.text  # a signed note: body, blank line, signature lines
    await write_entries(services, 8)
    clock.advance(seconds=10)
    await sequence(services)
    second = (await client.get("/v1/audit/checkpoint", headers=operator.auth)).text
    (n, old_root), (m, new_root) = _size_and_root(first.text), _size_and_root(second)
    assert n < m
    answer = await client.get(
        f"/v1/audit/proofs/consistency?first={n}&second={m}", headers=operator.auth
    )
    assert answer.status_code == 200
    path = [base64.b64decode(h) for h in answer.json()["proof"]]
    assert rfc9162.verify_consistency(n, m, old_root, new_root, path)
    assert not rfc9162.verify_consistency(n, m, new_root, old_root, path)
    inclusion = await client.get(
        f"/v1/audit/proofs/inclusion?index=3&size={m}", headers=operator.auth
    )
    async with services.db() as db:
        expected = await proofs.inclusion_proof(db, index=3, size=m)
    assert inclusion.json() == {
        "index": 3,
        "size": m,
        "proof": [base64.b64encode(h).decode() for h in expected],
    }


async def test_proofs_out_of_range_or_malformed_are_422(
    client: httpx.AsyncClient, operator: Registered, services: Services
) -> None:
    await write_entries(services, 3)
    await sequence(services)
    for query in (
        "proofs/consistency?first=2&second=99",
        "proofs/consistency?first=3&second=2",
        "proofs/inclusion?index=3&size=3",
        "proofs/inclusion?index=-1&size=3",
        "proofs/inclusion?index=x",
    ):
        response = await client.get(f"/v1/audit/{query}", headers=operator.auth)
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/audit/checkpoint")).status_code == 401
