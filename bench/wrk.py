"""Open-loop-ish throughput with ``wrk``: one USSD step per request, many connections.

``wrk -t2 -c64 -d<D>s --latency`` drives ``POST /ussd`` with a Lua script per
scenario (form fields exactly as Africa's Talking posts them):

- ``menu``: ``text=2`` (language chosen, main menu shown), one fixed session
  and phone number (+254700000001) for every request; a ``CON`` answer is expected;
- ``exclusion``: ``text=2*1*2*1`` (English, exclude, one year, confirm) with a
  new ``sessionId`` (``ATUid_wrk_<thread>_<n>``) and a new phone number on
  every request: ``+2547`` then ``2 + thread`` then the 7-digit counter
  (+25472…, +25473… with two threads: never a number of the think-time run,
  which uses +25471…); an ``END Done`` answer is expected;
- ``sms`` (``POST /sms/inbound``, :mod:`bench.sms`): one MO per request, ``text=HALI``,
  a new message ``id`` (``ATXid_wrk_<run>_<thread>_<n>``) and sender (+25474…, +25475…)
  each time; ``OK`` expected.

The script's ``response`` hook sorts every answer (non-2xx, expected body,
other body) and its ``done`` hook prints them with wrk's socket errors on one
``NSER-BENCH`` line; requests/s and the 50 %/99 % latencies are parsed from
wrk's own report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

WRK = "/usr/bin/wrk"
THREADS = 2
CONNECTIONS = 64

_LUA = r"""
-- NSER bench: scenario %(scenario)s
%(setup)s
n, non2xx, expected, other = 0, 0, 0, 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local function form(session, phone, text)
  return "sessionId=" .. session .. "&serviceCode=%%2A384%%2A7%%23&phoneNumber=%%2B" .. phone
    .. "&networkCode=63902&text=" .. text
end

if "%(scenario)s" == "menu" then
  wrk.body = form("ATUid_wrk_menu", "254700000001", "2")
elseif "%(scenario)s" == "sms" then
  local run = string.format("%%x", os.time())  -- each run's message ids are new
  function request()
    n = n + 1
    local phone = string.format("2547%%d%%07d", 4 + id, n %% 10000000)
    return wrk.format(nil, nil, nil, string.format(
      "from=%%%%2B%%s&to=40400&text=HALI&date=2026-11-21+12%%%%3A00%%%%3A00"
        .. "&id=ATXid_wrk_%%s_%%d_%%d&linkId=link_%%d_%%d&networkCode=63902",
      phone, run, id, n, id, n))
  end
else
  function request()
    n = n + 1
    local session = string.format("ATUid_wrk_%%d_%%d", id, n)
    local phone = string.format("2547%%d%%07d", 2 + id, n %% 10000000)
    return wrk.format(nil, nil, nil, form(session, phone, "2%%2A1%%2A2%%2A1"))
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif string.sub(body, 1, %(prefix_len)d) == "%(prefix)s" then
    expected = expected + 1
  else
    other = other + 1
  end
end

%(done)s
"""

#: Lua: every thread numbered from 0 in its global ``id`` and kept for the ``done`` hook.
LUA_SETUP = r"""local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
"""

_LUA_DONE = r"""function done(summary, latency, requests)
  local totals = {%(zeros)s}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
  end
  local e = summary.errors
  local line = string.format("NSER-BENCH requests=%%d connect=%%d read=%%d write=%%d timeout=%%d",
    summary.requests, e.connect, e.read, e.write, e.timeout)
  for key, value in pairs(totals) do
    line = line .. string.format(" %%s=%%d", key, value)
  end
  io.write(line .. "\n")
