"""Figures of how the follow-up works (KPIs), for `cap report` and the desk.

One read transaction, a fixed number of statements whatever the number of findings: the
overdue and quarterly counts are aggregates in SQL; the figures that need a finding's history
(days to an accepted plan and to closure, deadlines met) read the events that matter in one
statement streamed in finding order; recurrence reads the findings' supplier, area and date
in two. The arithmetic is :mod:`cap.domain.kpis`'s.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from cap.domain import kpis
from cap.domain.calendar import BusinessCalendar, add_months
from cap.domain.kpis import Course, TrailEvent
from cap.domain.model import Action, Area, DeadlineKind, Severity, State
from cap.errors import InvalidInput
from cap.store.models import Event, Finding, Supplier
from cap.workflow.base import UseCases

#: The events a finding's course is read from: what sets a deadline of the supplier's,
#: answers one, accepts the plan or ends the finding. ("rules_reapplied" moves deadlines.)
_COURSE_KINDS = (
    *(
        a.value
        for a in (
            Action.NOTIFY,
            Action.SUBMIT_PLAN,
            Action.ACCEPT_PLAN,
            Action.REJECT_PLAN,
            Action.REPORT_REMEDIATION,
            Action.REJECT_REMEDIATION,
            Action.VERIFY,
            Action.EXTEND,
            Action.APPROVE_TERMINATION,
            Action.WITHDRAW,
        )
    ),
    "rules_reapplied",
)
#: Rows fetched at a time from the streamed statements.
_BATCH = 2_000
#: Days are given to a tenth, shares to a hundredth of a per cent.
_DAY_DIGITS = 1
_SHARE_DIGITS = 4


@dataclass(frozen=True)
class Durations:
    """Whole calendar days (local dates) from a finding's notification to an event, over the
    ``count`` findings for which that event fell in the period: their median and 90th
    percentile (:func:`cap.domain.kpis.percentile`), None without findings."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class DeadlineShare:
    """The supplier's ``deadline``s that fell due in the period: ``met`` and ``missed``
    (:func:`cap.domain.kpis.course` says which), ``share`` = met / (met + missed), None when
    none was decided; ``pending`` fall due in the period but their day is not over yet."""

    deadline: DeadlineKind
    met: int
    missed: int
    pending: int
    share: float | None


@dataclass(frozen=True)
class SupplierOverdue:
    supplier: str
    org_number: str
    overdue: int


@dataclass(frozen=True)
class AreaOverdue:
    area: Area
    overdue: int


@dataclass(frozen=True)
class QuarterFigures:
    """Findings logged (by when they were logged) from ``first`` to ``last``: the quarter
    ``quarter``, cut to the period. Every area and severity is there, zeros included."""

    quarter: str
    first: date
    last: date
    logged: int
    by_area: Mapping[Area, int]
    by_severity: Mapping[Severity, int]


@dataclass(frozen=True)
class RecurrenceLine:
    """A supplier and area with findings logged in the period that are recurrences
    (``refs``, found on the dates they were found), out of ``logged`` findings of theirs."""

    supplier: str
    org_number: str
    area: Area
    logged: int
    recurring: int
    refs: tuple[str, ...]


@dataclass(frozen=True)
class Recurrence:
    """Findings logged in the period (withdrawn ones left out) whose supplier and area had
    another finding found in the two years before it (:func:`cap.domain.kpis.recurring`)."""

    logged: int
    recurring: int
    share: float | None
    lines: tuple[RecurrenceLine, ...]  # the most recurrences first


@dataclass(frozen=True)
class KpiReport:
    """The figures of the period from ``start`` to ``end`` (local dates, both included) in
    the buyer's ``timezone``, as they stand on ``as_of`` (the local date of ``now``)."""

    start: date
    end: date
    as_of: date
    timezone: str
    to_plan_accepted: Durations
    to_closure: Durations
    deadlines: tuple[DeadlineShare, ...]  # the plan's, then the remediation's
    overdue: int  # open findings past a deadline in force, now
    overdue_by_supplier: tuple[SupplierOverdue, ...]  # the most first
    overdue_by_area: tuple[AreaOverdue, ...]  # the most first
    quarters: tuple[QuarterFigures, ...]
    recurrence: Recurrence


