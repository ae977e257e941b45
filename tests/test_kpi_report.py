"""The KPI report over a known history, built through the workflow's actions at given
instants (both databases); every figure below is worked out by hand in the comments.

The buyer's calendar is Stockholm's (UTC+1 in winter, +2 in summer), with the shipped rules:
a major finding's plan is due a month after notification, its fix six months after, both
rolled forward off weekends and holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from cap.domain.inputs import PlanAction, PlanInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Area, DeadlineKind, Severity
from cap.errors import InvalidInput
from cap.workflow import Workflow, to_json
from cap.workflow.reports import (
    AreaOverdue,
    DeadlineShare,
    Durations,
    KpiReport,
    RecurrenceLine,
    SupplierOverdue,
)
from tests.conftest import ANNA, LI, World
from tests.web.test_web_dashboard import another_supplier

PLAN = PlanInput(
    root_cause="Peak-season orders accepted beyond line capacity.",
    actions=[PlanAction(description="Cap overtime", owner="Plant manager", due=date(2026, 9, 1))],
)

#: Monday 5 January 2026, 10:00 in Stockholm.
NOTIFIED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: Monday 30 March 2026, 12:00 in Stockholm: the plan deadline of E is today.
MARCH_30 = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
#: Saturday 1 August 2026: after the fixes fell due (Monday 6 July).
AUGUST_1 = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)


def at(iso: str) -> datetime:
    """Noon in Stockholm (11:00 UTC in winter) on ``iso``, or ``iso`` itself with a time."""
    if "T" in iso:
        return datetime.fromisoformat(iso)
    return datetime.fromisoformat(f"{iso}T11:00:00+00:00")


def act(world: World, ref: str, action: Action, when: datetime, **kw: object) -> None:
    actor = LI if action in (Action.SUBMIT_PLAN, Action.REPORT_REMEDIATION) else ANNA
    request = ActionRequest(action=action, actor=actor, at=when, **kw)  # type: ignore[arg-type]
    plan = PLAN if action is Action.SUBMIT_PLAN else None
    world.workflow.act(ref, request, now=when, plan=plan, view=False)


@dataclass(frozen=True)
class Refs:
    a: str
    b: str
    c: str
    d: str
    e: str
    f: str
    g: str
    h: str
    i: str
    j: str


def history(world: World) -> Refs:
    """Ten findings of two suppliers (Nordic IT Supply AB, Beta AB), all major but one."""
    beta = another_supplier(world, "Beta AB", "556300-0001")

    def log(on: World, logged: datetime, found: str, area: Area = Area.WORKING_HOURS,
            severity: Severity = Severity.MAJOR) -> str:  # fmt: skip
        return on.finding(
            severity=severity, area=area, found_on=date.fromisoformat(found), now=logged
        )

    december = at("2025-12-20")
    # Found the same day, logged before the period (2025-Q4), notified on 5 January: plans
    # due Thursday 5 February, fixes due Monday 6 July (5 July is a Sunday).
    a, b, c, d, g = (log(world, december, "2025-12-01") for _ in range(5))
    h = log(beta, december, "2025-12-01", Area.WAGES)
    # Logged in 2026-Q1: e and f recur (their supplier and area had a finding on 2025-12-01).
    e = log(world, at("2026-02-20"), "2026-02-15")
    f = log(beta, at("2026-02-20"), "2026-02-15", Area.WAGES)
    # 00:30 on 1 January in Stockholm (23:30 UTC on New Year's Eve): logged in 2026-Q1. Its
    # area's only other finding, j, was found more than two years before it: no recurrence.
    i = log(world, at("2025-12-31T23:30:00+00:00"), "2025-12-31", Area.HEALTH_AND_SAFETY,
            Severity.CRITICAL)  # fmt: skip
    j = log(world, at("2025-11-10"), "2023-06-01", Area.HEALTH_AND_SAFETY)

    for ref in (a, b, c, d, g, h):
        act(world, ref, Action.NOTIFY, NOTIFIED)
    # Plans accepted 10, 20 and 30 days after the notification. b's at 00:30 local time on
    # 25 January, still 24 January in UTC: 20 days by the buyer's calendar, not 19.
    act(world, a, Action.SUBMIT_PLAN, at("2026-01-10"))
    act(world, a, Action.ACCEPT_PLAN, at("2026-01-15"))
    act(world, b, Action.SUBMIT_PLAN, at("2026-01-20"))
    act(world, b, Action.ACCEPT_PLAN, at("2026-01-24T23:30:00+00:00"))
    act(world, c, Action.SUBMIT_PLAN, at("2026-02-03"))
    act(world, c, Action.ACCEPT_PLAN, at("2026-02-04"))
    # g's plan deadline is extended before it falls due, and met: one deadline, met.
    act(world, g, Action.EXTEND, at("2026-02-02"), until=date(2026, 2, 20), reason="Audit")
    act(world, g, Action.SUBMIT_PLAN, at("2026-02-18"))
    act(world, g, Action.ACCEPT_PLAN, at("2026-02-20"))
    # Closed 46 (a) and 64 (b) days after the notification.
    act(world, a, Action.REPORT_REMEDIATION, at("2026-02-01"))
    act(world, a, Action.VERIFY, at("2026-02-20"), note="Payroll records checked")
    act(world, b, Action.REPORT_REMEDIATION, at("2026-03-01"))
    act(world, b, Action.VERIFY, at("2026-03-10"), note="Follow-up audit passed")
    # f's plan is due Friday 27 March (missed by 30 March), e's Monday 30 March (today then).
    act(world, f, Action.NOTIFY, at("2026-02-27"))
    act(world, e, Action.NOTIFY, at("2026-02-28"))
    # After 30 March: c reports its fix four days late (due 6 July).
    act(world, c, Action.REPORT_REMEDIATION, at("2026-07-10"))
    return Refs(a, b, c, d, e, f, g, h, i, j)


@pytest.fixture
def refs(world: World) -> Refs:
    return history(world)


def q1(workflow: Workflow, now: datetime = MARCH_30) -> KpiReport:
    return workflow.kpi_report(date(2026, 1, 1), date(2026, 3, 31), now=now)


def test_it_gives_the_median_and_90th_percentile_of_days_to_a_plan_and_to_closure(
    workflow: Workflow, refs: Refs
) -> None:
    report = q1(workflow)
    # a, b, c and g (46 days: 20 February): 10, 20, 30, 46: median (20 + 30) / 2; 90th
    # percentile at rank 3 * 0.9 = 2.7: 30 + 0.7 * 16.
    assert report.to_plan_accepted == Durations(count=4, median=25.0, p90=41.2)
    # 46 and 64 days: median 55; 90th percentile 46 + 0.9 * 18.
    assert report.to_closure == Durations(count=2, median=55.0, p90=62.2)


def test_it_counts_only_plans_accepted_and_findings_closed_within_the_period(
    workflow: Workflow, refs: Refs
) -> None:
    # From 16 January: a's plan (15 January) is out; b's (25 January local) is in.
    report = workflow.kpi_report(date(2026, 1, 16), date(2026, 2, 19), now=MARCH_30)
    assert report.to_plan_accepted == Durations(count=2, median=25.0, p90=29.0)  # b 20, c 30
    assert report.to_closure == Durations(count=0, median=None, p90=None)
    # Up to 24 January: b's acceptance, on the 25th local time, is out.
    report = workflow.kpi_report(date(2026, 1, 1), date(2026, 1, 24), now=MARCH_30)
    assert report.to_plan_accepted == Durations(count=1, median=10.0, p90=10.0)


def test_it_counts_the_deadlines_that_fell_due_in_the_period_met_missed_and_running(
    workflow: Workflow, refs: Refs
) -> None:
    report = q1(workflow)
    # Plans: a, b, c met by 5 February, g by its extended 20 February; d and h missed
    # 5 February, f 27 March; e's is due today: still running.
    assert report.deadlines == (
        DeadlineShare(DeadlineKind.PLAN, met=4, missed=3, pending=1, share=0.5714),
        DeadlineShare(DeadlineKind.REMEDIATION, met=0, missed=0, pending=0, share=None),
    )
    # The fixes fell due on 6 July: a and b reported early, c four days late, d, g and h
    # never; e's and f's are due in August.
    july = workflow.kpi_report(date(2026, 7, 1), date(2026, 7, 31), now=AUGUST_1)
    assert july.deadlines == (
        DeadlineShare(DeadlineKind.PLAN, met=0, missed=0, pending=0, share=None),
        DeadlineShare(DeadlineKind.REMEDIATION, met=2, missed=4, pending=0, share=0.3333),
    )
    # On 6 July itself, before c's late report (an event after now is not read): c, d, g
    # and h are still running.
    on_the_day = workflow.kpi_report(
        date(2026, 7, 1), date(2026, 7, 31), now=datetime(2026, 7, 6, 12, 0, tzinfo=UTC)
    )
    assert on_the_day.deadlines[1] == DeadlineShare(
        DeadlineKind.REMEDIATION, met=2, missed=0, pending=4, share=1.0
    )


def test_it_counts_findings_overdue_now_by_supplier_and_area(
    workflow: Workflow, refs: Refs
) -> None:
    report = q1(workflow)
    # d (plan due 5 February), f (27 March) and h (5 February); e's plan is due today.
    assert report.overdue == 3
    assert report.overdue_by_supplier == (
        SupplierOverdue("Beta AB", "556300-0001", 2),
        SupplierOverdue("Nordic IT Supply AB", "556000-1234", 1),
    )
    assert report.overdue_by_area == (
        AreaOverdue(Area.WAGES, 2),
        AreaOverdue(Area.WORKING_HOURS, 1),
    )


def test_it_counts_findings_logged_per_quarter_of_the_period_by_area_and_severity(
    workflow: Workflow, refs: Refs
) -> None:
    report = workflow.kpi_report(date(2025, 11, 15), date(2026, 3, 31), now=MARCH_30)
    q4, q1_ = report.quarters
    # j, logged on 10 November, is before the period: 2025-Q4 counts from 15 November.
    assert (q4.quarter, q4.first, q4.last, q4.logged) == (
        "2025-Q4", date(2025, 11, 15), date(2025, 12, 31), 6
    )  # fmt: skip
    assert {a: n for a, n in q4.by_area.items() if n} == {Area.WORKING_HOURS: 5, Area.WAGES: 1}
    assert q4.by_severity == {Severity.MINOR: 0, Severity.MAJOR: 6, Severity.CRITICAL: 0}
    assert (q1_.quarter, q1_.first, q1_.last, q1_.logged) == (
        "2026-Q1", date(2026, 1, 1), date(2026, 3, 31), 3
    )  # fmt: skip
    assert {a: n for a, n in q1_.by_area.items() if n} == {
        Area.WORKING_HOURS: 1, Area.WAGES: 1, Area.HEALTH_AND_SAFETY: 1,
    }  # fmt: skip
    assert q1_.by_severity == {Severity.MINOR: 0, Severity.MAJOR: 2, Severity.CRITICAL: 1}
    assert len(q1_.by_area) == len(Area)  # every area, zeros included


def test_it_finds_recurrences_among_the_findings_logged_in_the_period(
    workflow: Workflow, refs: Refs
) -> None:
    recurrence = q1(workflow).recurrence
    # e, f and i logged; e and f recur, i's area had j only, found 2023-06-01.
    assert (recurrence.logged, recurrence.recurring, recurrence.share) == (3, 2, 0.6667)
    assert recurrence.lines == (
        RecurrenceLine("Beta AB", "556300-0001", Area.WAGES, 1, 1, (refs.f,)),
        RecurrenceLine("Nordic IT Supply AB", "556000-1234", Area.WORKING_HOURS, 1, 1, (refs.e,)),
    )


def test_an_empty_period_has_no_figures_and_serialises(world: World) -> None:
    report = world.workflow.kpi_report(date(2026, 1, 1), date(2026, 1, 31), now=MARCH_30)
    assert report.to_plan_accepted == Durations(0, None, None)
    assert report.overdue == 0 and report.overdue_by_supplier == ()
    assert [q.logged for q in report.quarters] == [0]
    assert report.recurrence.share is None
    data = to_json(report)
    assert data["start"] == "2026-01-01" and data["as_of"] == "2026-03-30"
    assert data["quarters"][0]["by_area"]["wages"] == 0
    assert data["deadlines"][0] == {
        "deadline": "plan", "met": 0, "missed": 0, "pending": 0, "share": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 3, 1), date(2026, 2, 1), "from: 2026-03-01 is after to (2026-02-01)"),
        (date(2026, 4, 1), date(2026, 4, 30), "from: 2026-04-01 is after today (2026-03-30)"),
        (date(1900, 1, 1), date(2026, 1, 31), "from: 1900-01-01 is outside the years"),
        (date(2026, 1, 1), date(2999, 1, 31), "to: 2999-01-31 is outside the years"),
    ],
)
def test_it_refuses_a_period_it_cannot_report_on(
    world: World, start: date, end: date, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.workflow.kpi_report(start, end, now=MARCH_30)
    assert str(refused.value).startswith(message)
