"""An extension request on a finding's page: shown to staff with what was asked, recorded from
the desk, declined next to extend with a reason (the supplier is emailed), refused without
one or from a role that may not: nothing written (both databases; Swedish too)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.config import Settings
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, State
from cap.store.models import OutboxMessage
from cap.workflow import FindingView
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import PASSWORD, SARA, Clock
from tests.web.desk_client import Desk

WHY = "Our auditor can only return in week 16"
_FORM = re.compile(r'<form method="post" action="/findings/[^/"]+/actions/([a-z_]+)"')


def show(world: World, ref: str) -> FindingView:
    return world.workflow.show_finding(ref, now=NOW)


def notified(world: World) -> str:
    """A finding notified on 1 March: its plan is due on Wednesday 1 April 2026."""
    ref = world.finding()
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW - timedelta(days=2)), now=NOW)
    return ref


def asked(world: World) -> str:
    """A notified finding whose supplier asked for 29 April."""
    ref = notified(world)
    request = ActionRequest(Action.REQUEST_EXTENSION, LI, NOW - timedelta(days=1),
                            until=date(2026, 4, 29), reason=WHY)  # fmt: skip
    world.workflow.act(ref, request, now=NOW)
    return ref


def emails(world: World, kind: str) -> list[tuple[str, str]]:
    with world.workflow.db.read() as session:
        rows = session.execute(
            select(OutboxMessage).where(col(OutboxMessage.kind) == kind)
        ).scalars()
        return [(r.recipient, r.recipient_role) for r in rows]


def test_a_pending_request_is_shown_and_declined_next_to_extend(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = asked(desk_world)
    page = signed_in(ANNA).get(f"/findings/{ref}").text

    assert (
        "<dt>Extension requested</dt>\n"
        f"  <dd>until Wed 29 Apr 2026: {WHY}<br>"
        f'<span class="muted">2 Mar 2026 10:00, {LI}</span></dd>'
    ) in page
    assert (
        '<p class="notice">The supplier asks for more time, until Wed 29 Apr 2026: extend the '
        "deadline to grant it, or decline the request.</p>"
    ) in page
    offered = _FORM.findall(page)
    assert offered.index("decline_extension") == offered.index("extend") + 1
    decline = page[page.index('action="/findings/NC-2026-0001/actions/decline_extension"') :]
    decline = decline[: decline.index("</form>")]
    assert '<input type="hidden" name="csrftoken" value="' in decline
    assert '<h3 id="action-decline_extension">Decline the request for more time</h3>' in decline
    assert '<textarea id="decline_extension-reason" name="reason" rows="3"></textarea>' in decline
    # Granting is extending to the date asked for: the form starts with it.
    assert '<input id="extend-until" name="until" aria-describedby="extend-until-hint" ' in page
    assert 'type="date" value="2026-04-29">' in page
    assert "<strong>Extension requested</strong>, " + LI in page  # the history
    assert "Date asked for: Wed 29 Apr 2026" in page


def test_a_viewer_sees_the_request_and_no_form(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = asked(desk_world)
    page = signed_in(BO).get(f"/findings/{ref}").text
    assert "<dt>Extension requested</dt>" in page
    assert _FORM.findall(page) == []
    assert "The supplier asks for more time" not in page  # a call to act, for who may


def test_without_a_request_nothing_is_shown_and_decline_is_not_offered(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = notified(desk_world)
    page = signed_in(ANNA).get(f"/findings/{ref}").text
    assert "Extension requested" not in page
    assert "decline_extension" not in _FORM.findall(page)
    assert '<input id="extend-until" name="until" type="date" value="">' in page


def test_a_request_is_recorded_from_the_desk_and_the_contract_manager_emailed(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = notified(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    form = {"until": "2026-04-29", "reason": WHY}
    done = anna.submit(f"{page}/actions/request_extension", form, page=page)

    assert done.status_code == 303
    assert done.headers["location"] == f"{page}?done=request_extension"
    view = show(desk_world, ref)
    assert view.extension_request is not None
    assert (view.extension_request.until, view.extension_request.requested_by) == (
        date(2026, 4, 29), ANNA,
    )  # fmt: skip
    assert emails(desk_world, "extension_requested") == [(ANNA, "contract_manager")]
    after = anna.get(done.headers["location"]).text
    assert '<p class="notice" role="status">Recorded: Extension requested.</p>' in after


def test_a_request_before_the_deadline_is_named_next_to_its_field(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = notified(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    form = {"until": "2026-03-31", "reason": WHY}
    refused = anna.submit(f"{page}/actions/request_extension", form, page=page)

    assert refused.status_code == 400
    assert '<p class="error" id="request_extension-until-error">' in refused.text
    assert '<a href="#request_extension-until">Date asked for: ' in refused.text
    assert '<label for="request_extension-until">Date asked for</label>' in refused.text
    assert "2026-03-31 must be after the current plan deadline (2026-04-01)" in refused.text
    view = show(desk_world, ref)
    assert (view.version, view.extension_request) == (2, None)
    assert emails(desk_world, "extension_requested") == []


def test_declining_tells_the_supplier_and_clears_the_request(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = asked(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    form = {"reason": "The plan can be written before the audit"}
    done = anna.submit(f"{page}/actions/decline_extension", form, page=page)

    assert done.status_code == 303
    view = show(desk_world, ref)
    assert (view.state, view.plan_due, view.extension_request) == (
        State.AWAITING_PLAN, date(2026, 4, 1), None,
    )  # fmt: skip
    assert (view.events[-1].kind, view.events[-1].actor) == ("decline_extension", ANNA)
    assert emails(desk_world, "extension_declined") == [(LI, "supplier")]
    after = anna.get(done.headers["location"]).text
    assert '<p class="notice" role="status">Recorded: Extension declined.</p>' in after
    assert "<dt>Extension requested</dt>" not in after
    assert "decline_extension" not in _FORM.findall(after)
    assert "<strong>Extension declined</strong>, " + ANNA in after


def test_a_decline_without_a_reason_is_named_next_to_its_field(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = asked(desk_world)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    refused = anna.submit(f"{page}/actions/decline_extension", {"reason": " "}, page=page)

    assert refused.status_code == 400
    assert '<p class="error" id="decline_extension-reason-error">' in refused.text
    assert "decline-extension needs a reason" in refused.text
    assert '<a href="#decline_extension-reason">Reason: ' in refused.text
    view = show(desk_world, ref)
    assert view.version == 3 and view.extension_request is not None
    assert emails(desk_world, "extension_declined") == []


@pytest.mark.parametrize("who", [BO, SARA])
def test_a_role_that_may_not_extend_may_not_decline(
    desk_world: World, signed_in: Callable[[str], Desk], who: str
) -> None:
    ref = asked(desk_world)
    forger = signed_in(who)
    page = f"/findings/{ref}"
    refused = forger.submit(f"{page}/actions/decline_extension", {"reason": "No"}, page=page)

    assert refused.status_code == 403
    view = show(desk_world, ref)
    assert view.version == 3 and view.extension_request is not None


@pytest.fixture
def anna_sv(web_settings: Settings, desk_world: World, clock: Clock) -> Iterator[Desk]:
    desk = Desk(web_settings, accept_language="sv", clock=clock)
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    yield desk
    desk.close()


def test_the_request_and_its_forms_in_swedish(desk_world: World, anna_sv: Desk) -> None:
    ref = asked(desk_world)
    page = anna_sv.get(f"/findings/{ref}").text

    assert "<dt>Förlängning begärd</dt>" in page
    assert f"<dd>till ons 29 apr. 2026: {WHY}" in page
    assert "Leverantören begär förlängd tidsfrist till ons 29 apr. 2026" in page
    assert (
        '<h3 id="action-request_extension">Registrera en begäran om förlängd tidsfrist</h3>' in page
    )
    assert '<h3 id="action-decline_extension">Avslå begäran om förlängd tidsfrist</h3>' in page
    assert "Ifylld med den dag leverantören begärde." in page
    assert '<label for="request_extension-until">Begärd dag</label>' in page
    assert "<strong>Förlängning begärd</strong>" in page and "Begärd dag: ons 29 apr. 2026" in page
