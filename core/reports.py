"""GRAK's monthly statistics: aggregates only, never a person, as a CSV file.

A report covers one Nairobi calendar month and holds, as rows of
``section, day, group, subgroup, measure, value``:

* ``exclusions``: exclusions created per day, channel and period (``created``);
* ``screenings``: results per instrument and band (``results``);
* ``operator_usage``: per operator and day, ``lookups`` and
  ``subscription_changes`` (:class:`core.models.OperatorUsage`, :mod:`core.usage`);
* ``deliveries``: per operator, webhook deliveries written that month by their
  state now (``delivered``, ``pending``, ``failed``, ``skipped``).

Both :func:`monthly` and :func:`export` take an optional ``progress(done, total)``
callback, called after each step (a query; for an export, writing the file
too), so a screen can move a progress bar through a long export.

No identifier, reference or BST appears: every row is a count. The file goes
only to :attr:`core.settings.Settings.reports_path` under a plain name the
staff member chooses (never a path, never over an existing file), because the
back-office runs as an SSH ``ForceCommand`` and must not become a way to write
anywhere else on the server. Exporting is audited (``report.exported``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, cast, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.errors import ExportFailed, InvalidInput
from core.models import Delivery, Exclusion, Operator, OperatorUsage, Role, ScreeningResult
from core.periods import NAIROBI
from core.permissions import Principal, requires

HEADER = ("section", "day", "group", "subgroup", "measure", "value")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")

Row = tuple[str, str, str, str, str, int]

Progress = Callable[[int, int], None]
"""Called as ``progress(steps done, steps in all)`` after each step; the last has both equal."""

#: The queries :func:`monthly` runs, one step each.
MONTHLY_STEPS = 4
#: :func:`export`'s steps: the month's queries, then writing the file.
EXPORT_STEPS = MONTHLY_STEPS + 1


@dataclass(frozen=True)
class Report:
    """One month's statistics: ``rows`` in :data:`HEADER` order, sorted within each section."""

    month: date
    rows: list[Row]

    def total(self, section: str, measure: str) -> int:
        """The sum of ``measure`` over ``section`` (e.g. all exclusions created)."""
        return sum(row[5] for row in self.rows if row[0] == section and row[4] == measure)

    def csv_text(self) -> str:
        """The report as CSV (RFC 4180, ``\\r\\n`` line ends), header first."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        writer.writerows(self.rows)
        return buffer.getvalue()


def parse_month(typed: str) -> date:
    """``2026-11`` as the first day of that month.

    Raises:
        InvalidInput: not ``YYYY-MM``.
    """
    try:
        return datetime.strptime(typed.strip(), "%Y-%m").date()
    except ValueError as exc:
        raise InvalidInput("a month is written YYYY-MM, e.g. 2026-11") from exc


def report_path(directory: Path, name: str) -> Path:
    """Where a report named ``name`` goes: ``directory/name`` (``.csv`` added if missing).

    Raises:
        InvalidInput: ``name`` is not a plain file name (letters, digits, ``.``,
            ``_`` and ``-``, at most 80 characters, not starting with a dot).
    """
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise InvalidInput("a report name is letters, digits, '.', '_' and '-' only")
    return directory / (name if name.lower().endswith(".csv") else f"{name}.csv")


def write_new(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, a file that must not exist yet (its directory is made).

    Raises:
        InvalidInput: ``path`` exists already.
        ExportFailed: the directory cannot be made or written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # a file in its place: FileExistsError
    except OSError as exc:
        raise ExportFailed(f"cannot make {path.parent}: {exc.strerror}") from exc
    try:
        # O_EXCL: never over an existing file; 0o640: the service's group may read reports.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except FileExistsError as exc:
        raise InvalidInput(f"{path.name} exists already; choose another name") from exc
    except OSError as exc:
        raise ExportFailed(f"cannot write {path}: {exc.strerror}") from exc


def _stepper(progress: Progress | None, total: int) -> Callable[[], None]:
    """A function that reports one more step done out of ``total`` (nothing if no ``progress``)."""
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    return step


def _ignore(step: Callable[[], None]) -> Progress:
    """A :data:`Progress` that counts a step of an outer total, whatever the inner one says."""
    return lambda _done, _total: step()


@requires(Role.VIEWER, "report.view")
async def monthly(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    month: date,
    progress: Progress | None = None,
) -> Report:
    """The statistics of the Nairobi month starting ``month`` (four grouped queries).

    ``progress`` is called as ``progress(n, MONTHLY_STEPS)`` after the n-th query.

    Raises:
        PermissionDenied: the account may not act (audited).
    """
    first = month.replace(day=1)
    start = datetime(first.year, first.month, 1, tzinfo=NAIROBI)
    end = start + relativedelta(months=1)
    rows: list[Row] = []
    step = _stepper(progress, MONTHLY_STEPS)
    day = cast(func.timezone("Africa/Nairobi", col(Exclusion.created_at)), Date)
    created = await db.exec(
        select(day, col(Exclusion.channel), col(Exclusion.period), func.count())
        .where(col(Exclusion.created_at) >= start, col(Exclusion.created_at) < end)
        .group_by(day, col(Exclusion.channel), col(Exclusion.period))
        .order_by(day, col(Exclusion.channel), col(Exclusion.period))
    )
    rows += [("exclusions", d.isoformat(), ch, p, "created", n) for d, ch, p, n in created]
    step()
    taken = col(ScreeningResult.taken_at)
    screened = await db.exec(
        select(col(ScreeningResult.instrument), col(ScreeningResult.band), func.count())
        .where(taken >= start, taken < end)
        .group_by(col(ScreeningResult.instrument), col(ScreeningResult.band))
        .order_by(col(ScreeningResult.instrument), col(ScreeningResult.band))
    )
    rows += [("screenings", "", i, b, "results", n) for i, b, n in screened]
    step()
    usage = await db.exec(
        select(
            col(OperatorUsage.day),
            col(Operator.name),
            col(OperatorUsage.lookups),
            col(OperatorUsage.subscription_changes),
        )
        .join(Operator, col(Operator.id) == col(OperatorUsage.operator_id))
        .where(
            col(OperatorUsage.day) >= first,
            col(OperatorUsage.day) < first + relativedelta(months=1),
        )
        .order_by(col(OperatorUsage.day), col(Operator.name))
    )
    for d, name, lookups, changes in usage:
        rows.append(("operator_usage", d.isoformat(), name, "", "lookups", lookups))
        rows.append(("operator_usage", d.isoformat(), name, "", "subscription_changes", changes))
    step()
    delivered = await db.exec(
        select(col(Operator.name), col(Delivery.status), func.count())
        .select_from(Delivery)
        .join(Operator, col(Operator.id) == col(Delivery.operator_id))
        .where(col(Delivery.created_at) >= start, col(Delivery.created_at) < end)
        .group_by(col(Operator.name), col(Delivery.status))
        .order_by(col(Operator.name), col(Delivery.status))
    )
    rows += [("deliveries", "", name, "", status, n) for name, status, n in delivered]
    step()
    return Report(month=first, rows=rows)


@requires(Role.OFFICER, "report.export")
async def export(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    month: date,
    directory: Path,
    name: str,
    now: datetime,
    progress: Progress | None = None,
) -> Path:
    """Write the month's report to ``directory/name`` and audit it; returns the path.

    The directory is made if missing; an existing file is never replaced. The
    audit entry (``report.exported``) names the month, the file and the row
    count. The caller commits (the file stays even if the commit fails).
    ``progress`` is called as ``progress(n, EXPORT_STEPS)``: after each of the
    month's queries, then once the file is written.

    Raises:
        PermissionDenied: below officer (audited; nothing written).
        InvalidInput: ``name`` is not a plain file name, or the file exists.
        ExportFailed: the directory cannot be made or written.
    """
    path = report_path(directory, name)
    step = _stepper(progress, EXPORT_STEPS)
    report = await monthly(
        db, principal=principal, month=month, progress=None if progress is None else _ignore(step)
    )
    await asyncio.to_thread(write_new, path, report.csv_text())
    step()
    await audit.append(
        db,
        actor=principal.actor,
        action="report.exported",
        entity=f"report:{report.month.strftime('%Y-%m')}",
        after={
            "month": report.month.strftime("%Y-%m"),
            "file": path.name,
            "rows": len(report.rows),
        },
        occurred_at=now,
    )
    return path
