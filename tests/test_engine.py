"""The rules engine on the pure domain: when each step falls due, catch-up, extensions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cap.config import default_rules_path
from cap.domain.engine import evaluate, ladder_steps, next_check_at
from cap.domain.lifecycle import ActionRequest, perform
from cap.domain.model import Action, Area, Case, DeadlineKind, Severity, State
from cap.domain.rules import Rules, load_rules
from cap.notify.render import KINDS

RULES: Rules = load_rules(default_rules_path(), templates=KINDS)
CAL = RULES.calendar
ANNA = "anna@region.example"


def notified(at: datetime, severity: Severity = Severity.MAJOR) -> Case:
    case = Case(state=State.OPEN, severity=severity, area=Area.WAGES, found_on=date(2020, 1, 1))
    request = ActionRequest(Action.NOTIFY, ANNA, at)
    return perform(case, request, now=at, calendar=CAL, policy=RULES).case


def stockholm(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=CAL.tz).astimezone(UTC)


def ids(case: Case, now: datetime) -> tuple[list[str], list[str]]:
    result = evaluate(case, RULES, now)
    return [s.id for s in result.due], [s.id for s in result.skipped]


# Notified Tuesday 3 March 2026: plan due Tuesday 7 April (3 April Good Friday, 6 April Easter
# Monday), remediation due Thursday 3 September.
CASE = notified(stockholm(2026, 3, 3, 10))


def test_the_plan_and_remediation_ladders_fall_due_at_nine_on_their_days() -> None:
    plan = {s.id: s.due_at for s in ladder_steps(CASE, DeadlineKind.PLAN, RULES)}
    assert plan == {
        "R-plan-7d": stockholm(2026, 3, 31, 9),
        # 6 April is Easter Monday and 3 April Good Friday: the reminder moves back to Thursday.
        "R-plan-1d": stockholm(2026, 4, 2, 9),
        "E-plan-1d": stockholm(2026, 4, 8, 9),
        "E-plan-14d": stockholm(2026, 4, 21, 9),
        # 7 May is a Thursday: no roll needed.
        "E-plan-30d": stockholm(2026, 5, 7, 9),
    }
    remediation = [s.id for s in ladder_steps(CASE, DeadlineKind.REMEDIATION, RULES)]
    assert remediation == [
        "R-remediation-30d",
        "R-remediation-7d",
        "E-remediation-1d",
        "E-remediation-30d",
        "E-remediation-60d",
    ]


def test_a_reminder_is_not_due_one_second_before_its_time_and_due_at_it() -> None:
    at = stockholm(2026, 3, 31, 9)
    assert ids(CASE, at - timedelta(seconds=1)) == ([], [])
    assert ids(CASE, at) == (["R-plan-7d"], [])


def test_nothing_is_overdue_until_the_end_of_the_due_day_in_stockholm() -> None:
    done = replace(CASE, ladder=evaluate(CASE, RULES, stockholm(2026, 4, 2, 9)).ladder)
    # Through all of 7 April and the first hours of the 8th, only the reminders have run.
    assert ids(done, stockholm(2026, 4, 7, 23, 59, 59)) == ([], [])
    assert ids(done, stockholm(2026, 4, 8, 8, 59)) == ([], [])
    assert ids(done, stockholm(2026, 4, 8, 9)) == (["E-plan-1d"], [])


def test_steps_keep_local_time_across_the_change_to_summer_time() -> None:
    # Notified 20 Feb (CET): plan due 20 March; the +14 days notice falls on 3 April, CEST.
    case = notified(stockholm(2026, 2, 20, 10))
    steps = {s.id: s.due_at for s in ladder_steps(case, DeadlineKind.PLAN, RULES)}
    assert case.plan_due == date(2026, 3, 20)
    assert steps["R-plan-7d"] == datetime(2026, 3, 13, 8, 0, tzinfo=UTC)  # 09:00 CET
    # 3 April is Good Friday, 6 April Easter Monday: forward to Tuesday 7 April, 09:00 CEST.
    assert steps["E-plan-14d"] == datetime(2026, 4, 7, 7, 0, tzinfo=UTC)


def test_around_christmas_reminders_move_back_and_notices_forward() -> None:
    # Notified 24 Nov 2026: plan due Thursday 24 Dec -> closed -> Monday 28 Dec.
    case = notified(stockholm(2026, 11, 24, 10))
    assert case.plan_due == date(2026, 12, 28)
    steps = {
        s.id: s.due_at.astimezone(CAL.tz).date()
        for s in ladder_steps(case, DeadlineKind.PLAN, RULES)
    }
    assert steps["R-plan-7d"] == date(2026, 12, 21)
    # 27 Dec is a Sunday, 26 and 25 holidays, 24 Christmas Eve: back to Wednesday 23 Dec.
    assert steps["R-plan-1d"] == date(2026, 12, 23)
    # 29 Dec is a Tuesday: an ordinary day.
    assert steps["E-plan-1d"] == date(2026, 12, 29)
    # 11 Jan 2027 is a Monday.
    assert steps["E-plan-14d"] == date(2027, 1, 11)


def test_catch_up_applies_only_the_most_advanced_step_and_reports_the_rest() -> None:
    # A worker down since before the first reminder wakes up 20 days after the plan deadline.
    due, skipped = ids(CASE, stockholm(2026, 4, 27, 12))
    assert due == ["E-plan-14d"]
    assert skipped == ["R-plan-7d", "R-plan-1d", "E-plan-1d"]


def test_a_step_applies_once() -> None:
    first = evaluate(CASE, RULES, stockholm(2026, 3, 31, 10))
    after = replace(CASE, ladder=first.ladder)
    assert ids(after, stockholm(2026, 3, 31, 10)) == ([], [])
    assert ids(after, stockholm(2026, 4, 1, 10)) == ([], [])
    assert first.next_check_at == stockholm(2026, 4, 2, 9)
    assert next_check_at(after, RULES) == stockholm(2026, 4, 2, 9)


def test_reminders_follow_an_extension() -> None:
    at = stockholm(2026, 4, 1, 10)
    case = replace(CASE, ladder=evaluate(CASE, RULES, at).ladder)  # the 7-day reminder went out
    request = ActionRequest(Action.EXTEND, ANNA, at, reason="Audit moved", until=date(2026, 4, 10))
    extended = perform(case, request, now=at, calendar=CAL, policy=RULES).case
    steps = {s.id: s.due_at for s in ladder_steps(extended, DeadlineKind.PLAN, RULES)}
    # 10 April - 7 days is Good Friday: the new reminder goes out on Thursday 2 April.
    assert steps["R-plan-7d"] == stockholm(2026, 4, 2, 9)
    assert steps["R-plan-1d"] == stockholm(2026, 4, 9, 9)
    assert ids(extended, stockholm(2026, 4, 2, 9)) == (["R-plan-7d"], [])
    # The old deadline's overdue notice (8 April) never comes.
    later = replace(extended, ladder=evaluate(extended, RULES, stockholm(2026, 4, 2, 9)).ladder)
    assert ids(later, stockholm(2026, 4, 8, 9)) == ([], [])
    assert ids(later, stockholm(2026, 4, 9, 9)) == (["R-plan-1d"], [])


def test_steps_that_fell_due_before_an_extension_do_not_apply() -> None:
    at = stockholm(2026, 4, 6, 10)  # extended after its 7-day reminder date (2 April)
    request = ActionRequest(Action.EXTEND, ANNA, at, reason="r", until=date(2026, 4, 10))
    extended = perform(CASE, request, now=at, calendar=CAL, policy=RULES).case
    assert next(s.id for s in ladder_steps(extended, DeadlineKind.PLAN, RULES)) == "R-plan-1d"
    assert ids(extended, at) == ([], [])


def test_critical_findings_run_the_compressed_ladder() -> None:
    case = notified(stockholm(2026, 3, 3, 10), Severity.CRITICAL)
    assert case.plan_due == date(2026, 3, 10)
    assert case.remediation_due == date(2026, 6, 3)
    offsets = [s.rule.offset for s in ladder_steps(case, DeadlineKind.PLAN, RULES)]
    assert offsets == [-1, 1, 7, 14]


def test_the_ladder_runs_only_in_states_where_its_deadline_binds() -> None:
    submitted = perform(
        CASE,
        ActionRequest(Action.SUBMIT_PLAN, ANNA, stockholm(2026, 3, 20, 10)),
        now=stockholm(2026, 3, 20, 10),
        calendar=CAL,
        policy=RULES,
    ).case
    # Plan review due 3 April (Good Friday) -> 7 April; the manager is reminded 3 days before.
    assert submitted.review_due == date(2026, 4, 7)
    due, _ = ids(submitted, stockholm(2026, 4, 3, 9))
    assert due == ["R-review-3d"]
    assert "R-plan-1d" not in ids(submitted, stockholm(2026, 4, 2, 9))[0]


# -- a property: sweeping rarely or often applies the same ladder ------------------------------


def _simulate(case: Case, moments: list[datetime]) -> tuple[list[str], list[str]]:
    applied: list[str] = []
    skipped: list[str] = []
    for now in moments:
        result = evaluate(case, RULES, now)
        applied += [s.id for s in result.due]
        skipped += [s.id for s in result.skipped]
        case = replace(case, ladder=result.ladder)
        for step in result.due:
            if step.rule.action == "escalate" and case.state is not State.SANCTION_REVIEW:
                request = ActionRequest(Action.ESCALATE, "cap", now, reason=step.id)
                case = perform(case, request, now=now, calendar=CAL, policy=RULES).case
    return applied, skipped


START = stockholm(2026, 1, 5, 10)
END = START + timedelta(days=120)
HOURLY = [START + timedelta(hours=h) for h in range(int((END - START).total_seconds() // 3600) + 1)]


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=1, max_value=24 * 40), min_size=1, max_size=60),
    severity=st.sampled_from(list(Severity)),
)
def test_sweeping_at_random_moments_matches_sweeping_every_hour(
    gaps: list[int], severity: Severity
) -> None:
    case = notified(START, severity)
    reference, nothing_skipped = _simulate(case, HOURLY)
    assert nothing_skipped == []
    moments = [START]
    for gap in gaps:
        if moments[-1] + timedelta(hours=gap) >= END:
            break
        moments.append(moments[-1] + timedelta(hours=gap))
    moments.append(END)
    applied, skipped = _simulate(case, moments)
    assert len(applied) == len(set(applied)), "a step was applied twice"
    assert not set(applied) & set(skipped)
    assert sorted(applied + skipped) == sorted(reference), "a step was lost"
    # The most advanced step reached is applied, never skipped.
    assert applied[-1] == reference[-1]


@pytest.mark.parametrize("hour", [0, 23])
def test_notification_time_of_day_does_not_shift_the_ladder(hour: int) -> None:
    case = notified(stockholm(2026, 3, 3, hour))
    assert case.plan_due == date(2026, 4, 7)
