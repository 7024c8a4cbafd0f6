"""The operator benchmark's results and the tables it prints, each against its target."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench import wrk
from bench.bulk import BulkRun
from bench.freshness import Lags
from bench.loader import Loaded
from bench.lookups import BatchRun

RATIO_TARGET, RATIO_GOAL, P99_TARGET_MS = 0.5, 0.7, 20.0
SIZE_RATIO_TARGET = 1.5
BATCH_TARGET_MS = 100.0
FRESH_TARGET_MS = 1000.0
BULK_TARGET_S = 600.0


@dataclass
class Lookups:
    """wrk runs of one register size: (anchor, nser) pairs; ``share`` = excluded among bodies."""

    subjects: int
    share: float
    runs: list[tuple[wrk.WrkResult, wrk.WrkResult]] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """nser req/s over anchor req/s, per run."""
        return [b.rps / a.rps if a.rps else 0.0 for a, b in self.runs]

    @property
    def p50(self) -> float:
        """Median over runs of nser's p50, ms."""
        return statistics.median(b.p50_ms for _, b in self.runs)

    @property
    def clean(self) -> bool:
        """Every answer of every run correct."""
        return all(a.clean and b.clean for a, b in self.runs)


@dataclass
class Outcome:
    """Everything measured; :attr:`correct` is the exit status's question."""

    loads: list[Loaded] = field(default_factory=list)
    lookups: list[Lookups] = field(default_factory=list)
    sample_wrong: list[str] = field(default_factory=list)
    batch: BatchRun | None = None
    lags: Lags | None = None
    bulk: BulkRun | None = None
    bulk_rows: int = 0

    @property
    def correct(self) -> bool:
        """Every answer checked was right (whether or not the targets were met)."""
        return (
            all(m.clean for m in self.lookups)
            and not self.sample_wrong
            and not (self.batch and self.batch.wrong)
            and not (self.lags and self.lags.failures)
            and not (self.bulk and self.bulk.wrong)
        )


def print_loads(loads: list[Loaded]) -> None:
    """How long loading took."""
    print("\n== data load (COPY, subjects + exclusions + events, sealed and blind-indexed)")
    for lo in loads:
        print(
            f"subjects {lo.start:>9,} .. {lo.stop:>9,}: {lo.seconds:6.1f} s "
            f"({lo.rate:,.0f} subjects/s, {lo.processes} processes)"
        )
    total = sum(lo.seconds for lo in loads)
    count = sum(lo.stop - lo.start for lo in loads)
    print(f"total {count:,} subjects in {total:.1f} s")


def _pair(r: wrk.WrkResult) -> str:
    return f"{r.p50_ms:.2f} / {r.p99_ms:.2f}"


