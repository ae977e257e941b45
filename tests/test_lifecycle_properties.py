"""Property: no sequence of actions, allowed or refused, reaches an inconsistent finding."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from cap.domain.calendar import BusinessCalendar
from cap.domain.lifecycle import Action, ActionRequest, DeadlinePolicy, allowed_actions, perform
from cap.domain.model import ACTIVE_STATES, Area, Case, DeadlineKind, Severity, State
from cap.errors import ActionRefused, InvalidInput

CAL = BusinessCalendar()
POLICY = DeadlinePolicy()
PEOPLE = ("anna@r.example", "cecilia@r.example", "david@r.example")
START = datetime(2025, 12, 20, 9, 0, tzinfo=UTC)

# One step: an action the state allows (most of the time, so that sequences reach deep states)
# or any action at all (to exercise refusals); who, when, whether a reason is given, a date.
step = st.tuples(
    st.floats(min_value=0, max_value=1),  # picks among the allowed actions
    st.booleans(),  # ...or, when False one time in five, any action
    st.sampled_from(list(Action)),
    st.sampled_from(PEOPLE),
    st.integers(min_value=0, max_value=60 * 24 * 40),  # minutes after the previous step
    st.integers(min_value=0, max_value=9),  # 0: no reason or note (refused where needed)
    st.one_of(st.none(), st.integers(min_value=-30, max_value=400)),  # until, days from now
    st.one_of(st.none(), st.sampled_from(list(DeadlineKind))),
)
steps = st.lists(step, max_size=40)


def check(case: Case, history: list[tuple[Action, str, State]]) -> None:
    """The invariants of a finding, given the accepted actions that led to it."""
    if case.state in ACTIVE_STATES or case.state is State.SANCTION_REVIEW:
        assert case.notified_at is not None
        assert case.plan_due is not None and case.remediation_due is not None
    if case.state is State.SANCTION_REVIEW:
        assert case.return_state in ACTIVE_STATES
    else:
        assert case.return_state is None
        assert case.termination_proposed_by is None
    if case.state not in (State.AWAITING_PLAN, State.REMEDIATING):
        assert case.extension_request is None, "a request outlived what it asked more time for"
    for due in (case.plan_due, case.remediation_due):
        if due is not None:
            assert not CAL.is_closed(due), f"deadline {due} on a closed day"
    if case.state is State.CLOSED:
        action, _, before = history[-1]
        assert action is Action.VERIFY and before is State.VERIFYING
    if case.state is State.TERMINATED:
        approver = history[-1][1]
        proposals = [who for a, who, _ in history if a is Action.TERMINATE]
        assert history[-1][0] is Action.APPROVE_TERMINATION
        assert proposals and proposals[-1] != approver
    assert case.escalation_level in (0, 3)


@settings(max_examples=600, deadline=None)
@given(steps)
def test_random_action_sequences_never_reach_an_inconsistent_finding(
    sequence: list[tuple[float, bool, Action, str, int, int, int | None, DeadlineKind | None]],
) -> None:
    case = Case(
        state=State.OPEN, severity=Severity.MAJOR, area=Area.WAGES, found_on=date(2025, 12, 1)
    )
    at = START
    history: list[tuple[Action, str, State]] = []
    for pick, allowed_only, anything, actor, minutes, explain, until_days, kind in sequence:
        # Withdrawal ends a sequence: it comes only from the "any action" draws.
        allowed: list[Action] = [a for a in allowed_actions(case.state) if a is not Action.WITHDRAW]
        if allowed and (allowed_only or pick > 0.2):
            action = allowed[min(int(pick * len(allowed)), len(allowed) - 1)]
        else:
            action = anything
        at += timedelta(minutes=minutes)
        request = ActionRequest(
            action=action,
            actor=actor,
            at=at,
            reason="because" if explain else None,
            note="checked" if explain else None,
            until=None if until_days is None else at.date() + timedelta(days=until_days),
            deadline=kind,
        )
        before = replace(case)
        try:
            change = perform(case, request, now=at, calendar=CAL, policy=POLICY)
        except (ActionRefused, InvalidInput):
            assert case == before, "a refused action changed the finding"
            continue
        assert case == before, "perform changed its input"
        assert change.from_state is case.state and change.to_state is change.case.state
        bumped = change.case.deadline_version - case.deadline_version
        assert bumped == (1 if change.deadline_changes else 0)
        history.append((action, actor, case.state))
        case = change.case
        check(case, history)
    event(f"ends {case.state.value}")  # --hypothesis-show-statistics: which states were reached
