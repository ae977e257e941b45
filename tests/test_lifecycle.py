"""The lifecycle rules, on the pure domain: every action, every guard, the shared machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from cap.domain.calendar import BusinessCalendar
from cap.domain.lifecycle import (
    MACHINE,
    Action,
    ActionRequest,
    Change,
    DeadlinePolicy,
    allowed_actions,
    current_deadline,
    is_overdue,
    mermaid_diagram,
    perform,
)
from cap.domain.model import Area, Case, DeadlineKind, DecisionOutcome, Severity, State
from cap.errors import ActionRefused, InvalidInput

CAL = BusinessCalendar()
POLICY = DeadlinePolicy()
ANNA = "anna@region.example"
CECILIA = "cecilia@region.example"
DAVID = "david@region.example"
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # Tuesday 3 March 2026, 10:00 in Stockholm


def new_case(state: State = State.OPEN) -> Case:
    return Case(state=state, severity=Severity.MAJOR, area=Area.WAGES, found_on=date(2026, 2, 1))


def do(
    case: Case, action: Action, at: datetime = T0, actor: str = ANNA, **kwargs: object
) -> Change:
    request = ActionRequest(action=action, actor=actor, at=at, **kwargs)  # type: ignore[arg-type]
    return perform(case, request, now=at + timedelta(seconds=1), calendar=CAL, policy=POLICY)


#: One step of :func:`run`: an action and the keyword arguments of its request.
Step = tuple[Action, dict[str, object]]


def run(*steps: Step, case: Case | None = None) -> Case:
    current = case or new_case()
    at = T0
    for action, kwargs in steps:
        current = do(current, action, at=at, **kwargs).case  # type: ignore[arg-type]
        at += timedelta(days=1)
    return current


NOTIFIED: Step = (Action.NOTIFY, {})
PLAN_IN: Step = (Action.SUBMIT_PLAN, {})
ACCEPTED: Step = (Action.ACCEPT_PLAN, {})
REPORTED: Step = (Action.REPORT_REMEDIATION, {})


def test_it_requests_a_plan_within_a_month_and_the_fix_within_six() -> None:
    change = do(new_case(), Action.NOTIFY)
    assert change.to_state is State.AWAITING_PLAN
    # 3 April 2026 is Good Friday, 6 April Easter Monday: the plan is due Tuesday 7 April.
    assert change.case.plan_due == date(2026, 4, 7)
    assert change.case.remediation_due == date(2026, 9, 3)
    assert change.case.notified_at == T0
    assert change.case.deadline_version == 1
    assert [c.kind for c in change.deadline_changes] == [
        DeadlineKind.PLAN,
        DeadlineKind.REMEDIATION,
    ]


def test_it_counts_from_the_local_date_of_notification() -> None:
    # 31 Jan 23:30 UTC is already 1 February in Stockholm: 1 March is a Sunday -> Monday 2 March.
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    case = replace(new_case(), found_on=date(2026, 1, 1))
    assert do(case, Action.NOTIFY, at=late).case.plan_due == date(2026, 3, 2)
    # 22:30 UTC is still 31 January: + 1 month clamps to Saturday 28 Feb -> Monday 2 March.
    earlier = datetime(2026, 1, 31, 22, 30, tzinfo=UTC)
    assert do(case, Action.NOTIFY, at=earlier).case.plan_due == date(2026, 3, 2)


def test_it_clamps_month_ends_in_a_leap_year() -> None:
    case = replace(new_case(), found_on=date(2024, 1, 1))
    at = datetime(2024, 1, 31, 9, 0, tzinfo=UTC)
    assert do(case, Action.NOTIFY, at=at).case.plan_due == date(2024, 2, 29)


def test_it_walks_the_happy_path_to_closed() -> None:
    case = run(NOTIFIED, PLAN_IN, ACCEPTED, REPORTED)
    assert case.state is State.VERIFYING
    closed = do(case, Action.VERIFY, at=T0 + timedelta(days=10), note="Audit confirmed")
    assert closed.to_state is State.CLOSED
    assert allowed_actions(State.CLOSED) == ()


def test_it_refuses_actions_the_state_does_not_allow_and_lists_the_allowed_ones() -> None:
    case = new_case()
    with pytest.raises(ActionRefused) as refused:
        do(case, Action.ACCEPT_PLAN)
    assert "the finding is open" in str(refused.value)
    assert "allowed now: notify, withdraw" in str(refused.value)
    assert case.state is State.OPEN


def test_it_refuses_everything_in_a_final_state() -> None:
    case = run(NOTIFIED, (Action.WITHDRAW, {"reason": "logged twice"}))
    with pytest.raises(ActionRefused, match=r"nothing \(final state\)"):
        do(case, Action.NOTIFY, at=T0 + timedelta(days=5))


def test_a_rejected_plan_is_due_again_in_fourteen_days_by_default() -> None:
    case = run(NOTIFIED, PLAN_IN)
    at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    change = do(case, Action.REJECT_PLAN, at=at, reason="No root cause")
    assert change.to_state is State.AWAITING_PLAN
    assert change.case.plan_due == date(2026, 3, 24)
    assert change.case.deadline_version == case.deadline_version + 1
    assert change.data["reason"] == "No root cause"


def test_a_rejection_deadline_typed_on_a_saturday_moves_to_monday() -> None:
    case = run(NOTIFIED, PLAN_IN)
    change = do(
        case, Action.REJECT_PLAN, at=T0 + timedelta(days=3), reason="x", until=date(2026, 3, 21)
    )
    assert change.case.plan_due == date(2026, 3, 23)
    assert change.deadline_changes[0].requested == date(2026, 3, 21)


@pytest.mark.parametrize(
    ("action", "field"),
    [
        (Action.REJECT_PLAN, "reason"),
        (Action.ESCALATE, "reason"),
        (Action.WITHDRAW, "reason"),
    ],
)
def test_it_needs_a_reason(action: Action, field: str) -> None:
    case = run(NOTIFIED, PLAN_IN)
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        do(case, action, at=T0 + timedelta(days=5))
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        do(case, action, at=T0 + timedelta(days=5), reason="   ")


def test_verification_needs_a_note() -> None:
    case = run(NOTIFIED, PLAN_IN, ACCEPTED, REPORTED)
    with pytest.raises(InvalidInput, match=r"^note:"):
        do(case, Action.VERIFY, at=T0 + timedelta(days=9))


def test_a_rejected_remediation_goes_back_and_keeps_the_deadline() -> None:
    case = run(NOTIFIED, PLAN_IN, ACCEPTED, REPORTED)
    change = do(case, Action.REJECT_REMEDIATION, at=T0 + timedelta(days=9), reason="Still 70 h")
    assert change.to_state is State.REMEDIATING
    assert change.case.remediation_due == case.remediation_due
    assert change.deadline_changes == ()


@pytest.mark.parametrize(
    "steps",
    [
        (NOTIFIED,),
        (NOTIFIED, PLAN_IN),
        (NOTIFIED, PLAN_IN, ACCEPTED),
        (NOTIFIED, PLAN_IN, ACCEPTED, REPORTED),
    ],
    ids=["awaiting_plan", "plan_review", "remediating", "verifying"],
)
def test_a_sanction_review_returns_to_the_state_it_came_from(
    steps: tuple[tuple[Action, dict[str, object]], ...],
) -> None:
    before = run(*steps)
    at = T0 + timedelta(days=20)
    review = do(before, Action.ESCALATE, at=at, reason="Third reminder ignored").case
    assert review.state is State.SANCTION_REVIEW
    assert review.return_state is before.state
    assert review.escalation_level == 3
    for action in (Action.RESUME, Action.WARN, Action.PENALISE):
        back = do(review, action, at=at, actor=CECILIA, reason="decided").case
        assert back.state is before.state
        assert back.return_state is None


def test_resume_keeps_the_deadlines_and_warn_records_a_decision() -> None:
    review = run(NOTIFIED, (Action.ESCALATE, {"reason": "serious breach"}))
    resumed = do(review, Action.RESUME, at=T0 + timedelta(days=2), actor=CECILIA)
    assert resumed.case.plan_due == review.plan_due
    assert resumed.decision is not None and resumed.decision.outcome is DecisionOutcome.RESUMED
    warned = do(review, Action.WARN, at=T0 + timedelta(days=2), actor=CECILIA, reason="last chance")
    assert warned.decision is not None
    assert warned.decision.outcome is DecisionOutcome.WARNING
    assert warned.decision.rationale == "last chance"


def test_an_extension_from_sanction_review_moves_the_deadline_and_returns() -> None:
    review = run(NOTIFIED, PLAN_IN, ACCEPTED, (Action.ESCALATE, {"reason": "late"}))
    at = T0 + timedelta(days=30)
    change = do(
        review, Action.EXTEND, at=at, actor=CECILIA, until=date(2026, 12, 1), reason="Audit moved"
    )
    assert change.to_state is State.REMEDIATING
    assert change.case.remediation_due == date(2026, 12, 1)
    assert change.case.extensions == 1
    assert change.case.escalation_level == 0
    assert change.deadline_changes[0].old == review.remediation_due
    assert change.decision is not None and change.decision.outcome is DecisionOutcome.EXTENSION


def test_an_extension_while_awaiting_a_plan_moves_the_plan_deadline() -> None:
    case = run(NOTIFIED)
    change = do(case, Action.EXTEND, at=T0 + timedelta(days=1), until=date(2026, 4, 20), reason="r")
    assert change.to_state is State.AWAITING_PLAN
    assert change.case.plan_due == date(2026, 4, 20)
    assert change.case.remediation_due == case.remediation_due


def test_an_extension_must_be_later_than_the_current_deadline() -> None:
    case = run(NOTIFIED)
    assert case.plan_due == date(2026, 4, 7)
    with pytest.raises(InvalidInput, match=r"^until: 2026-04-07 must be after"):
        do(case, Action.EXTEND, at=T0 + timedelta(days=1), until=date(2026, 4, 7), reason="r")
    with pytest.raises(InvalidInput, match=r"^until:"):
        do(case, Action.EXTEND, at=T0 + timedelta(days=1), reason="r")


def test_the_plan_deadline_cannot_be_extended_once_a_plan_is_accepted() -> None:
    case = run(NOTIFIED, PLAN_IN, ACCEPTED)
    with pytest.raises(InvalidInput, match=r"^deadline:"):
        do(
            case,
            Action.EXTEND,
            at=T0 + timedelta(days=5),
            until=date(2026, 12, 1),
            reason="r",
            deadline=DeadlineKind.PLAN,
        )


def test_termination_needs_two_different_people() -> None:
    review = run(NOTIFIED, (Action.ESCALATE, {"reason": "child labour found"}))
    at = T0 + timedelta(days=3)
    with pytest.raises(ActionRefused, match="nobody has proposed"):
        do(review, Action.APPROVE_TERMINATION, at=at, actor=DAVID)
    proposed = do(review, Action.TERMINATE, at=at, actor=CECILIA, reason="Clause 7.2 breached")
    assert proposed.to_state is State.SANCTION_REVIEW
    assert proposed.case.termination_proposed_by == CECILIA
    with pytest.raises(ActionRefused, match="different person"):
        do(proposed.case, Action.APPROVE_TERMINATION, at=at, actor=CECILIA.upper())
    with pytest.raises(ActionRefused, match="already proposed"):
        do(proposed.case, Action.TERMINATE, at=at, actor=DAVID, reason="again")
    done = do(proposed.case, Action.APPROVE_TERMINATION, at=at, actor=DAVID)
    assert done.to_state is State.TERMINATED
    assert done.decision is not None and done.decision.approves_pending
    assert done.data["proposed_by"] == CECILIA


def test_leaving_sanction_review_drops_a_pending_termination() -> None:
    review = run(NOTIFIED, (Action.ESCALATE, {"reason": "r"}))
    proposed = do(review, Action.TERMINATE, actor=CECILIA, at=T0 + timedelta(days=3), reason="r")
    resumed = do(proposed.case, Action.RESUME, actor=DAVID, at=T0 + timedelta(days=4))
    assert resumed.case.termination_proposed_by is None
    assert resumed.data["termination_proposal_dropped"] == CECILIA


def test_withdrawal_is_possible_from_open_active_and_review_states() -> None:
    histories: list[tuple[Step, ...]] = [
        (),
        (NOTIFIED,),
        (NOTIFIED, (Action.ESCALATE, {"reason": "r"})),
    ]
    for steps in histories:
        case = run(*steps)
        change = do(case, Action.WITHDRAW, at=T0 + timedelta(days=9), reason="duplicate")
        assert change.to_state is State.WITHDRAWN
        assert change.case.return_state is None


def test_at_must_not_be_in_the_future_nor_before_the_last_event() -> None:
    case = run(NOTIFIED)  # last event at T0
    request = ActionRequest(Action.SUBMIT_PLAN, ANNA, T0 + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="in the future"):
        perform(case, request, now=T0, calendar=CAL, policy=POLICY)
    # within the tolerated clock skew
    skew = ActionRequest(Action.SUBMIT_PLAN, ANNA, T0 + timedelta(minutes=4))
    assert perform(case, skew, now=T0, calendar=CAL, policy=POLICY).to_state is State.PLAN_REVIEW
    with pytest.raises(InvalidInput, match="order they happened"):
        do(case, Action.SUBMIT_PLAN, at=T0 - timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="before the finding was found"):
        do(new_case(), Action.NOTIFY, at=datetime(2026, 1, 31, 12, 0, tzinfo=UTC))


def test_perform_never_changes_the_case_it_is_given() -> None:
    case = run(NOTIFIED)
    snapshot = replace(case)
    do(case, Action.EXTEND, at=T0 + timedelta(days=1), until=date(2026, 5, 4), reason="r")
    with pytest.raises(InvalidInput):
        do(case, Action.EXTEND, at=T0 + timedelta(days=1), until=date(2026, 1, 4), reason="r")
    assert case == snapshot


def test_the_current_deadline_and_next_check_follow_the_state() -> None:
    awaiting = run(NOTIFIED)
    assert current_deadline(awaiting) == (DeadlineKind.PLAN, date(2026, 4, 7))
    # End of 7 April in Stockholm (CEST, +02:00) is 22:00 UTC.
    assert not is_overdue(awaiting, CAL, datetime(2026, 4, 7, 21, 59, 59, tzinfo=UTC))
    assert is_overdue(awaiting, CAL, datetime(2026, 4, 7, 22, 0, tzinfo=UTC))
    in_review = run(NOTIFIED, PLAN_IN)  # submitted on 4 March: review due 14 days later
    assert current_deadline(in_review) == (DeadlineKind.PLAN_REVIEW, date(2026, 3, 18))
    remediating = run(NOTIFIED, PLAN_IN, ACCEPTED)
    assert current_deadline(remediating) == (DeadlineKind.REMEDIATION, date(2026, 9, 3))
    assert remediating.review_due is None and DeadlineKind.PLAN_REVIEW not in remediating.ladder
    verifying = run(NOTIFIED, PLAN_IN, ACCEPTED, REPORTED)  # reported 6 March: 30 days
    assert current_deadline(verifying) == (DeadlineKind.VERIFICATION, date(2026, 4, 7))
    assert current_deadline(run()) is None


def test_one_machine_serves_every_finding() -> None:
    cases = [new_case() for _ in range(3)]
    for case in cases:
        assert MACHINE.events["notify"].trigger(case)
    assert all(c.state is State.AWAITING_PLAN for c in cases)
    assert MACHINE.models == []  # nothing registered: findings are not kept alive by it


def test_the_diagram_shows_every_state_and_transition() -> None:
    diagram = mermaid_diagram()
    assert diagram.splitlines()[3].startswith("stateDiagram-v2")
    for state in State:
        assert state.name in diagram
    assert "OPEN --> AWAITING_PLAN: notify" in diagram
    assert "SANCTION_REVIEW --> TERMINATED: approve_termination" in diagram
