"""A supplier asks for more time (request-extension), the contract manager grants it (extend) or
declines it (decline-extension), and the supplier is told either way: what each records and
emails, what is refused while changing nothing (both databases), and the lifecycle's rules for
a request on the pure domain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from cap.config import Settings, default_rules_path
from cap.domain.calendar import BusinessCalendar
from cap.domain.inputs import PlanAction, PlanInput
from cap.domain.lifecycle import (
    Action,
    ActionRequest,
    Change,
    DeadlinePolicy,
    available_actions,
    perform,
)
from cap.domain.model import Area, Case, DeadlineKind, Severity, State
from cap.errors import ActionRefused, CapError, InvalidInput
from cap.store.db import Database
from cap.store.models import Event, Finding, OutboxMessage
from cap.workflow import ExtensionRequestView, FindingView, Workflow
from tests.conftest import ANNA, CECILIA, LI, NOW, World, make_world

#: Notified on Sunday 1 March 2026: the plan is due on Wednesday 1 April, the fix on 1 September.
NOTIFIED_AT = NOW - timedelta(days=2)
PLAN_DUE = date(2026, 4, 1)
ASKED_AT = NOW - timedelta(days=1)
WHY = "Our auditor can only return in week 16; the root cause analysis needs that audit."
PLAN = PlanInput(
    root_cause="Orders accepted beyond line capacity",
    actions=[PlanAction(description="Cap overtime", owner="Plant manager", due=date(2026, 6, 30))],
)


def notified(world: World) -> str:
    ref = world.finding()
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOTIFIED_AT), now=NOW)
    return ref


def act(
    world: World, ref: str, action: Action, *, actor: str = ANNA, at: datetime = NOW, **kw: Any
) -> FindingView:
    plan = PLAN if action is Action.SUBMIT_PLAN else None
    request = ActionRequest(action, actor, at, **kw)
    view = world.workflow.act(ref, request, now=NOW, plan=plan).finding
    assert view is not None
    return view


def ask(
    world: World,
    ref: str,
    until: date = date(2026, 4, 29),
    *,
    at: datetime = ASKED_AT,
    reason: str = WHY,
) -> FindingView:
    """The supplier's request, recorded as Li Wei made it."""
    return act(world, ref, Action.REQUEST_EXTENSION, actor=LI, at=at, until=until, reason=reason)


def emails(world: World, kind: str) -> list[tuple[str, str]]:
    """(recipient, role) of each outbox row of ``kind``, in the order queued."""
    with world.workflow.db.read() as session:
        rows = session.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.kind) == kind)
            .order_by(col(OutboxMessage.id))
        ).scalars()
        return [(r.recipient, r.recipient_role) for r in rows]


def body(world: World, kind: str) -> str:
    with world.workflow.db.read() as session:
        row = session.execute(
            select(OutboxMessage).where(col(OutboxMessage.kind) == kind)
        ).scalar_one()
        return f"{row.subject}\n{row.text_body}"


def written(world: World, ref: str) -> tuple[int, int, int, date | None]:
    """What an action would have changed: the finding's version and request, its events, the
    outbox."""
    with world.workflow.db.read() as session:
        finding = session.execute(select(Finding).where(col(Finding.ref) == ref)).scalar_one()
        events = session.execute(
            select(func.count()).select_from(Event).where(col(Event.finding_id) == finding.id)
        ).scalar_one()
        outbox = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        return finding.version, int(events), int(outbox), finding.extension_request


# -- asking ----------------------------------------------------------------------------------


def test_a_request_is_recorded_and_the_contract_manager_is_emailed(world: World) -> None:
    ref = notified(world)
    view = ask(world, ref)

    assert (view.state, view.plan_due, view.extensions) == (State.AWAITING_PLAN, PLAN_DUE, 0)
    assert view.extension_request == ExtensionRequestView(
        until=date(2026, 4, 29),
        deadline=DeadlineKind.PLAN,
        reason=WHY,
        requested_by=LI,
        requested_at=ASKED_AT,
    )
    event = view.events[-1]
    assert (event.kind, event.actor, event.from_state, event.to_state) == (
        "request_extension", LI, State.AWAITING_PLAN, State.AWAITING_PLAN,
    )  # fmt: skip
    assert (event.data["until"], event.data["reason"], event.data["deadline"]) == (
        "2026-04-29", WHY, "plan",
    )  # fmt: skip
    assert "deadlines" not in event.data  # asking moves no deadline
    assert emails(world, "extension_requested") == [(ANNA, "contract_manager")]
    email = body(world, "extension_requested")
    assert WHY in email and f"/findings/{ref}" in email  # the desk's page, where it is decided
    assert "decline-extension" in view.allowed_actions


