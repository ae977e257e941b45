"""The reports a supplier owes, on the page its link opens: those still owed (due or
escalated) on any of its contracts, with their due dates and whom to send them to, read-only;
never a report settled, nor another supplier's (SQLite: the page reads through the workflow's
own list, tested on both databases)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cap.domain.model import Language, ObligationKind, ObligationState
from cap.domain.obligations import DutyAction, DutyRequest
from tests.conftest import ANNA, NOW, World
from tests.web.conftest import SARA, Clock
from tests.web.desk_client import Desk
from tests.web.supplier_mail import emailed_path, notified
from tests.web.test_web_supplier_page import another_supplier

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

DUE = date(2026, 6, 30)


def test_the_link_shows_the_reports_the_supplier_still_owes_and_whom_to_send_them_to(
    linked_world: World, supplier: Desk
) -> None:
    workflow = linked_world.workflow
    notified(linked_world)
    owed = workflow.add_obligation(linked_world.contract, due=DUE, actor=ANNA, now=NOW)
    workflow.add_obligation(linked_world.contract, kind=ObligationKind.OTHER, due=DUE,
                            title="Audit <plan> 2026", actor=ANNA, now=NOW)  # fmt: skip
    received = workflow.add_obligation(linked_world.contract, kind=ObligationKind.SELF_ASSESSMENT,
                                       due=DUE, actor=ANNA, now=NOW)  # fmt: skip
    workflow.act_on_obligation(
        received.id, DutyRequest(DutyAction.RECEIVE, ANNA, NOW, received_on=NOW.date()), now=NOW
    )
    waived = workflow.add_obligation(linked_world.contract, kind=ObligationKind.MINERALS_REPORT,
                                     due=DUE, actor=ANNA, now=NOW)  # fmt: skip
    workflow.act_on_obligation(
        waived.id, DutyRequest(DutyAction.WAIVE, SARA, NOW, reason="No minerals"), now=NOW
    )
    page = supplier.get(emailed_path(linked_world)).text
    assert '<h2 id="h-reports">Reports you owe</h2>' in page
    assert "<h3>Social-risk report</h3>" in page
    assert "<h3>Audit &lt;plan&gt; 2026</h3>" in page  # the buyer's title, escaped
    assert "Contract RS-2019-ICT-01. Due Tue 30 Jun 2026." in page
    assert f'Send it to: <a href="mailto:{ANNA}">{ANNA}</a>' in page
    assert "Self-assessment" not in page and "Conflict-minerals" not in page
    assert "Overdue" not in page
    # Read-only: nothing to send, nor a way to the desk's page of the report.
    assert f"/obligations/{owed.id}" not in page
    assert page.count('<form method="post"') == 1  # the language switch alone


def test_an_escalated_report_is_still_owed_and_said_overdue(
    linked_world: World, supplier: Desk, clock: Clock
) -> None:
    workflow = linked_world.workflow
    notified(linked_world)
    soon = NOW.date() + timedelta(days=1)
    report = workflow.add_obligation(linked_world.contract, due=soon, actor=ANNA, now=NOW)
    clock.now = NOW + timedelta(days=45)  # past the ladder's last step
    workflow.sweep_obligations(now=clock.now)
    assert workflow.show_obligation(report.id, now=NOW).obligation.state is (
        ObligationState.ESCALATED
    )
    page = supplier.get(emailed_path(linked_world)).text
    assert "Reports you owe" in page and "Due Wed 4 Mar 2026." in page
    assert '<span class="overdue-flag"><span aria-hidden="true">⚠</span> Overdue</span>' in page


def test_another_suppliers_report_never_shows(linked_world: World, supplier: Desk) -> None:
    workflow = linked_world.workflow
    notified(linked_world)
    other = another_supplier(workflow, "Other Phones AB", "eva@other.example", Language.SV)
    workflow.add_obligation(other.contract, kind=ObligationKind.SELF_ASSESSMENT, due=DUE,
                            title="Other's self-assessment", actor=ANNA, now=NOW)  # fmt: skip
    ours = supplier.get(emailed_path(linked_world)).text
    assert "Reports you owe" not in ours  # the world's contract owes none
    assert "Other&#39;s self-assessment" not in ours and "RS-OTHER" not in ours
    workflow.add_obligation(linked_world.contract, due=DUE, actor=ANNA, now=NOW)
    ours = supplier.get(emailed_path(linked_world)).text
    assert "Reports you owe" in ours and "RS-OTHER" not in ours
    # The other supplier's own link shows its report alone, in its contact's language.
    notified(other)
    theirs = supplier.get(emailed_path(other, to="eva@other.example")).text
    assert '<h2 id="h-reports">Rapporter ni ska lämna</h2>' in theirs
    assert "<h3>Other&#39;s self-assessment</h3>" in theirs
    assert "Avtal RS-OTHER. Senast tis 30 juni 2026." in theirs
    assert "RS-2019-ICT-01" not in theirs
