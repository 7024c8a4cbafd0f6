"""Operator lookups under load: request bodies, the wrk script, and exact answer checks.

**Bodies** (:func:`write_bodies`): one ``POST /v1/lookups`` body per line,
``{"msisdn": …}``, drawn at random: 70 % any loaded subject, 15 % a subject with
an exclusion in force, 15 % a stranger the register has never seen; one in five
numbers in national form (``0712 345678``), the rest E.164. Each line starts
with the answer expected (``1`` excluded, ``0`` not) and a tab.

**wrk** (:func:`write_script`): each thread reads the file once, then sends
random lines (a sequence of its own in every run, seeded by the clock) with
``Authorization: Bearer <key>`` and ``X-Request-Id: e<expected>-<n>``. The
API echoes the request id, so the ``response`` hook can check every answer
against its own request: ``{"excluded":true,…`` for ``e1``, exactly
``{"excluded":false}`` for ``e0``. Against the anchor (``strict`` off)
any ``{"excluded":`` answer counts. The ``done`` hook prints the usual
``NSER-BENCH`` line (:mod:`bench.wrk`) plus how many answers said excluded.

**Checks** (:func:`verify_sample`, :func:`batch_latency`): single and batch
lookups through httpx, each answer compared with :mod:`bench.population`,
including the BST of an excluded person.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import population as pop
from bench import wrk
from bench.think import percentile

_LUA = r"""
-- NSER bench: operator lookups, strict=%(strict)s
%(setup)s
n, non2xx, expected, other, excluded = 0, 0, 0, 0, 0
local bodies, wants = {}, {}
local strict = %(strict)s

function init(args)
  for line in io.lines("%(bodies)s") do
    table.insert(wants, string.sub(line, 1, 1))
    table.insert(bodies, string.sub(line, 3))
  end
  -- A new sequence each run: with a fixed seed every run repeated the first one's numbers,
  -- all then already in nser's parse cache (core.identity), which no real traffic gives.
  math.randomseed(os.time() * 16 + id)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"

function request()
  n = n + 1
  local k = math.random(#bodies)
  wrk.headers["X-Request-Id"] = "e" .. wants[k] .. "-" .. id .. "-" .. n
  return wrk.format(nil, nil, nil, bodies[k])
end

function response(status, headers, body)
  if status ~= 200 then
    non2xx = non2xx + 1
    return
  end
  local yes = string.sub(body, 1, 16) == '{"excluded":true'
  if yes then excluded = excluded + 1 end
  if not strict then
    if string.sub(body, 1, 12) == '{"excluded":' then expected = expected + 1
    else other = other + 1 end
    return
  end
  local want = string.sub(headers["x-request-id"] or "", 2, 2)
  if (want == "1" and yes) or (want == "0" and body == '{"excluded":false}') then
    expected = expected + 1
  else
    other = other + 1
  end
end

%(done)s
"""


COUNTERS = ("non2xx", "expected", "other", "excluded")


@dataclass(frozen=True)
class Pick:
    """One person to look up: population index, the spelling sent, the answer expected."""

    i: int
    msisdn: str
    excluded: bool


def pick(rng: random.Random, subjects: int) -> Pick:
    """A random lookup of the mix described in the module docstring."""
    roll = rng.random()
    if roll < 0.15:
        i = pop.STRANGERS + rng.randrange(10_000_000)
    elif roll < 0.30:
        i = rng.randrange(subjects)
        while not pop.excluded(i, subjects):
            i = rng.randrange(subjects)
    else:
        i = rng.randrange(subjects)
    number = pop.msisdn(i)
    spelled = pop.national_form(number) if rng.random() < 0.2 else number
    return Pick(i, spelled, pop.excluded(i, subjects))


def write_bodies(path: Path, subjects: int, count: int, seed: int = 7) -> float:
    """Write ``count`` lookup bodies to ``path``; returns the share expected to be excluded."""
    rng = random.Random(seed)
    picks = [pick(rng, subjects) for _ in range(count)]
    with open(path, "w") as out:
        for p in picks:
            out.write(f"{int(p.excluded)}\t{json.dumps({'msisdn': p.msisdn})}\n")
    return sum(p.excluded for p in picks) / count


def write_script(run_dir: Path, name: str, bodies: Path, key: str, *, strict: bool) -> Path:
    """The wrk Lua script for ``bodies`` with API key ``key`` (see the module docstring)."""
    path = run_dir / f"wrk_{name}.lua"
    values = {"bodies": bodies, "key": key, "strict": "true" if strict else "false"}
    values.update(setup=wrk.LUA_SETUP, done=wrk.lua_done(COUNTERS))
    path.write_text(_LUA % values)
    return path


def _agrees(answer: dict[str, object], p: Pick) -> bool:
    if not p.excluded:
        return answer == {"excluded": False}
    return answer.get("excluded") is True and answer.get("bst") == pop.bst(p.i)


def verify_sample(url: str, key: str, subjects: int, count: int = 500) -> list[str]:
    """Look ``count`` random people up one by one; the disagreements (empty = all correct)."""
    rng = random.Random(11)
    wrong = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        for _ in range(count):
            p = pick(rng, subjects)
            answer = client.post("/v1/lookups", json={"msisdn": p.msisdn})
            if answer.status_code != 200 or not _agrees(answer.json(), p):
                wrong.append(f"{p.msisdn}: {answer.status_code} {answer.text[:80]}")
    return wrong


@dataclass
class BatchRun:
    """Sequential batch calls: latencies (ms) and the items whose answer was wrong."""

    size: int
    latencies: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    excluded: int = 0

    @property
    def p50(self) -> float:
        """Median call time, ms."""
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        """99th percentile call time, ms."""
        return percentile(self.latencies, 99)


def batch_latency(
    url: str, key: str, subjects: int, calls: int = 100, size: int = 1000
) -> BatchRun:
    """``calls`` batches of ``size`` (after 5 warm-up calls), one at a time, every item checked."""
    rng = random.Random(13)
    run = BatchRun(size)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for n in range(calls + 5):
            picks = [pick(rng, subjects) for _ in range(size)]
            items = [{"id": str(k), "msisdn": p.msisdn} for k, p in enumerate(picks)]
            body = json.dumps({"items": items}).encode()
            began = time.perf_counter()
            answer = client.post("/v1/lookups/batch", content=body)
            elapsed = (time.perf_counter() - began) * 1000
            if n < 5:
                continue
            run.latencies.append(elapsed)
            if answer.status_code != 200:
                run.wrong.append(f"batch {n}: {answer.status_code} {answer.text[:120]}")
                continue
            got = answer.json()["items"]
            for k, p in enumerate(picks):
                item = dict(got[k])
                if item.pop("id") != str(k) or not _agrees(item, p):
                    run.wrong.append(f"batch {n} item {k}: {got[k]}")
            run.excluded += sum(p.excluded for p in picks)
    return run