def print_lookups(measured: list[Lookups], duration: int) -> None:
    """The lookup table against the anchor, the answers' check, and the register-size effect."""
    print(
        f"\n== lookups: wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{duration}s --latency, "
        "POST /v1/lookups (anchor: bare Starlette JSON POST, same uvicorn settings)"
    )
    print(
        f"{'subjects':>10}{'run':>4}{'anchor req/s':>13}{'anchor p50/p99 ms':>19}"
        f"{'nser req/s':>11}{'nser p50/p99 ms':>17}{'ratio':>7}  result"
    )
    for m in measured:
        for n, (a, b) in enumerate(m.runs):
            ratio = m.ratios[n]
            verdict = (
                "goal met" if ratio >= RATIO_GOAL else "met" if ratio >= RATIO_TARGET else "MISSED"
            )
            verdict = f"ratio {verdict}, p99 {'ok' if b.p99_ms <= P99_TARGET_MS else 'MISSED'}"
            if not (a.clean and b.clean):
                verdict = "INVALID (bad answers)"
            print(
                f"{m.subjects:>10,}{n + 1:>4}{a.rps:>13.0f}{_pair(a):>19}"
                f"{b.rps:>11.0f}{_pair(b):>17}{ratio:>7.2f}  {verdict}"
            )
    print(
        f"targets: ratio >= {RATIO_TARGET} (goal {RATIO_GOAL}), nser p99 <= {P99_TARGET_MS:.0f} ms"
    )
    print("\n-- answers (nser: each checked against its request's expected standing)")
    print(
        f"{'run':<22}{'requests':>9}{'non-2xx':>8}{'correct':>9}{'wrong':>7}{'sock.err':>9}{'excluded':>10}"
    )
    for m in measured:
        for n, (a, b) in enumerate(m.runs):
            for r in (a, b):
                label = f"{m.subjects:,} #{n + 1} {r.target}"
                excl = r.extra.get("excluded", 0) / r.requests * 100 if r.requests else 0.0
                print(
                    f"{label:<22}{r.requests:>9}{r.non2xx:>8}{r.expected:>9}{r.other:>7}"
                    f"{sum(r.socket_errors.values()):>9}{excl:>9.1f}%"
                )
        print(f"{'':<22}(bodies of {m.subjects:,}: {m.share * 100:.1f} % expected excluded)")
    for m in measured:
        spread = f"{min(m.ratios):.2f}..{max(m.ratios):.2f}" if m.runs else "-"
        print(f"ratio spread with {m.subjects:,} subjects: {spread}")
    if len(measured) == 2 and measured[0].runs and measured[1].runs:
        small, full = measured
        ratio = full.p50 / small.p50 if small.p50 else 0.0
        met = "met" if ratio <= SIZE_RATIO_TARGET else "MISSED"
        print(
            f"p50 with {full.subjects:,} / with {small.subjects:,} subjects: "
            f"{full.p50:.2f} / {small.p50:.2f} ms = {ratio:.2f} "
            f"(target <= {SIZE_RATIO_TARGET}) {met}"
        )


def print_sample(wrong: list[str], count: int = 500) -> None:
    """The exact check of single lookups."""
    print(f"\n== sample: {count} single lookups checked exactly (BST included): {len(wrong)} wrong")
    for line in wrong[:10]:
        print(f"  {line}")


def print_batch(run: BatchRun) -> None:
    """Batch latency against its target."""
    met = "met" if run.p99 <= BATCH_TARGET_MS else "MISSED"
    print(
        f"\n== batch of {run.size:,}: {len(run.latencies)} calls one at a time, "
        f"p50 {run.p50:.1f} ms, p99 {run.p99:.1f} ms (target <= {BATCH_TARGET_MS:.0f} ms) {met}; "
        f"{run.excluded} excluded items, {len(run.wrong)} wrong answers"
    )
    for line in run.wrong[:10]:
        print(f"  {line}")


def print_freshness(lags: Lags) -> None:
    """Freshness lag per web process against its target."""
    print("\n== freshness: committed exclusion -> lookup says excluded (web processes under load)")
    for name, values in lags.by_server.items():
        print(
            f"{name:<12} rounds {len(values):>3}  p50 {lags.p(name, 50):7.1f} ms  "
            f"p99 {lags.p(name, 99):7.1f} ms  max {max(values, default=0) * 1000:7.1f} ms"
        )
    met = "met" if lags.worst_ms <= FRESH_TARGET_MS else "MISSED"
    print(
        f"worst {lags.worst_ms:.1f} ms (target <= {FRESH_TARGET_MS:.0f} ms on every process) {met}"
    )
    for line in lags.failures[:10]:
        print(f"  {line}")


def print_bulk(run: BulkRun, rows: int, total: int) -> None:
    """The bulk subscription load against its target."""
    met = "met" if run.seconds < BULK_TARGET_S and rows == total else "MISSED"
    print(
        f"\n== bulk subscriptions: {run.customers:,} customers in {len(run.latencies)} calls "
        f"in {run.seconds:.1f} s ({run.calls_per_second:.2f} calls/s, "
        f"{run.customers / run.seconds if run.seconds else 0:,.0f} customers/s); call p50 "
        f"{run.p(50):.2f} s, p99 {run.p(99):.2f} s; {run.excluded:,} flagged excluded; "
        f"{rows:,} rows held (target < {BULK_TARGET_S:.0f} s for {total:,}) {met}"
    )
    if run.retries:
        print(f"  {len(run.retries)} calls answered 503 and sent again, e.g. {run.retries[0]}")
    for line in run.wrong[:10]:
        print(f"  {line}")
