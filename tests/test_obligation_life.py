"""A reporting obligation's life and ladder, in the domain alone: receiving, extending,
waiving, the escalation, and each step of the shipped ladder on both sides of its instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cap.domain import engine
from cap.domain.model import DeadlineKind, ObligationState
from cap.domain.obligations import (
    Duty,
    DutyAction,
    DutyRequest,
    allowed_duty_actions,
    new_duty,
    perform_duty,
)
from cap.domain.rules import Rules, load_rules
from cap.errors import ActionRefused, InvalidInput
from cap.notify.render import KINDS

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules" / "default.toml", KINDS)
CALENDAR = RULES.calendar
RECORDED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = date(2026, 9, 2)  # a Wednesday: six months after a start on 2 March
ANNA = "anna@region.example"


def at(day: date, hour: int = 7) -> datetime:
    """09:00 in Stockholm in summer time."""
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def duty() -> Duty:
    return new_duty(DUE, RECORDED)


def act(d: Duty, action: DutyAction, when: datetime, **values: object) -> Duty:
    request = DutyRequest(action, ANNA, when, **values)  # type: ignore[arg-type]
    return perform_duty(d, request, now=when, calendar=CALENDAR).duty


def test_receiving_settles_the_report_and_ends_its_ladder() -> None:
    when = at(date(2026, 9, 10))
    change = perform_duty(
        duty(),
        DutyRequest(DutyAction.RECEIVE, ANNA, when, received_on=date(2026, 9, 9), reference="SR-1"),
        now=when,
        calendar=CALENDAR,
    )
    assert (change.from_state, change.to_state) == (ObligationState.DUE, ObligationState.RECEIVED)
    assert change.duty.received_on == date(2026, 9, 9)
    assert change.data == {"received_on": "2026-09-09", "late": True, "reference": "SR-1"}
    assert change.duty.ladder == {}
    assert engine.next_check_at(change.duty, RULES) is None
    on_time = act(duty(), DutyAction.RECEIVE, when, received_on=DUE)
    assert on_time.state is ObligationState.RECEIVED


def test_a_report_cannot_be_received_tomorrow() -> None:
    when = at(date(2026, 9, 10))
    with pytest.raises(InvalidInput, match=r"^on: 2026-09-11 is in the future; give the day the "
                       r"report came in \(today is 2026-09-10\)$"):  # fmt: skip
        act(duty(), DutyAction.RECEIVE, when, received_on=date(2026, 9, 11))
    with pytest.raises(InvalidInput, match=r"^on: receive needs the day"):
        act(duty(), DutyAction.RECEIVE, when)


def test_a_settled_report_refuses_everything_and_says_so() -> None:
    received = act(duty(), DutyAction.RECEIVE, at(date(2026, 9, 1)), received_on=date(2026, 9, 1))
    with pytest.raises(ActionRefused, match=r"^cannot waive: the report is received; allowed "
                       r"now: nothing \(it is settled\)$"):  # fmt: skip
        act(received, DutyAction.WAIVE, at(date(2026, 9, 2)), reason="x")
    assert allowed_duty_actions(ObligationState.DUE) == (
        DutyAction.RECEIVE, DutyAction.EXTEND, DutyAction.WAIVE,
    )  # fmt: skip
    assert allowed_duty_actions(ObligationState.WAIVED) == ()


def test_waiving_and_extending_need_a_reason() -> None:
    with pytest.raises(InvalidInput, match=r"^reason: waive needs a reason$"):
        act(duty(), DutyAction.WAIVE, at(date(2026, 4, 1)), reason="  ")
    with pytest.raises(InvalidInput, match=r"^reason: extend needs a reason$"):
        act(duty(), DutyAction.EXTEND, at(date(2026, 4, 1)), until=date(2026, 10, 1))
    waived = act(duty(), DutyAction.WAIVE, at(date(2026, 4, 1)), reason="Contract ended early")
    assert waived.state is ObligationState.WAIVED and waived.ladder == {}


def test_an_extension_moves_the_date_forward_only_and_restarts_the_ladder() -> None:
    escalated = act(duty(), DutyAction.ESCALATE, at(date(2026, 9, 20)), reason="rule")
    when = at(date(2026, 9, 25))
    assert escalated.state is ObligationState.ESCALATED and escalated.escalation_level == 3
    with pytest.raises(InvalidInput, match=r"^until: 2026-09-02 must be after the current due "
                       r"date \(2026-09-02\)$"):  # fmt: skip
        act(escalated, DutyAction.EXTEND, when, until=DUE, reason="More time")
    # Saturday 3 October rolls to Monday 5 October, as every deadline does.
    later = perform_duty(
        escalated,
        DutyRequest(DutyAction.EXTEND, ANNA, when, until=date(2026, 10, 3), reason="Auditor ill"),
        now=when,
        calendar=CALENDAR,
    )
    assert later.duty.state is ObligationState.DUE and later.duty.due == date(2026, 10, 5)
    assert later.data == {"reason": "Auditor ill", "old": "2026-09-02", "new": "2026-10-05",
                          "requested": "2026-10-03"}  # fmt: skip
    assert later.duty.escalation_level == 0 and later.duty.deadline_version == 1
    steps = engine.ladder_steps(later.duty, DeadlineKind.REPORT, RULES)
    # Reminders that fell before the extension was granted never come.
    assert [s.id for s in steps] == ["R-report-1d", "E-report-1d", "E-report-14d", "E-report-30d"]


def test_nothing_is_recorded_in_the_future_or_out_of_order() -> None:
    now = at(date(2026, 4, 1))
    with pytest.raises(InvalidInput, match=r"^at: .* is in the future"):
        perform_duty(
            duty(),
            DutyRequest(DutyAction.WAIVE, ANNA, now + timedelta(hours=1), reason="x"),
            now=now,
            calendar=CALENDAR,
        )
    waived_late = act(duty(), DutyAction.ESCALATE, now)
    with pytest.raises(InvalidInput, match=r"^at: .* is before the report's last recorded event"):
        act(waived_late, DutyAction.WAIVE, now - timedelta(days=1), reason="x")


# -- the shipped ladder ----------------------------------------------------------------------

LADDER = [
    ("R-report-14d", at(date(2026, 8, 19))),
    ("R-report-1d", at(date(2026, 9, 1))),
    ("E-report-1d", at(date(2026, 9, 3))),
    ("E-report-14d", at(date(2026, 9, 16))),
    ("E-report-30d", at(date(2026, 10, 2))),
]


@pytest.mark.parametrize(("rule", "due_at"), LADDER)
def test_each_step_falls_due_at_nine_on_its_day_not_a_second_before(
    rule: str, due_at: datetime
) -> None:
    d = duty()
    for _, instant in LADDER:  # the steps before it taken already
        if instant >= due_at:
            break
        d.ladder = engine.evaluate(d, RULES, instant).ladder
    assert engine.evaluate(d, RULES, due_at - timedelta(seconds=1)).due == ()
    evaluation = engine.evaluate(d, RULES, due_at)
    assert [s.id for s in evaluation.due] == [rule] and evaluation.skipped == ()


def test_after_downtime_the_escalation_is_sent_and_the_rest_skipped() -> None:
    evaluation = engine.evaluate(duty(), RULES, at(date(2026, 10, 5)))
    assert [s.id for s in evaluation.due] == ["E-report-30d"]
    assert [s.id for s in evaluation.skipped] == [r for r, _ in LADDER[:-1]]
    assert evaluation.level == 3


def test_an_escalated_report_runs_no_ladder() -> None:
    rules: Rules = RULES
    escalated = act(duty(), DutyAction.ESCALATE, at(date(2026, 10, 2)))
    assert engine.next_check_at(escalated, rules) is None
    assert engine.timeline(escalated, rules) == []
    assert engine.next_check_at(duty(), rules) == LADDER[0][1]
    entries = engine.timeline(duty(), rules)
    names = [r for r, _ in LADDER]
    assert [e.rule for e in entries] == [*names[:2], None, *names[2:]]  # in time order
    assert entries[2].kind == "deadline" and entries[2].at == CALENDAR.end_of_day(DUE)
