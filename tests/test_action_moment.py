"""When an action may be dated (``--at``): never beyond now plus the clock skew, never before
the local day the finding was found, never before the finding's last recorded event other
than "logged" (a finding communicated last week may be logged in cap today). Each bound is
checked on both sides, to the microsecond, on the pure domain with a fixed ``now``; what the
database adds (the logged event, a sweep's) through the workflow on both databases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from cap.domain.calendar import BusinessCalendar
from cap.domain.lifecycle import (
    CLOCK_SKEW,
    Action,
    ActionRequest,
    Change,
    DeadlinePolicy,
    perform,
)
from cap.domain.model import Area, Case, Severity, State
from cap.errors import InvalidInput
from tests.conftest import ANNA, NOW, World

CAL = BusinessCalendar()
POLICY = DeadlinePolicy()
FOUND = date(2026, 2, 2)
TICK = timedelta(microseconds=1)


def found() -> Case:
    return Case(state=State.OPEN, severity=Severity.MAJOR, area=Area.WAGES, found_on=FOUND)


def act(case: Case, action: Action, at: datetime) -> Change:
    """``action`` dated ``at``, recorded at ``NOW``."""
    return perform(case, ActionRequest(action, ANNA, at), now=NOW, calendar=CAL, policy=POLICY)


# -- the pure domain: exact bounds -----------------------------------------------------------


def test_an_action_may_be_dated_up_to_the_clock_skew_ahead_and_no_further() -> None:
    assert act(found(), Action.NOTIFY, NOW + CLOCK_SKEW).case.notified_at == NOW + CLOCK_SKEW
    with pytest.raises(InvalidInput) as refused:
        act(found(), Action.NOTIFY, NOW + CLOCK_SKEW + TICK)
    assert refused.value.message == (
        f"at: {(NOW + CLOCK_SKEW + TICK).isoformat()} is in the future; "
        "record actions once they happened"
    )


def test_an_action_may_be_dated_from_the_local_day_the_finding_was_found() -> None:
    first = CAL.at(FOUND, time(0, 0))
    assert first == datetime(2026, 2, 1, 23, 0, tzinfo=UTC)  # midnight in Stockholm
    assert act(found(), Action.NOTIFY, first).to_state is State.AWAITING_PLAN
    with pytest.raises(InvalidInput, match=r"before the finding was found \(2026-02-02\)"):
        act(found(), Action.NOTIFY, first - TICK)


def test_an_action_may_share_the_moment_of_the_last_one_but_not_precede_it() -> None:
    last = NOW - timedelta(days=3)
    notified = act(found(), Action.NOTIFY, last).case
    assert act(notified, Action.SUBMIT_PLAN, last).to_state is State.PLAN_REVIEW
    with pytest.raises(InvalidInput, match="before the finding's last recorded event"):
        act(notified, Action.SUBMIT_PLAN, last - TICK)


# -- through the workflow: which recorded events bound an action ------------------------------


def test_notify_may_be_dated_before_the_finding_was_logged(world: World) -> None:
    ref = world.finding(found_on=FOUND, now=NOW)  # logged today...
    last_week = NOW - timedelta(days=7)  # ...communicated to the supplier last week
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, last_week), now=NOW)
    view = world.workflow.show_finding(ref, now=NOW)
    assert view.state == State.AWAITING_PLAN.value
    assert [(e.kind, e.at) for e in view.events] == [
        ("logged", NOW),
        ("notify", last_week),
    ]


def test_a_sweep_s_event_bounds_the_actions_after_it(world: World) -> None:
    ref = world.finding(found_on=FOUND, now=NOW)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    later = NOW + timedelta(days=60)  # the plan is overdue: the sweep records a step
    assert world.workflow.sweep(now=later).steps >= 1

    def withdraw(at: datetime) -> None:
        request = ActionRequest(Action.WITHDRAW, ANNA, at, reason="Logged twice")
        world.workflow.act(ref, request, now=later)

    with pytest.raises(InvalidInput, match="before the finding's last recorded event"):
        withdraw(later - TICK)
    withdraw(later)
    assert world.workflow.show_finding(ref, now=later).state == State.WITHDRAWN.value
