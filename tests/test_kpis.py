"""The arithmetic of the KPIs, with figures worked out by hand."""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from cap.domain.kpis import (
    Course,
    DeadlineOutcome,
    Logged,
    Quarter,
    TrailEvent,
    course,
    median,
    percentile,
    quarter_label,
    quarters,
    recurring,
    share,
)
from cap.domain.model import DeadlineKind

PLAN = DeadlineKind.PLAN
FIX = DeadlineKind.REMEDIATION


def d(iso: str) -> date:
    return date.fromisoformat(iso)


# -- percentiles and shares --------------------------------------------------------------------


def test_it_takes_the_middle_value_or_the_mean_of_the_two_middle_ones() -> None:
    assert median([3, 5, 10]) == 5
    assert median([10, 3, 5]) == 5  # order does not matter
    assert median([10, 20, 30]) == 20
    assert median([1, 2, 3, 4]) == 2.5
    assert median([7]) == 7
    assert median([]) is None


def test_it_interpolates_the_90th_percentile_between_ranks() -> None:
    # rank (3 - 1) * 0.9 = 1.8: 20 + 0.8 * (30 - 20)
    assert percentile([10, 20, 30], 90) == pytest.approx(28)
    # rank 9 * 0.9 = 8.1: 9 + 0.1 * (10 - 9)
    assert percentile(list(range(1, 11)), 90) == pytest.approx(9.1)
    assert percentile([4], 90) == 4
    assert percentile([3, 5, 10], 0) == 3
    assert percentile([3, 5, 10], 100) == 10
    assert percentile([], 90) is None


def test_its_percentiles_are_those_of_statistics_inclusive_method() -> None:
    days = [2, 9, 14, 15, 21, 30, 31, 45, 60, 91, 120]
    deciles = statistics.quantiles(days, n=10, method="inclusive")
    assert percentile(days, 90) == pytest.approx(deciles[8])
    assert percentile(days, 50) == pytest.approx(statistics.median(days))


def test_it_refuses_a_percentile_outside_0_to_100() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1, 2], 101)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1, 2], -1)


def test_it_gives_shares_as_fractions_and_none_for_nothing() -> None:
    assert share(2, 3) == pytest.approx(0.6667, abs=1e-4)
    assert share(0, 4) == 0
    assert share(4, 4) == 1
    assert share(0, 0) is None
    with pytest.raises(ValueError):
        share(5, 4)


# -- quarters ----------------------------------------------------------------------------------


def test_it_labels_quarters_by_calendar_months() -> None:
    assert quarter_label(d("2026-01-01")) == "2026-Q1"
    assert quarter_label(d("2026-03-31")) == "2026-Q1"
    assert quarter_label(d("2026-04-01")) == "2026-Q2"
    assert quarter_label(d("2026-09-30")) == "2026-Q3"
    assert quarter_label(d("2026-12-31")) == "2026-Q4"


def test_it_cuts_the_first_and_last_quarter_to_the_period() -> None:
    assert quarters(d("2025-11-15"), d("2026-04-10")) == (
        Quarter("2025-Q4", d("2025-11-15"), d("2025-12-31")),
        Quarter("2026-Q1", d("2026-01-01"), d("2026-03-31")),
        Quarter("2026-Q2", d("2026-04-01"), d("2026-04-10")),
    )
    assert quarters(d("2026-01-01"), d("2026-12-31")) == (
        Quarter("2026-Q1", d("2026-01-01"), d("2026-03-31")),
        Quarter("2026-Q2", d("2026-04-01"), d("2026-06-30")),
        Quarter("2026-Q3", d("2026-07-01"), d("2026-09-30")),
        Quarter("2026-Q4", d("2026-10-01"), d("2026-12-31")),
    )
    assert quarters(d("2026-05-05"), d("2026-05-05")) == (
        Quarter("2026-Q2", d("2026-05-05"), d("2026-05-05")),
    )
    assert quarters(d("2026-05-06"), d("2026-05-05")) == ()


# -- deadlines met -----------------------------------------------------------------------------


def notify(on: str) -> TrailEvent:
    """A notification on ``on`` with a plan due 30 days and a fix 181 days later (any dates
    would do: the trail carries them)."""
    day = d(on)
    return TrailEvent(day, "notify", ((PLAN, d("2026-02-02")), (FIX, d("2026-07-01"))))


def event(on: str, kind: str, *deadlines: tuple[DeadlineKind, str]) -> TrailEvent:
    return TrailEvent(d(on), kind, tuple((k, d(due)) for k, due in deadlines))


def test_an_answer_on_the_due_day_meets_it_and_a_day_later_misses_it() -> None:
    on_time = course(
        [notify("2026-01-02"), event("2026-02-02", "submit_plan")], today=d("2026-03-01")
    )
    late = course([notify("2026-01-02"), event("2026-02-03", "submit_plan")], today=d("2026-03-01"))
    assert on_time.deadlines[0] == DeadlineOutcome(PLAN, d("2026-02-02"), True, d("2026-02-02"))
    assert late.deadlines[0] == DeadlineOutcome(PLAN, d("2026-02-02"), False, d("2026-02-03"))


