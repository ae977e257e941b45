"""``cap finding request-extension`` and ``cap finding decline-extension``: what they record
and print, what ``show`` then says, and their refusals, each one line that changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cap.domain.lifecycle import Action, ActionRequest
from tests.cli_runner import Cap
from tests.conftest import ANNA, LI, World

WHY = "Our auditor can only return in week 16"


def notified(world: World) -> tuple[str, date]:
    """A finding notified an hour ago, and its plan deadline."""
    now = datetime.now(UTC)
    found = now.date() - timedelta(days=30)
    ref = world.finding(found_on=found, now=now - timedelta(hours=2))
    request = ActionRequest(Action.NOTIFY, ANNA, now - timedelta(hours=1))
    view = world.workflow.act(ref, request, now=now).finding
    assert view is not None and view.plan_due is not None
    return ref, view.plan_due


def test_a_request_is_recorded_shown_and_declined(cap: Cap, world: World) -> None:
    ref, plan_due = notified(world)
    until = (plan_due + timedelta(days=14)).isoformat()

    asked = cap.ok("finding", "request-extension", ref, "--until", until, "--reason", WHY,
                   actor=LI)  # fmt: skip
    shown, view = cap.ok("finding", "show", ref), cap.show(ref)
    declined = cap.json("finding", "decline-extension", ref, "--reason", "Write the plan now")

    assert asked.strip() == f"{ref}: request-extension recorded (still awaiting_plan)"
    assert view["extension_request"]["until"] == until
    assert (view["extension_request"]["reason"], view["extension_request"]["requested_by"]) == (
        WHY, LI,
    )  # fmt: skip
    assert view["plan_due"] == plan_due.isoformat()  # asking moves nothing
    assert "decline-extension" in view["allowed_actions"]
    assert f"extension asked  until {until} by {LI}: {WHY} (extend or decline-extension)" in shown
    assert "request_extension" in shown  # the history
    assert declined["extension_request"] is None
    assert declined["plan_due"] == plan_due.isoformat()
    assert "decline-extension" not in declined["allowed_actions"]
    assert [(e["kind"], e["actor"], e["data"]["until"]) for e in declined["events"][-2:]] == [
        ("request_extension", LI, until),
        ("decline_extension", ANNA, until),
    ]


def test_refusals_are_one_line_and_change_nothing(cap: Cap, world: World) -> None:
    ref, plan_due = notified(world)
    before = cap.show(ref)

    no_date = cap.fails("finding", "request-extension", ref, "--reason", WHY, code=2)
    too_early = cap.fails("finding", "request-extension", ref, "--until", plan_due.isoformat(),
                          "--reason", WHY, code=2)  # fmt: skip
    absurd = cap.fails("finding", "request-extension", ref, "--until", "2066-01-05",
                       "--reason", WHY, code=2)  # fmt: skip
    later = (plan_due + timedelta(days=14)).isoformat()
    no_reason = cap.fails("finding", "request-extension", ref, "--until", later, code=2)
    nothing_asked = cap.fails("finding", "decline-extension", ref, "--reason", "No", code=6)

    assert no_date == "error: until: request-extension needs the date the supplier asks for"
    assert too_early.startswith(f"error: until: {plan_due.isoformat()} must be after the current")
    assert "is more than 3 years away" in absurd
    assert no_reason == "error: reason: request-extension needs a reason"
    assert nothing_asked.startswith("error: cannot decline-extension: no extension request")
    assert cap.show(ref) == before


def test_the_commands_say_what_they_do(cap: Cap) -> None:
    request = cap.ok("finding", "request-extension", "--help")
    decline = cap.ok("finding", "decline-extension", "--help")

    assert "Record the supplier's request for more time" in request
    assert "--until" in request and "The date asked for" in request and "--reason" in request
    assert "Decline the supplier's pending extension request" in decline
    assert "--reason" in decline and "--until" not in decline
