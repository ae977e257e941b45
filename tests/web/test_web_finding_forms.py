"""Which action forms a finding's page offers: exactly the actions its state allows that the
signed-in user's role may take there (both databases)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from cap.domain.inputs import PlanAction, PlanInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, Severity
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk

_FORM = re.compile(r'<form method="post" action="/findings/[^/"]+/actions/([a-z_]+)"')


def offered_in(page: str) -> list[str]:
    return _FORM.findall(page)


def offered(desk: Desk, ref: str) -> list[str]:
    return offered_in(desk.get(f"/findings/{ref}").text)


def in_sanction_review(world: World) -> str:
    ref = world.finding(severity=Severity.CRITICAL)
    wf = world.workflow
    wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW - timedelta(days=2)), now=NOW)
    request = ActionRequest(Action.ESCALATE, ANNA, NOW - timedelta(days=1), reason="Confirmed")
    wf.act(ref, request, now=NOW)
    return ref


def test_a_contract_manager_is_offered_notify_on_an_open_finding(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = anna.get(f"/findings/{ref}").text
    assert _FORM.findall(page) == ["notify", "withdraw"]
    assert '<h3 id="action-notify">Notify the supplier</h3>' in page
    assert '<button type="submit" class="danger">Withdraw the finding</button>' in page
    assert '<input type="hidden" name="version" value="1">' in page
    # Every form's first field is the CSRF token.
    for form in re.findall(r"<form [^>]*>\s*<input [^>]*>", page):
        assert 'name="csrftoken"' in form


@pytest.mark.parametrize("who", [BO, ADA])
def test_a_viewer_and_an_admin_are_offered_no_action(
    desk_world: World, signed_in: Callable[[str], Desk], who: str
) -> None:
    ref = desk_world.finding()
    desk = signed_in(who)
    page = desk.get(f"/findings/{ref}").text
    assert _FORM.findall(page) == []
    assert "Your role cannot take the actions open now: Notify the supplier" in page
    assert f'action="/findings/{ref}/evidence"' not in page  # nor evidence uploads


def test_a_sustainability_manager_decides_only_in_sanction_review(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    sara = signed_in(SARA)
    awaiting = desk_world.finding(title="Awaiting a plan")
    desk_world.workflow.act(awaiting, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    assert offered(sara, awaiting) == ["escalate"]
    assert offered(sara, desk_world.finding(title="Open")) == []

    reviewed = in_sanction_review(desk_world)
    assert offered(sara, reviewed) == ["extend", "resume", "warn", "penalise", "terminate"]
    # The contract manager's part there: withdrawing the finding, no decision.
    assert offered(signed_in(ANNA), reviewed) == ["withdraw"]


def test_each_form_has_the_fields_of_its_action(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    desk_world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    page = signed_in(ANNA).get(f"/findings/{ref}").text
    for field in ("root_cause", "actions", "at"):
        assert f'<label for="submit_plan-{field}">' in page
    assert '<select id="extend-deadline" name="deadline">' in page
    assert '<input id="extend-until" name="until" type="date" value="">' in page
    assert '<textarea id="withdraw-reason" name="reason" rows="3"></textarea>' in page
    assert 'id="escalate-at" name="at" aria-describedby="escalate-at-hint"' in page


def test_the_fix_report_form_takes_files(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    wf = desk_world.workflow
    plan = PlanInput(
        root_cause="Peak orders",
        actions=[PlanAction(description="Hire", owner="HR", due=date(2026, 6, 1))],
    )
    wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW - timedelta(days=2)), now=NOW)
    wf.act(ref, ActionRequest(Action.SUBMIT_PLAN, LI, NOW - timedelta(days=1)), now=NOW, plan=plan)
    wf.act(ref, ActionRequest(Action.ACCEPT_PLAN, ANNA, NOW), now=NOW)
    page = signed_in(ANNA).get(f"/findings/{ref}").text
    assert offered_in(page) == [
        "report_remediation",
        "escalate",
        "request_extension",
        "extend",
        "withdraw",
    ]
    assert (
        f'<form method="post" action="/findings/{ref}/actions/report_remediation" '
        'aria-labelledby="action-report_remediation" novalidate enctype="multipart/form-data">'
    ) in page
    assert 'id="report_remediation-file" name="file"' in page
    assert page.count('enctype="multipart/form-data"') == 2  # and the evidence form


ROLES = {"viewer": BO, "contract_manager": ANNA, "sustainability_manager": SARA, "admin": ADA}


@pytest.mark.parametrize(
    ("role", "page", "attach", "notify"),
    [
        ("viewer", 200, 403, 403),
        ("contract_manager", 200, 400, 303),
        ("sustainability_manager", 200, 403, 403),
        ("admin", 200, 403, 403),
    ],
)
def test_what_each_role_gets(
    desk_world: World,
    signed_in: Callable[[str], Desk],
    role: str,
    page: int,
    attach: int,
    notify: int,
) -> None:
    ref = desk_world.finding()
    desk = signed_in(ROLES[role])
    path = f"/findings/{ref}"
    assert desk.get(path).status_code == page
    token = desk.token(path)
    # No file: the contract manager's upload is refused for that (400), the others' for the role.
    assert desk.post(f"{path}/evidence", {"csrftoken": token}).status_code == attach
    assert desk.post(f"{path}/actions/notify", {"csrftoken": token}).status_code == notify
