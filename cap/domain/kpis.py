"""The arithmetic of the follow-up's figures (KPIs): percentiles, shares, quarters, whether a
deadline was met, recurrence.

Pure: plain values in, plain values out; nothing here reads the clock or the database. Dates
are local dates of the buyer's calendar (the caller turns instants into them).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from cap.domain.calendar import add_months
from cap.domain.model import Action, DeadlineKind

#: How far back a finding of the same supplier and area makes a new one a recurrence.
RECURRENCE_MONTHS = 24

#: The deadlines the supplier answers, and the action that answers each.
ANSWERS: dict[DeadlineKind, Action] = {
    DeadlineKind.PLAN: Action.SUBMIT_PLAN,
    DeadlineKind.REMEDIATION: Action.REPORT_REMEDIATION,
}
#: Actions after which the supplier owes nothing any more (closed, terminated, withdrawn).
_ENDING = (Action.VERIFY.value, Action.APPROVE_TERMINATION.value, Action.WITHDRAW.value)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0-100) of ``values``; None when there are none.

    Linear interpolation between the closest ranks: sorted, the value at rank
    ``h = (n - 1) * p / 100`` (from 0), between the two values around a fractional rank. This
    is numpy's default, Excel's PERCENTILE.INC and ``statistics.quantiles(method="inclusive")``;
    the median of [10, 20, 30] is 20, its 90th percentile 28.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {p}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float | None:
    """The 50th :func:`percentile`: the middle value, or the mean of the two middle ones."""
    return percentile(values, 50)


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a fraction from 0 to 1; None for nothing out of nothing."""
    if part < 0 or whole < 0 or part > whole:
        raise ValueError(f"a share is 0 <= part <= whole, not {part} of {whole}")
    return part / whole if whole else None


# -- quarters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter (Q1 is January-March), or the part of it inside a period:
    ``first`` and ``last`` are the days counted, both included."""

    label: str  # "2026-Q1"
    first: date
    last: date


def quarter_label(day: date) -> str:
    """The quarter ``day`` falls in: 2026-02-14 -> "2026-Q1"."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarters(start: date, end: date) -> tuple[Quarter, ...]:
    """The quarters from ``start`` to ``end`` (both included), the first and last cut to the
    period; none when ``start`` is after ``end``."""
    found: list[Quarter] = []
    first = start
    while first <= end:
        number = (first.month - 1) // 3 + 1
        if number == 4:
            last = date(first.year, 12, 31)
        else:
            last = date(first.year, number * 3 + 1, 1) - timedelta(days=1)
        found.append(Quarter(f"{first.year}-Q{number}", first, min(last, end)))
        if last >= end:
            break
        first = last + timedelta(days=1)
    return tuple(found)


# -- deadlines met -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailEvent:
    """An event of a finding's audit trail as the figures read it: its local date, its kind
    (an action's value, or another event's name) and the deadlines it set."""

    on: date
    kind: str
    deadlines: tuple[tuple[DeadlineKind, date], ...] = ()


@dataclass(frozen=True)
class DeadlineOutcome:
    """A deadline of the supplier's that fell due, or will: ``met`` True when the answer came
    on or before ``due``, False when it came later or not at all by the end of that day, None
    while it still runs (not answered, its day not over)."""

    kind: DeadlineKind
    due: date
    met: bool | None
    answered_on: date | None


@dataclass(frozen=True)
class Course:
    """How one finding went, as the figures count it: when it was notified, its plan
    accepted and it was closed (local dates, the first of each), and its deadlines."""

    notified_on: date | None
    accepted_on: date | None
    closed_on: date | None
    deadlines: tuple[DeadlineOutcome, ...]


def course(events: Iterable[TrailEvent], today: date) -> Course:
    """Read a finding's trail (in the order recorded) as of ``today``.

    A deadline is one date set for the plan or the remediation (by the notification, a
    rejected plan's revision, an extension, rules applied again), and is counted once:

    - the first answer after it was set decides it: a plan submitted / a remediation reported
      on or before its date (the local date of the action's ``at``) meets it, later misses it;
    - unanswered, it is missed once its day is over: at the first event on a later day, or
      when ``today`` is later;
    - replaced by a new date of the same kind before either (an extension, a new revision
      date), it never fell due and is not counted; replaced after its day was over unanswered,
      it was missed and the new date is a deadline of its own;
    - the finding closed, terminated or withdrawn before its day: not counted;
    - a remediation reported in time and sent back (reject-remediation) stays met: the
      verification, not the deadline, judges the fix.
    """
    notified = accepted = closed = None
    running: dict[DeadlineKind, date] = {}  # set, not yet decided
    outcomes: list[DeadlineOutcome] = []
    for event in events:
        for kind, due in list(running.items()):
            if event.kind == ANSWERS[kind].value:
                outcomes.append(DeadlineOutcome(kind, due, event.on <= due, event.on))
                del running[kind]
            elif event.on > due:
                outcomes.append(DeadlineOutcome(kind, due, False, None))
                del running[kind]
        for kind, due in event.deadlines:
            if kind in ANSWERS:
                running[kind] = due  # a date still running is replaced: it never fell due
        if event.kind in _ENDING:
            running.clear()
        if event.kind == Action.NOTIFY.value and notified is None:
            notified = event.on
        elif event.kind == Action.ACCEPT_PLAN.value and accepted is None:
            accepted = event.on
        elif event.kind == Action.VERIFY.value and closed is None:
            closed = event.on
    for kind, due in running.items():
        outcomes.append(DeadlineOutcome(kind, due, False if due < today else None, None))
    return Course(notified, accepted, closed, tuple(outcomes))


# -- recurrence --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Logged:
    """A finding as recurrence reads it: ``key`` names it, ``group`` is its supplier and
    area, ``found_on`` the day it was found."""

    key: Hashable
    group: Hashable
    found_on: date


def recurring(
    subjects: Iterable[Logged], history: Iterable[Logged], *, months: int = RECURRENCE_MONTHS
) -> list[Logged]:
    """The ``subjects`` whose group has a finding in ``history`` found in the ``months``
    before it: on or after the same day ``months`` calendar months earlier (clamped to the
    month's end, as deadlines are) and strictly before its own day, so findings of the same
    day (one audit) do not make each other recurrences. ``history`` may hold the subjects."""
    found: dict[Hashable, list[date]] = defaultdict(list)
    for item in history:
        found[item.group].append(item.found_on)
    for days in found.values():
        days.sort()
    result = []
    for subject in subjects:
        days = found.get(subject.group, [])
        since = add_months(subject.found_on, -months)
        if bisect.bisect_left(days, since) < bisect.bisect_left(days, subject.found_on):
            result.append(subject)
    return result
