"""Terminating a contract takes two sustainability managers: one proposes, another approves;
the proposer cannot approve, and nobody else is offered the form or may forge it (both
databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, DecisionOutcome, Severity, State
from tests.conftest import ANNA, NOW, World
from tests.web.conftest import SARA, SVEN
from tests.web.desk_client import Desk


def in_sanction_review(world: World) -> str:
    ref = world.finding(severity=Severity.CRITICAL)
    wf = world.workflow
    wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW - timedelta(days=2)), now=NOW)
    request = ActionRequest(Action.ESCALATE, ANNA, NOW - timedelta(days=1), reason="Confirmed")
    wf.act(ref, request, now=NOW)
    return ref


def test_termination_is_proposed_by_one_and_approved_by_another(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = in_sanction_review(desk_world)
    page = f"/findings/{ref}"
    sara, anna, sven = signed_in(SARA), signed_in(ANNA), signed_in(SVEN)

    form = {"reason": "Child labour confirmed, clause 7.2"}
    proposed = sara.submit(f"{page}/actions/terminate", form, page=page)
    assert proposed.status_code == 303
    view = desk_world.workflow.show_finding(ref, now=NOW)
    assert (view.state, view.termination_proposed_by) == (State.SANCTION_REVIEW, SARA)

    hers = sara.get(page).text
    assert f"proposed by {SARA}; awaiting the approval of another sustainability manager" in hers
    assert "You proposed the termination: another sustainability manager must approve it." in hers
    assert f'action="{page}/actions/approve_termination"' in hers
    assert f'action="{page}/actions/terminate"' not in hers  # proposed once

    # The proposer's own approval: refused next to the form, nothing written.
    refused = sara.submit(f"{page}/actions/approve_termination", {}, page=page)
    assert refused.status_code == 409
    assert (
        '<p class="error" id="approve_termination-form-error">cannot approve-termination: '
        f"{SARA} proposed it; termination needs the approval of a different person</p>"
    ) in refused.text
    assert desk_world.workflow.show_finding(ref, now=NOW).version == view.version

    # A contract manager is not offered the approval, and a forged one is refused.
    theirs = anna.get(page).text
    assert "approve_termination" not in theirs and "You proposed" not in theirs
    forged = anna.submit(f"{page}/actions/approve_termination", {}, page=page)
    assert forged.status_code == 403
    assert desk_world.workflow.show_finding(ref, now=NOW).state is State.SANCTION_REVIEW

    # A second sustainability manager approves.
    his = sven.get(page).text
    assert "You proposed" not in his
    approved = sven.submit(f"{page}/actions/approve_termination", {"note": "Agreed"}, page=page)
    assert approved.status_code == 303
    final = desk_world.workflow.show_finding(ref, now=NOW)
    assert final.state is State.TERMINATED
    [decision] = final.decisions
    assert (decision.outcome, decision.proposed_by, decision.approved_by) == (
        DecisionOutcome.TERMINATION, SARA, SVEN
    )  # fmt: skip
    shown = sven.get(approved.headers["location"]).text
    assert "Recorded: Termination approved." in shown
    assert '<th scope="row">termination</th>' in shown and f", {SVEN}</td>" in shown
    assert "Nothing more: the finding is terminated." in shown


def test_a_pending_proposal_is_shown_as_awaiting_approval(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = in_sanction_review(desk_world)
    request = ActionRequest(Action.TERMINATE, SARA, NOW, reason="Clause 7.2")
    desk_world.workflow.act(ref, request, now=NOW)
    page = signed_in(ANNA).get(f"/findings/{ref}").text
    assert "<td>awaiting approval</td>" in page
    assert f"proposed by {SARA}; awaiting the approval" in page
