"""The dashboard's "at risk" list (both databases): a finding whose supplier owes something
within AT_RISK_DAYS and never opened any link emailed about it; both sides of the range's
edge; opening the link takes it off; a finding whose emails carried no link is not listed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from cap.workflow import Workflow
from cap.workflow.dashboard import AT_RISK_DAYS
from tests.conftest import ANNA, World
from tests.web.conftest import Clock
from tests.web.desk_client import Desk
from tests.web.supplier_mail import emailed_path, notified

# Notified on NOW (3 March 2026): the plan is due on Tuesday 7 April 2026.
EDGE = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)  # 7 April is AT_RISK_DAYS away
BEFORE_EDGE = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)


def at_risk_section(page: str) -> str:
    return page.split("At risk: links never opened</h2>")[1].split("</section>")[0]


def test_a_deadline_near_with_its_link_never_opened_is_at_risk(
    linked_world: World, everyone: Workflow, signed_in: Callable[[str], Desk],
    clock: Clock, supplier: Desk,
) -> None:  # fmt: skip
    assert AT_RISK_DAYS == 7
    ref = notified(linked_world)
    # Notified without a secret key: its email carried the desk's page, no supplier link.
    unlinked = notified(World(everyone), title="Notified without a link")
    anna = signed_in(ANNA)
    clock.now = BEFORE_EDGE
    assert "No finding is at risk in the next 7 days." in at_risk_section(anna.get("/desk").text)
    clock.now = EDGE
    section = at_risk_section(anna.get("/desk").text)
    assert "1 finding is due from its supplier by 7 Apr 2026" in section
    assert ref in section and unlinked not in section
    assert supplier.get(emailed_path(linked_world, about=ref)).status_code == 200  # Li opens it
    assert "No finding is at risk" in at_risk_section(anna.get("/desk").text)