def test_a_request_while_remediating_is_about_the_fix(world: World) -> None:
    ref = notified(world)
    act(world, ref, Action.SUBMIT_PLAN, actor=LI, at=NOW - timedelta(hours=3))
    act(world, ref, Action.ACCEPT_PLAN, at=NOW - timedelta(hours=2))
    view = ask(world, ref, until=date(2026, 10, 1), at=NOW - timedelta(hours=1))

    assert view.extension_request is not None
    assert (view.extension_request.deadline, view.remediation_due) == (
        DeadlineKind.REMEDIATION, date(2026, 9, 1),
    )  # fmt: skip


def test_a_second_request_replaces_the_first(world: World) -> None:
    ref = notified(world)
    ask(world, ref, until=date(2026, 5, 29), at=ASKED_AT)
    view = ask(world, ref, until=date(2026, 4, 29), at=NOW, reason="Week 16 is enough after all")

    assert view.extension_request is not None
    assert (view.extension_request.until, view.extension_request.reason) == (
        date(2026, 4, 29), "Week 16 is enough after all",
    )  # fmt: skip
    assert view.events[-1].data["replaces"] == "2026-05-29"
    assert len(emails(world, "extension_requested")) == 2  # one for each request


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"until": None}, InvalidInput, "until: request-extension needs the date the supplier"),
        ({"until": PLAN_DUE}, InvalidInput,
         "until: 2026-04-01 must be after the current plan deadline (2026-04-01)"),
        ({"until": date(2026, 3, 20)}, InvalidInput,
         "until: 2026-03-20 must be after the current plan deadline (2026-04-01)"),
        ({"until": date(2062, 4, 1)}, InvalidInput, "until: 2062-04-01 is more than 3 years away"),
        ({"reason": None}, InvalidInput, "reason: request-extension needs a reason"),
        ({"reason": "  "}, InvalidInput, "reason: request-extension needs a reason"),
        ({"deadline": DeadlineKind.REMEDIATION}, InvalidInput,
         "deadline: a request is about the deadline the supplier owes now (plan)"),
    ],
)  # fmt: skip
def test_a_bad_request_is_refused_in_one_line_and_changes_nothing(
    world: World, changes: dict[str, Any], error: type[CapError], message: str
) -> None:
    ref = notified(world)
    before = written(world, ref)
    asked: dict[str, Any] = {"until": date(2026, 4, 29), "reason": WHY, **changes}
    request = ActionRequest(Action.REQUEST_EXTENSION, LI, ASKED_AT, **asked)

    with pytest.raises(error) as refused:
        world.workflow.act(ref, request, now=NOW)

    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
    assert written(world, ref) == before


@pytest.mark.parametrize("state", ["open", "plan_review", "verifying", "sanction_review"])
def test_a_request_is_refused_where_the_supplier_owes_no_deadline(world: World, state: str) -> None:
    ref = world.finding() if state == "open" else notified(world)
    if state in ("plan_review", "verifying"):
        act(world, ref, Action.SUBMIT_PLAN, actor=LI, at=NOW - timedelta(hours=3))
    if state == "verifying":
        act(world, ref, Action.ACCEPT_PLAN, at=NOW - timedelta(hours=2))
        act(world, ref, Action.REPORT_REMEDIATION, actor=LI, at=NOW - timedelta(hours=1))
    if state == "sanction_review":
        act(world, ref, Action.ESCALATE, at=NOW - timedelta(hours=1), reason="No answer")
    before = written(world, ref)

    with pytest.raises(ActionRefused, match=rf"^cannot request-extension: the finding is {state}"):
        ask(world, ref, at=NOW)
    assert written(world, ref) == before


# -- answering -------------------------------------------------------------------------------


def test_declining_needs_a_pending_request_and_changes_nothing_without_one(world: World) -> None:
    ref = notified(world)
    before = written(world, ref)
    assert "decline-extension" not in world.workflow.show_finding(ref, now=NOW).allowed_actions

    with pytest.raises(ActionRefused) as refused:
        act(world, ref, Action.DECLINE_EXTENSION, reason="No")

    assert str(refused.value) == (
        "cannot decline-extension: no extension request is pending; record the supplier's "
        "request with request-extension first"
    )
    assert written(world, ref) == before


def test_declining_needs_a_reason(world: World) -> None:
    ref = notified(world)
    ask(world, ref)
    before = written(world, ref)
    with pytest.raises(InvalidInput, match=r"^reason: decline-extension needs a reason$"):
        act(world, ref, Action.DECLINE_EXTENSION)
    assert written(world, ref) == before