end
"""


def lua_done(counters: tuple[str, ...] = ("non2xx", "expected", "other")) -> str:
    """Lua ``done`` hook: one ``NSER-BENCH`` line with wrk's request count and socket
    errors and each of ``counters`` (global numbers of every thread) summed."""
    return _LUA_DONE % {"zeros": ", ".join(f"{c} = 0" for c in counters)}


#: Scenario name -> the answer prefix every request must get.
EXPECTED = {"menu": "CON ", "exclusion": "END Done", "sms": "OK"}

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


_SOCKET = ("connect", "read", "write", "timeout")
_STANDARD = frozenset({"requests", "non2xx", "expected", "other", *_SOCKET})


class WrkError(Exception):
    """wrk is missing, failed, or printed something unparseable."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput, latency (ms) and how every answer was sorted."""

    target: str
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    expected: int
    other: int
    socket_errors: dict[str, int]
    #: Any further counters of the ``NSER-BENCH`` line (e.g. ``excluded`` answers).
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """Every answer 2xx with the expected body and no socket error."""
        return not (self.non2xx or self.other or any(self.socket_errors.values()))


def available() -> bool:
    """True when :data:`WRK` can be run."""
    return Path(WRK).is_file() and shutil.which(WRK) is not None


def write_script(scenario: str, run_dir: Path) -> Path:
    """The Lua script of ``scenario`` (``menu`` or ``exclusion``), written in ``run_dir``."""
    prefix = EXPECTED[scenario]
    path = run_dir / f"wrk_{scenario}.lua"
    values = {"scenario": scenario, "prefix": prefix, "prefix_len": len(prefix)}
    values.update(setup=LUA_SETUP, done=lua_done())
    path.write_text(_LUA % values)
    return path


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse(output: str, target: str, scenario: str) -> WrkResult:
    """Read requests/s, p50 and p99 and the ``NSER-BENCH`` counters from wrk's output.

    Raises:
        WrkError: a line is missing.
    """
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    counts = re.search(r"^NSER-BENCH (.*)$", output, re.M)
    if not (rps and p50 and p99 and counts):
        raise WrkError(f"unparseable wrk output:\n{output}")
    c = {k: int(v) for k, v in (kv.split("=") for kv in counts.group(1).split())}
    return WrkResult(
        target=target,
        scenario=scenario,
        rps=float(rps.group(1)),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        requests=c["requests"],
        non2xx=c["non2xx"],
        expected=c["expected"],
        other=c["other"],
        socket_errors={k: c[k] for k in _SOCKET},
        extra={k: v for k, v in c.items() if k not in _STANDARD},
    )


def start(
    url: str,
    script: Path,
    *,
    duration: int,
    path: str = "/ussd",
    threads: int = THREADS,
    connections: int = CONNECTIONS,
) -> subprocess.Popen[str]:
    """Start ``wrk --latency`` on ``url`` + ``path`` for ``duration`` s; see :func:`wait`."""
    argv = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(script),
        f"{url}{path}",
    ]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def wait(
    proc: subprocess.Popen[str], *, target: str, scenario: str, duration: int, log_path: Path
) -> WrkResult:
    """Wait for a wrk started by :func:`start`; its output is also saved in ``log_path``.

    Raises:
        WrkError: wrk failed, hung past ``duration`` + 30 s, or printed something unparseable.
    """
    try:
        output, _ = proc.communicate(timeout=duration + 30)
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish within {duration + 30} s") from exc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    log_path.write_text(output)
    if proc.returncode != 0:
        raise WrkError(f"wrk exited with {proc.returncode}:\n{output}")
    return parse(output, target, scenario)


def run(
    url: str,
    script: Path,
    *,
    target: str,
    scenario: str,
    duration: int,
    log_path: Path,
    path: str = "/ussd",
    threads: int = THREADS,
    connections: int = CONNECTIONS,
) -> WrkResult:
    """Run wrk for ``duration`` s on ``url`` + ``path`` and parse its report (see :func:`wait`).

    Raises:
        WrkError: see :func:`wait`.
    """
    proc = start(
        url, script, duration=duration, path=path, threads=threads, connections=connections
    )
    return wait(proc, target=target, scenario=scenario, duration=duration, log_path=log_path)
