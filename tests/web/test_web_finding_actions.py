"""Taking actions from a finding's page: what is recorded, by whom and when; a bad value named
next to its field of that action's form, a stale form refused, a forged one from a role that
may not: nothing written (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from markupsafe import escape

from cap.domain.inputs import PlanAction, PlanInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, DeadlineKind, State
from cap.workflow import FindingView
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import SARA
from tests.web.desk_client import Desk

PLAN = PlanInput(
    root_cause="Orders accepted beyond line capacity",
    actions=[PlanAction(description="Cap overtime", owner="Plant manager", due=date(2026, 6, 30))],
)


def show(world: World, ref: str) -> FindingView:
    return world.workflow.show_finding(ref, now=NOW)


def notified(world: World) -> str:
    ref = world.finding()
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW - timedelta(days=2)), now=NOW)
    return ref


def in_plan_review(world: World) -> str:
    ref = notified(world)
    request = ActionRequest(Action.SUBMIT_PLAN, LI, NOW - timedelta(days=1))
    world.workflow.act(ref, request, now=NOW, plan=PLAN)
    return ref


def test_notify_is_recorded_for_the_signed_in_user_and_said_on_the_page(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    done = anna.submit(f"{page}/actions/notify", {"version": "1", "at": ""}, page=page)
    assert done.status_code == 303 and done.headers["location"] == f"{page}?done=notify"
    view = show(desk_world, ref)
    assert view.state is State.AWAITING_PLAN and view.version == 2
    event = view.events[-1]
    assert (event.kind, event.actor, event.at) == ("notify", ANNA, NOW + timedelta(hours=1))
    after = anna.get(done.headers["location"]).text
    assert '<p class="notice" role="status">Recorded: Supplier notified.</p>' in after
    assert "Warning:" not in after  # the supplier has an address


def test_when_it_happened_is_a_local_time_of_the_buyer(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    done = anna.submit(f"{page}/actions/notify", {"at": "2026-03-02T14:30"}, page=page)
    assert done.status_code == 303
    assert show(desk_world, ref).notified_at == datetime(2026, 3, 2, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("yesterday", "&#39;yesterday&#39; is not a date and time; write it like 2026-03-02T10:00"),
        ("2026-03-03T11:10", "is in the future; record actions once they happened"),
        ("2026-01-19T12:00", "is before the finding was found (2026-01-20)"),
    ],
)
def test_a_bad_moment_is_named_next_to_the_field_and_nothing_is_written(
    desk_world: World, signed_in: Callable[[str], Desk], at: str, message: str
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    refused = anna.submit(f"{page}/actions/notify", {"at": at}, page=page)
    assert refused.status_code == 400
    assert '<p class="error" id="notify-at-error">' in refused.text and message in refused.text
    assert f'value="{at}"' in refused.text  # kept in the form
    assert '<a href="#notify-at">When it happened: ' in refused.text
    assert show(desk_world, ref).state is State.OPEN and show(desk_world, ref).version == 1


def test_five_minutes_ahead_of_the_clock_is_still_now(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    # The clock is 11:00 in Stockholm; a person's watch may run a little ahead.
    assert (
        anna.submit(f"{page}/actions/notify", {"at": "2026-03-03T11:05"}, page=page).status_code
        == 303
    )


def test_a_plan_is_recorded_one_action_a_line(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = notified(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    lines = "Cap overtime at 60 h/week; Plant manager; 2026-06-30\n\nHire; train; HR; 2026-05-15\n"
    form = {"root_cause": "Peak orders beyond capacity", "actions": lines}
    assert anna.submit(f"{page}/actions/submit_plan", form, page=page).status_code == 303
    view = show(desk_world, ref)
    assert view.state is State.PLAN_REVIEW
    [plan] = view.plans
    assert plan.root_cause == "Peak orders beyond capacity" and plan.submitted_by == ANNA
    assert [(a.description, a.owner, a.due) for a in plan.actions] == [
        ("Cap overtime at 60 h/week", "Plant manager", date(2026, 6, 30)),
        ("Hire; train", "HR", date(2026, 5, 15)),
    ]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"root_cause": "", "actions": "Cap; PM; 2026-06-30"}, "root_cause", "must not be empty"),
        ({"root_cause": "Peak", "actions": ""}, "actions", "give at least one action, one a line"),
        (
            {"root_cause": "Peak", "actions": "Cap; PM; 2026-06-30\n\nHire someone"},
            "actions",
            "line 3: write it as: what is done; who does it; YYYY-MM-DD",
        ),
        (
            {"root_cause": "Peak", "actions": "\nCap; PM; 2026-06-30\nHire; ; 2026-06-30"},
            "actions",
            "line 3: owner: must not be empty",
        ),
        (
            {"root_cause": "Peak", "actions": "Cap; PM; 30/06/2026"},
            "actions",
            "line 1: due: &#39;30/06/2026&#39; is not a date; write it as YYYY-MM-DD",
        ),
    ],
)
def test_a_bad_plan_is_named_next_to_its_field(
    desk_world: World,
    signed_in: Callable[[str], Desk],
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    ref = notified(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    refused = anna.submit(f"{page}/actions/submit_plan", form, page=page)
    assert refused.status_code == 400
    assert f'<p class="error" id="submit_plan-{field}-error">{message}</p>' in refused.text
    assert show(desk_world, ref).plans == () and show(desk_world, ref).state is State.AWAITING_PLAN


def test_accepting_the_plan_starts_remediation(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = in_plan_review(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    form = {"note": "Credible dates"}
    assert anna.submit(f"{page}/actions/accept_plan", form, page=page).status_code == 303
    view = show(desk_world, ref)
    assert view.state is State.REMEDIATING
    assert (view.plans[0].review_outcome, view.plans[0].review_reason) == (
        "accepted",
        "Credible dates",
    )


def test_rejecting_a_plan_needs_a_reason(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = in_plan_review(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    refused = anna.submit(f"{page}/actions/reject_plan", {"reason": "  "}, page=page)
    assert refused.status_code == 400
    assert (
        '<p class="error" id="reject_plan-reason-error">reject-plan needs a reason</p>'
        in refused.text
    )
    assert 'aria-describedby="reject_plan-reason-error" aria-invalid="true"' in refused.text
    assert show(desk_world, ref).state is State.PLAN_REVIEW and show(desk_world, ref).version == 3

    form = {"reason": "No dates for the audit", "until": "2026-03-20"}
    assert anna.submit(f"{page}/actions/reject_plan", form, page=page).status_code == 303
    view = show(desk_world, ref)
    assert view.state is State.AWAITING_PLAN and view.plan_due == date(2026, 3, 20)
    assert view.plans[0].review_reason == "No dates for the audit"


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("", "extend needs the new deadline date"),
        ("2026-02-30", "&#39;2026-02-30&#39; is not a date; write it as YYYY-MM-DD"),
        ("2026-04-01", "2026-04-01 must be after the current plan deadline (2026-04-01)"),
        ("2026-03-01", "2026-03-01 must be after the current plan deadline (2026-04-01)"),
    ],
)
def test_an_extension_needs_a_later_date(
    desk_world: World, signed_in: Callable[[str], Desk], until: str, message: str
) -> None:
    ref = notified(desk_world)  # plan due Wed 1 April
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    form = {"until": until, "reason": "Factory closed for a week"}
    refused = anna.submit(f"{page}/actions/extend", form, page=page)
    assert refused.status_code == 400
    assert f'<p class="error" id="extend-until-error">{message}' in refused.text
    assert "Factory closed for a week</textarea>" in refused.text  # the reason kept
    view = show(desk_world, ref)
    assert (view.plan_due, view.extensions) == (date(2026, 4, 1), 0)


def test_an_extension_moves_the_deadline_chosen(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = notified(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    form = {"until": "2026-04-02", "reason": "Factory closed", "deadline": "plan"}
    assert anna.submit(f"{page}/actions/extend", form, page=page).status_code == 303
    view = show(desk_world, ref)
    assert (view.plan_due, view.extensions) == (date(2026, 4, 2), 1)

    wrong = {"until": "2026-10-01", "reason": "x", "deadline": "verification"}
    refused = anna.submit(f"{page}/actions/extend", wrong, page=page)
    assert refused.status_code == 400 and 'id="extend-deadline-error"' in refused.text
    assert show(desk_world, ref).remediation_due == view.remediation_due
    assert DeadlineKind.REMEDIATION.value in refused.text


def test_a_stale_form_is_refused_and_nothing_is_written(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = in_plan_review(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    seen = show(desk_world, ref).version
    # Someone else accepts the plan meanwhile.
    accepted = ActionRequest(Action.ACCEPT_PLAN, ANNA, NOW)
    desk_world.workflow.act(ref, accepted, now=NOW)
    form = {"version": str(seen), "reason": "Too vague"}
    stale = anna.submit(f"{page}/actions/reject_plan", form, page=page)
    assert stale.status_code == 409
    assert f"changed since version {seen} (now version {seen + 1}); reload it" in stale.text
    view = show(desk_world, ref)
    assert view.state is State.REMEDIATING and view.version == seen + 1


def test_a_stale_form_of_an_action_still_allowed_is_refused_too(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = notified(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    form = {"version": "1", "reason": "Closed for a week", "until": "2026-04-20"}
    stale = anna.submit(f"{page}/actions/extend", form, page=page)
    assert stale.status_code == 409
    assert '<p class="error" id="extend-form-error">' in stale.text
    assert 'name="version" value="2"' in stale.text  # the form now carries the version shown
    assert show(desk_world, ref).extensions == 0


def test_an_action_the_state_does_not_allow_is_refused_with_what_is(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    refused = anna.submit(f"{page}/actions/accept_plan", {}, page=page)
    assert refused.status_code == 409
    assert (
        escape("cannot accept-plan: the finding is open; allowed now: notify, withdraw")
        in refused.text
    )
    assert show(desk_world, ref).version == 1


def test_an_unknown_action_is_not_found(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    assert anna.submit(f"{page}/actions/approve", {}, page=page).status_code == 404
    assert anna.submit("/findings/NC-2026-9999/actions/notify", {}, page=page).status_code == 404


@pytest.mark.parametrize("who", [BO, SARA])
def test_a_forged_form_from_a_role_that_may_not_is_refused(
    desk_world: World, signed_in: Callable[[str], Desk], who: str
) -> None:
    ref = desk_world.finding()
    forger = signed_in(who)
    page = f"/findings/{ref}"
    refused = forger.submit(f"{page}/actions/notify", {"version": "1"}, page=page)
    assert refused.status_code == 403
    assert "Your role does not allow this" in refused.text
    view = show(desk_world, ref)
    assert view.state is State.OPEN and view.version == 1 and len(view.events) == 1


def test_an_action_whose_email_reaches_nobody_is_recorded_with_a_warning(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = notified(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    done = anna.submit(f"{page}/actions/escalate", {"reason": "Forged time sheets"}, page=page)
    assert done.status_code == 303
    assert show(desk_world, ref).state is State.SANCTION_REVIEW
    after = anna.get(done.headers["location"]).text
    assert "Recorded: Escalated to sanction review." in after
    assert after.count('<p class="notice" role="alert"><strong>Warning:</strong> An email') == 2
    assert "reached nobody for decision_makers" in after
    assert "reached nobody for sustainability_manager" in after


def test_the_notice_never_repeats_text_from_the_address(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    page = signed_in(ANNA).get(f"/findings/{ref}?done=<b>hacked</b>").text
    assert "<b>hacked" not in page and 'class="notice"' not in page
    assert "&lt;b&gt;hacked" not in page[page.index("<main") :]