def test_a_declined_request_is_cleared_and_the_supplier_told_the_deadline_stands(
    world: World,
) -> None:
    ref = notified(world)
    ask(world, ref)
    view = act(world, ref, Action.DECLINE_EXTENSION, reason="The plan can be written now")

    assert (view.state, view.plan_due, view.extensions) == (State.AWAITING_PLAN, PLAN_DUE, 0)
    assert view.extension_request is None
    assert "decline-extension" not in view.allowed_actions
    event = view.events[-1]
    assert (event.kind, event.actor) == ("decline_extension", ANNA)
    assert (event.data["until"], event.data["reason"]) == (
        "2026-04-29", "The plan can be written now",
    )  # fmt: skip
    assert emails(world, "extension_declined") == [(LI, "supplier")]
    email = body(world, "extension_declined")  # the supplier reads English
    assert "The plan can be written now" in email
    assert "29 April 2026" in email and "the deadline remains 1 April 2026" in email


def test_extending_grants_the_request_and_the_supplier_is_told(world: World) -> None:
    ref = notified(world)
    ask(world, ref)
    view = act(world, ref, Action.EXTEND, until=date(2026, 4, 29), reason="Audit in week 16")

    assert (view.plan_due, view.extensions, view.extension_request) == (
        date(2026, 4, 29), 1, None,
    )  # fmt: skip
    assert view.events[-1].data["granted_request"] == "2026-04-29"
    assert emails(world, "decision_extension") == [(LI, "supplier")]
    assert emails(world, "extension_declined") == []
    with pytest.raises(ActionRefused, match="no extension request is pending"):
        act(world, ref, Action.DECLINE_EXTENSION, reason="Too late")


def test_a_request_ends_when_the_finding_moves_on(world: World) -> None:
    ref = notified(world)
    ask(world, ref)
    view = act(world, ref, Action.SUBMIT_PLAN, actor=LI)

    assert (view.state, view.extension_request) == (State.PLAN_REVIEW, None)
    assert view.events[-1].data["extension_request_dropped"] == "2026-04-29"


def test_declining_needs_whoever_the_rules_let_grant(settings: Settings, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        default_rules_path()
        .read_text()
        .replace("approvers = []", 'approvers = ["decision_makers"]')
    )
    configured = settings.model_copy(update={"rules": rules, "decision_makers": CECILIA})
    world = make_world(Workflow(Database(configured.database_url), configured))
    ref = notified(world)
    ask(world, ref)  # anyone may ask
    before = written(world, ref)

    with pytest.raises(
        ActionRefused, match=r"^cannot decline-extension: extensions are decided by"
    ):
        act(world, ref, Action.DECLINE_EXTENSION, reason="No")
    assert written(world, ref) == before
    view = act(world, ref, Action.DECLINE_EXTENSION, actor=CECILIA, reason="No")
    assert view.extension_request is None


# -- the lifecycle alone ---------------------------------------------------------------------

CAL = BusinessCalendar()
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _do(case: Case, action: Action, days: int, **kw: Any) -> Change:
    at = T0 + timedelta(days=days)
    request = ActionRequest(action, ANNA, at, **kw)
    return perform(case, request, now=at, calendar=CAL, policy=DeadlinePolicy())


def test_decline_is_offered_only_while_a_request_is_pending() -> None:
    case = Case(state=State.OPEN, severity=Severity.MAJOR, area=Area.WAGES)
    awaiting = _do(case, Action.NOTIFY, 0).case
    asked = _do(awaiting, Action.REQUEST_EXTENSION, 1, until=date(2026, 5, 4), reason="r").case

    assert Action.REQUEST_EXTENSION in available_actions(awaiting)
    assert Action.DECLINE_EXTENSION not in available_actions(awaiting)
    assert Action.DECLINE_EXTENSION in available_actions(asked)
    assert available_actions(asked).index(Action.EXTEND) + 1 == available_actions(asked).index(
        Action.DECLINE_EXTENSION
    )  # offered next to extend
    assert asked.deadline_version == awaiting.deadline_version  # no deadline moved


def test_escalating_drops_a_pending_request() -> None:
    case = Case(state=State.OPEN, severity=Severity.MAJOR, area=Area.WAGES)
    awaiting = _do(case, Action.NOTIFY, 0).case
    asked = _do(awaiting, Action.REQUEST_EXTENSION, 1, until=date(2026, 5, 4), reason="r").case
    escalated = _do(asked, Action.ESCALATE, 2, reason="No plan")

    assert escalated.case.extension_request is None
    assert escalated.data["extension_request_dropped"] == "2026-05-04"
    back = _do(escalated.case, Action.RESUME, 3).case
    assert back.state is State.AWAITING_PLAN and back.extension_request is None