def test_an_unanswered_deadline_is_missed_once_its_day_is_over_and_runs_until_then() -> None:
    trail = [notify("2026-01-02")]
    assert course(trail, today=d("2026-02-02")).deadlines == (
        DeadlineOutcome(PLAN, d("2026-02-02"), None, None),
        DeadlineOutcome(FIX, d("2026-07-01"), None, None),
    )
    assert course(trail, today=d("2026-02-03")).deadlines[0] == DeadlineOutcome(
        PLAN, d("2026-02-02"), False, None
    )


def test_an_extension_before_the_day_replaces_the_deadline_after_it_adds_one() -> None:
    before = [
        notify("2026-01-02"),
        event("2026-01-30", "extend", (PLAN, "2026-02-16")),
        event("2026-02-10", "submit_plan"),
    ]
    plans = [o for o in course(before, today=d("2026-03-01")).deadlines if o.kind is PLAN]
    assert plans == [DeadlineOutcome(PLAN, d("2026-02-16"), True, d("2026-02-10"))]

    after = [
        notify("2026-01-02"),
        event("2026-02-05", "extend", (PLAN, "2026-02-16")),
        event("2026-02-20", "submit_plan"),
    ]
    plans = [o for o in course(after, today=d("2026-03-01")).deadlines if o.kind is PLAN]
    assert plans == [
        DeadlineOutcome(PLAN, d("2026-02-02"), False, None),
        DeadlineOutcome(PLAN, d("2026-02-16"), False, d("2026-02-20")),
    ]


def test_a_rejected_plan_keeps_the_first_deadline_met_and_starts_a_revision_deadline() -> None:
    trail = [
        notify("2026-01-02"),
        event("2026-01-20", "submit_plan"),
        event("2026-01-25", "reject_plan", (PLAN, "2026-02-09")),
        event("2026-02-12", "submit_plan"),
        event("2026-02-13", "accept_plan"),
    ]
    plans = [o for o in course(trail, today=d("2026-03-01")).deadlines if o.kind is PLAN]
    assert plans == [
        DeadlineOutcome(PLAN, d("2026-02-02"), True, d("2026-01-20")),
        DeadlineOutcome(PLAN, d("2026-02-09"), False, d("2026-02-12")),
    ]


def test_a_fix_reported_in_time_and_sent_back_stays_met() -> None:
    trail = [
        notify("2026-01-02"),
        event("2026-01-20", "submit_plan"),
        event("2026-01-21", "accept_plan"),
        event("2026-06-01", "report_remediation"),
        event("2026-06-10", "reject_remediation"),
        event("2026-08-01", "report_remediation"),
        event("2026-08-05", "verify"),
    ]
    result = course(trail, today=d("2026-09-01"))
    assert result == Course(
        notified_on=d("2026-01-02"),
        accepted_on=d("2026-01-21"),
        closed_on=d("2026-08-05"),
        deadlines=(
            DeadlineOutcome(PLAN, d("2026-02-02"), True, d("2026-01-20")),
            DeadlineOutcome(FIX, d("2026-07-01"), True, d("2026-06-01")),
        ),
    )


def test_a_finding_withdrawn_before_its_deadlines_counts_none_of_them() -> None:
    trail = [notify("2026-01-02"), event("2026-01-10", "withdraw")]
    assert course(trail, today=d("2026-12-01")).deadlines == ()
    late = [notify("2026-01-02"), event("2026-02-10", "withdraw")]
    assert course(late, today=d("2026-12-01")).deadlines == (
        DeadlineOutcome(PLAN, d("2026-02-02"), False, None),
    )


def test_rules_applied_again_move_a_running_deadline_like_an_extension() -> None:
    trail = [
        notify("2026-01-02"),
        event("2026-01-15", "rules_reapplied", (PLAN, "2026-01-30")),
        event("2026-02-01", "submit_plan"),
    ]
    assert course(trail, today=d("2026-03-01")).deadlines[0] == DeadlineOutcome(
        PLAN, d("2026-01-30"), False, d("2026-02-01")
    )


# -- recurrence --------------------------------------------------------------------------------


def test_a_finding_recurs_when_its_group_had_one_in_the_two_years_before() -> None:
    history = [
        Logged("old", "acme/wages", d("2024-03-01")),
        Logged("too-old", "delta/wages", d("2024-03-01")),
        Logged("same-day", "acme/hours", d("2026-03-01")),
        Logged("other", "beta/wages", d("2026-01-01")),
    ]
    subjects = [
        Logged("exactly-2y", "acme/wages", d("2026-03-01")),  # 2024-03-01 is in the window
        Logged("2y-and-a-day", "delta/wages", d("2026-03-02")),
        Logged("same-day-2", "acme/hours", d("2026-03-01")),  # the same audit: no recurrence
        Logged("other-supplier", "gamma/wages", d("2026-03-01")),
    ]
    found = recurring(subjects, [*history, *subjects])
    assert [s.key for s in found] == ["exactly-2y"]


def test_recurrence_counts_earlier_subjects_and_clamps_to_the_month_end() -> None:
    first = Logged("first", "acme/wages", d("2026-01-10"))
    second = Logged("second", "acme/wages", d("2026-02-10"))
    leap = Logged("leap", "beta/wages", d("2028-02-29"))
    before_leap = Logged("before", "beta/wages", d("2026-02-28"))  # 24 months back, clamped
    found = recurring([first, second, leap], [first, second, leap, before_leap])
    assert [s.key for s in found] == ["second", "leap"]
