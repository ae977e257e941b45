"""What a finding offers next: the termination step that fits, never one that would be refused."""

from __future__ import annotations

from datetime import timedelta

from cap.domain.lifecycle import Action, ActionRequest, available_actions
from cap.domain.model import Area, Case, Severity, State
from cap.workflow import Workflow
from tests.conftest import ANNA, BO, CECILIA, NOW, World


def _review(proposed_by: str | None) -> Case:
    return Case(
        state=State.SANCTION_REVIEW,
        severity=Severity.MAJOR,
        area=Area.WORKING_HOURS,
        return_state=State.AWAITING_PLAN,
        termination_proposed_by=proposed_by,
    )


def test_without_a_proposal_termination_can_be_proposed_not_approved() -> None:
    actions = available_actions(_review(None))
    assert Action.TERMINATE in actions
    assert Action.APPROVE_TERMINATION not in actions


def test_with_a_proposal_it_can_be_approved_not_proposed_again() -> None:
    actions = available_actions(_review(CECILIA))
    assert Action.APPROVE_TERMINATION in actions
    assert Action.TERMINATE not in actions


def test_show_offers_what_fits_and_a_refusal_lists_it(world: World) -> None:
    workflow: Workflow = world.workflow
    ref = world.finding()
    at = NOW - timedelta(days=40)
    for action, actor, reason in [
        (Action.NOTIFY, ANNA, None),
        (Action.ESCALATE, ANNA, "No plan after the formal notice"),
    ]:
        workflow.act(ref, ActionRequest(action, actor, at, reason=reason), now=NOW)
        at += timedelta(days=1)
    offered = workflow.show_finding(ref, now=NOW).allowed_actions
    assert "terminate" in offered and "approve-termination" not in offered
    workflow.act(ref, ActionRequest(Action.TERMINATE, BO, at, reason="Repeated breaches"), now=NOW)
    offered = workflow.show_finding(ref, now=NOW).allowed_actions
    assert "approve-termination" in offered and "terminate" not in offered