class Reports(UseCases):
    def kpi_report(self, start: date, end: date, *, now: datetime) -> KpiReport:
        """The KPIs of the period from ``start`` to ``end`` (local dates, both included), as
        things stand at ``now``, in one read transaction.

        - days from the notification to the accepted plan, over findings whose plan was
          accepted in the period; to closure (verified, closed) over those closed in it;
        - deadlines of the plan and of the remediation that fell due in the period, met or
          not (:func:`cap.domain.kpis.course`);
        - findings overdue now (a deadline in force whose day is over), by supplier and area;
        - findings logged per quarter of the period, by area and by severity;
        - recurrence among the findings logged in the period.

        ``end`` may lie ahead (the quarter under way): the figures are those known at
        ``now``. InvalidInput naming ``from`` or ``to`` for a period that ends before it
        starts, starts after today, or lies outside the years the calendar covers.
        """
        calendar = self.settings.calendar
        today = calendar.local_date(now)
        _check_period(calendar, start, end, today)
        since, until = _bounds(calendar, start, end)
        with self.db.read() as session:
            courses = _courses(session, calendar, until, now, today)
            to_accepted, to_closed, deadlines = _from_courses(courses, start, end)
            overdue, by_supplier, by_area = _overdue(session, today)
            return KpiReport(
                start=start,
                end=end,
                as_of=today,
                timezone=calendar.timezone,
                to_plan_accepted=to_accepted,
                to_closure=to_closed,
                deadlines=deadlines,
                overdue=overdue,
                overdue_by_supplier=by_supplier,
                overdue_by_area=by_area,
                quarters=_quarters(session, calendar, start, end),
                recurrence=_recurrence(session, since, until),
            )


def _check_period(calendar: BusinessCalendar, start: date, end: date, today: date) -> None:
    calendar.check_covered(start, "from")
    calendar.check_covered(end, "to")
    if start > end:
        raise InvalidInput(
            f"from: {start.isoformat()} is after to ({end.isoformat()}); "
            "the period runs from --from to --to"
        )
    if start > today:
        raise InvalidInput(
            f"from: {start.isoformat()} is after today ({today.isoformat()}); "
            "nothing has happened in that period yet"
        )


def _bounds(calendar: BusinessCalendar, start: date, end: date) -> tuple[datetime, datetime]:
    """The instants the period begins and ends: local midnights, in UTC."""
    return calendar.end_of_day(start - timedelta(days=1)), calendar.end_of_day(end)


# -- what needs a finding's history ------------------------------------------------------------


def _courses(
    session: Session, calendar: BusinessCalendar, until: datetime, now: datetime, today: date
) -> Iterator[Course]:
    """The course of every finding notified before the period ended, as of ``now``: one
    statement, its rows streamed in finding order (one finding's events in memory at once)."""
    notified = select(col(Finding.id)).where(col(Finding.notified_at) < until)
    query = (
        # The deadlines alone, not the whole data (the emails an action queued...): decoding
        # JSON is most of the cost of reading the events.
        select(col(Event.finding_id), col(Event.at), col(Event.kind), col(Event.data)["deadlines"])
        .where(
            col(Event.kind).in_(_COURSE_KINDS),
            col(Event.at) <= now,
            col(Event.finding_id).in_(notified),
        )
        .order_by(col(Event.finding_id), col(Event.id))
        .execution_options(yield_per=_BATCH)
    )
    rows = session.execute(query)
    for _, events in itertools.groupby(rows, key=lambda row: row[0]):
        yield kpis.course(
            (
                TrailEvent(calendar.local_date(at), kind, _deadlines(recorded))
                for _, at, kind, recorded in events
            ),
            today,
        )


def _deadlines(
    recorded: Sequence[Mapping[str, Any]] | None,
) -> tuple[tuple[DeadlineKind, date], ...]:
    """The deadlines an event set, as its data records them (``deadlines``: kind and new date)."""
    return tuple(
        (DeadlineKind(item["deadline"]), date.fromisoformat(item["new"])) for item in recorded or ()
    )


def _from_courses(
    courses: Iterator[Course], start: date, end: date
) -> tuple[Durations, Durations, tuple[DeadlineShare, ...]]:
    to_accepted: list[float] = []
    to_closed: list[float] = []
    tally: Counter[tuple[DeadlineKind, bool | None]] = Counter()
    for c in courses:
        if c.notified_on is not None:
            if c.accepted_on is not None and start <= c.accepted_on <= end:
                to_accepted.append((c.accepted_on - c.notified_on).days)
            if c.closed_on is not None and start <= c.closed_on <= end:
                to_closed.append((c.closed_on - c.notified_on).days)
        tally.update((d.kind, d.met) for d in c.deadlines if start <= d.due <= end)
    shares = tuple(
        DeadlineShare(
            deadline=kind,
            met=tally[kind, True],
            missed=tally[kind, False],
            pending=tally[kind, None],
            share=_rounded(kpis.share(tally[kind, True], tally[kind, True] + tally[kind, False])),
        )
        for kind in kpis.ANSWERS
    )
    return _durations(to_accepted), _durations(to_closed), shares


def _durations(days: list[float]) -> Durations:
    median, p90 = kpis.median(days), kpis.percentile(days, 90)
    return Durations(
        count=len(days),
        median=None if median is None else round(median, _DAY_DIGITS),
        p90=None if p90 is None else round(p90, _DAY_DIGITS),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, _SHARE_DIGITS)


# -- aggregates --------------------------------------------------------------------------------


