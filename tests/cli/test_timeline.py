"""A finding's timeline ends at its first automatic escalation, and drawn at a moment it says
which of its dated steps the next sweep applies, which catch-up passes over and which wait."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from cap.config import default_rules_path
from cap.domain.engine import evaluate, timeline
from cap.domain.lifecycle import ActionRequest, perform
from cap.domain.model import Action, Area, Case, Severity, State
from cap.domain.rules import Rules, load_rules
from cap.notify.render import KINDS
from tests.cli_runner import Cap
from tests.conftest import ANNA, World

RULES: Rules = load_rules(default_rules_path(), templates=KINDS)
CAL = RULES.calendar


def stockholm(y: int, m: int, d: int, hh: int = 0) -> datetime:
    return datetime(y, m, d, hh, tzinfo=CAL.tz).astimezone(UTC)


def notified(at: datetime, severity: Severity = Severity.MAJOR) -> Case:
    case = Case(state=State.OPEN, severity=severity, area=Area.WAGES, found_on=date(2020, 1, 1))
    request = ActionRequest(Action.NOTIFY, ANNA, at)
    return perform(case, request, now=at, calendar=CAL, policy=RULES).case


# Notified Tuesday 3 March 2026: plan due 7 April (escalation E-plan-30d on 7 May, 09:00),
# remediation due 3 September, whose ladder begins on 4 August.
CASE = notified(stockholm(2026, 3, 3, 10))
PLAN_ESCALATION = stockholm(2026, 5, 7, 9)


# -- the end of the timeline -------------------------------------------------------------------


def test_the_timeline_ends_at_the_first_automatic_escalation() -> None:
    entries = timeline(CASE, RULES)
    assert [e.rule for e in entries] == [
        "R-plan-7d",
        "R-plan-1d",
        None,  # the plan deadline passes
        "E-plan-1d",
        "E-plan-14d",
        "E-plan-30d",
    ]
    assert entries[-1].action == "escalate" and entries[-1].at == PLAN_ESCALATION


def test_a_critical_timeline_ends_at_its_earlier_escalation() -> None:
    entries = timeline(notified(stockholm(2026, 3, 3, 10), Severity.CRITICAL), RULES)
    assert entries[-1].rule == "E-plan-14d-critical"
    assert [e.rule for e in entries if e.action == "escalate"] == ["E-plan-14d-critical"]
    assert not any(e.deadline.value == "remediation" for e in entries)


def test_after_a_sanction_review_resumes_the_remediation_ladder_goes_on() -> None:
    """The escalation already happened: it ends nothing any more; the remediation ladder
    runs to its own escalation."""
    escalated = perform(
        replace(CASE, ladder=evaluate(CASE, RULES, PLAN_ESCALATION).ladder),
        ActionRequest(Action.ESCALATE, "cap", PLAN_ESCALATION, reason="E-plan-30d"),
        now=PLAN_ESCALATION,
        calendar=CAL,
        policy=RULES,
    ).case
    assert timeline(escalated, RULES) == []  # in sanction review no deadline binds
    at = PLAN_ESCALATION + timedelta(days=1)
    resumed = perform(
        escalated,
        ActionRequest(Action.RESUME, ANNA, at, reason="Plan promised"),
        now=at,
        calendar=CAL,
        policy=RULES,
    ).case
    entries = timeline(resumed, RULES)
    escalations = [e.rule for e in entries if e.action == "escalate"]
    assert escalations == ["E-plan-30d", "E-remediation-60d"]
    assert next(e for e in entries if e.rule == "E-plan-30d").done
    assert entries[-1].rule == "E-remediation-60d"


# -- where each entry stands at a moment -------------------------------------------------------


def statuses(case: Case, now: datetime) -> dict[str | None, str | None]:
    return {e.rule: e.status for e in timeline(case, RULES, now)}


def test_a_step_is_due_at_its_instant_and_upcoming_a_second_before() -> None:
    reminder = stockholm(2026, 3, 31, 9)  # R-plan-7d
    assert statuses(CASE, reminder - timedelta(seconds=1))["R-plan-7d"] == "upcoming"
    at_it = statuses(CASE, reminder)
    assert at_it["R-plan-7d"] == "due"
    assert {at_it[r] for r in ("R-plan-1d", "E-plan-1d", "E-plan-30d", None)} == {"upcoming"}


def test_after_downtime_one_step_is_due_and_the_older_ones_are_skipped() -> None:
    now = stockholm(2026, 4, 27, 12)  # E-plan-14d due since 21 April
    assert statuses(CASE, now) == {
        "R-plan-7d": "catch_up_skip",
        "R-plan-1d": "catch_up_skip",
        None: "passed",  # the plan deadline
        "E-plan-1d": "catch_up_skip",
        "E-plan-14d": "due",
        "E-plan-30d": "upcoming",
    }
    # The same as the sweep would do.
    evaluation = evaluate(CASE, RULES, now)
    assert [s.id for s in evaluation.due] == ["E-plan-14d"]
    assert [s.id for s in evaluation.skipped] == ["R-plan-7d", "R-plan-1d", "E-plan-1d"]


def test_a_deadline_passes_at_the_end_of_its_day() -> None:
    end_of_day = stockholm(2026, 4, 8)  # 7 April has ended
    assert statuses(CASE, end_of_day - timedelta(seconds=1))[None] == "upcoming"
    assert statuses(CASE, end_of_day)[None] == "passed"


def test_steps_already_taken_are_done() -> None:
    taken = replace(CASE, ladder=evaluate(CASE, RULES, stockholm(2026, 3, 31, 9)).ladder)
    now = stockholm(2026, 4, 2, 9)
    assert statuses(taken, now)["R-plan-7d"] == "done"
    assert statuses(taken, now)["R-plan-1d"] == "due"


def test_the_simulation_and_the_plain_timeline_carry_no_status() -> None:
    assert all(e.status is None for e in timeline(CASE, RULES))
    assert all(e.status for e in timeline(CASE, RULES, PLAN_ESCALATION))


# -- the finding's timeline, through the workflow and the command line ---------------------------


def test_the_finding_timeline_has_a_status_for_each_step(cap: Cap, world: World) -> None:
    """Notified 40 days ago: the plan deadline has passed, its first escalation is due now,
    the older steps are passed over, the rest waits."""
    at = datetime.now(UTC) - timedelta(days=40)
    ref = world.finding(now=at)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, at), now=at)

    view = world.workflow.timeline(ref, now=datetime.now(UTC))
    upcoming = view.upcoming
    by_rule = {e.rule: e.status for e in upcoming}
    assert by_rule[None] == "passed"
    assert [e.rule for e in upcoming if e.status == "due"] == ["E-plan-1d"]
    assert {by_rule["R-plan-7d"], by_rule["R-plan-1d"]} == {"catch_up_skip"}
    assert by_rule["E-plan-30d"] == "upcoming"
    assert upcoming[-1].rule == "E-plan-30d"  # the escalation ends the timeline

    out = cap.ok("finding", "timeline", ref)
    table = out.split("\nnext\n", 1)[1]
    header, *rows = [re.split(r"\s{2,}", line.strip()) for line in table.splitlines() if line]
    assert header == ["WHEN (LOCAL)", "STATUS", "WHAT", "RULE", "LEVEL", "TO"]
    words = {"due": "due now (next sweep)", "catch_up_skip": "skipped by catch-up"}
    words |= {"passed": "passed", "upcoming": "upcoming"}
    assert [row[1] for row in rows] == [words[e.status] for e in upcoming]
    assert [row[3] for row in rows] == [e.rule or "-" for e in upcoming]