def _overdue(
    session: Session, today: date
) -> tuple[int, tuple[SupplierOverdue, ...], tuple[AreaOverdue, ...]]:
    """Findings whose deadline in force (``due_order``, kept with every write) is before
    ``today``: a range of its index, counted per supplier and per area."""
    late = col(Finding.due_order) < today
    count = func.count()
    per_supplier = session.execute(
        select(col(Supplier.name), col(Supplier.org_number), count)
        .join(Finding, col(Finding.supplier_id) == col(Supplier.id))
        .where(late)
        .group_by(col(Supplier.id), col(Supplier.name), col(Supplier.org_number))
        .order_by(count.desc(), col(Supplier.name), col(Supplier.org_number))
    ).all()
    per_area = session.execute(
        select(col(Finding.area), count).where(late).group_by(col(Finding.area))
    ).all()
    areas = sorted(((Area(a), int(n)) for a, n in per_area), key=lambda x: (-x[1], x[0].value))
    return (
        sum(n for _, n in areas),
        tuple(SupplierOverdue(name, org, int(n)) for name, org, n in per_supplier),
        tuple(AreaOverdue(a, n) for a, n in areas),
    )


def _quarters(
    session: Session, calendar: BusinessCalendar, start: date, end: date
) -> tuple[QuarterFigures, ...]:
    """Findings logged per quarter, area and severity: one statement over a range of the
    ``created_at`` index, each finding put in its quarter by comparing with the quarters'
    local midnights."""
    spans = kpis.quarters(start, end)
    ends = [calendar.end_of_day(q.last) for q in spans]
    created = col(Finding.created_at)
    which = case(*((created < bound, i) for i, bound in enumerate(ends)), else_=len(ends))
    rows = session.execute(
        select(which, col(Finding.area), col(Finding.severity), func.count())
        .where(created >= calendar.end_of_day(start - timedelta(days=1)), created < ends[-1])
        .group_by(which, col(Finding.area), col(Finding.severity))
    ).all()
    areas: dict[int, dict[Area, int]] = defaultdict(lambda: dict.fromkeys(Area, 0))
    severities: dict[int, dict[Severity, int]] = defaultdict(lambda: dict.fromkeys(Severity, 0))
    for i, area, severity, n in rows:
        areas[i][Area(area)] += int(n)
        severities[i][Severity(severity)] += int(n)
    return tuple(
        QuarterFigures(
            quarter=q.label,
            first=q.first,
            last=q.last,
            logged=sum(areas[i].values()),
            by_area=areas[i],
            by_severity=severities[i],
        )
        for i, q in enumerate(spans)
    )


def _recurrence(session: Session, since: datetime, until: datetime) -> Recurrence:
    """Recurrence among the findings logged from ``since`` to ``until``: those, then every
    finding found in the two years before the earliest of them up to the latest."""
    kept = col(Finding.state) != State.WITHDRAWN
    logged = session.execute(
        select(
            col(Finding.ref), col(Finding.supplier_id), col(Finding.area), col(Finding.found_on)
        ).where(col(Finding.created_at) >= since, col(Finding.created_at) < until, kept)
    ).all()
    if not logged:
        return Recurrence(0, 0, None, ())
    subjects = [kpis.Logged(ref, (s, Area(a)), on) for ref, s, a, on in logged]
    earliest = add_months(min(s.found_on for s in subjects), -kpis.RECURRENCE_MONTHS)
    latest = max(s.found_on for s in subjects)
    history = session.execute(
        select(col(Finding.supplier_id), col(Finding.area), col(Finding.found_on))
        .where(col(Finding.found_on) >= earliest, col(Finding.found_on) < latest, kept)
        .execution_options(yield_per=_BATCH)
    )
    found = kpis.recurring(subjects, (kpis.Logged(None, (s, Area(a)), on) for s, a, on in history))
    per_group: dict[Any, int] = defaultdict(int)
    for s in subjects:
        per_group[s.group] += 1
    refs: dict[Any, list[str]] = defaultdict(list)
    for s in found:
        refs[s.group].append(str(s.key))
    names = (
        {}
        if not refs
        else {
            i: (name, org)
            for i, name, org in session.execute(
                select(col(Supplier.id), col(Supplier.name), col(Supplier.org_number)).where(
                    col(Supplier.id).in_({supplier for supplier, _ in refs})
                )
            ).all()
        }
    )
    lines = sorted(
        (
            RecurrenceLine(
                supplier=names[supplier][0],
                org_number=names[supplier][1],
                area=area,
                logged=per_group[(supplier, area)],
                recurring=len(group_refs),
                refs=tuple(sorted(group_refs)),
            )
            for (supplier, area), group_refs in refs.items()
        ),
        key=lambda line: (-line.recurring, line.supplier, line.org_number, line.area.value),
    )
    return Recurrence(
        logged=len(subjects),
        recurring=len(found),
        share=_rounded(kpis.share(len(found), len(subjects))),
        lines=tuple(lines),
    )
