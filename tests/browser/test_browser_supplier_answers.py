"""The supplier's path end to end, in a real browser against `cap serve` delivering to a real
SMTP server (aiosmtpd): a contract manager notifies a finding on the desk; the server receives
the email; the supplier opens the link it carries, writes a plan (an action added on the page),
sends it and a file; the contract manager accepts the plan on the desk; the supplier's next
email says so and its link shows what is expected now. Every supplier page passes axe-core in
English and in Swedish."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from cap.config import Settings
from cap.domain.inputs import FindingInput
from cap.domain.model import Area, Severity, Source
from cap.store.db import Database
from cap.workflow import Workflow
from tests.browser.conftest import ANNA, CONTRACT, Served, Tab, check_page, serving
from tests.smtp_server import Handler, smtp_server

pytestmark = pytest.mark.slow  # a server process, an SMTP server and a browser

LI = "li.wei@nordic-it.example"
LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9_.\-]+")


@pytest.fixture(scope="module")
def mailed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Handler]]:
    with smtp_server() as (handler, port), serving(
        tmp_path_factory.mktemp("supplier"),
        CAP_SMTP_HOST="127.0.0.1", CAP_SMTP_PORT=str(port), CAP_SMTP_TLS="none",
        CAP_MAIL_FROM="cap@region.example",
    ) as running:  # fmt: skip
        yield running, handler


def email_about(handler: Handler, ref: str, words: str, timeout: float = 30) -> EmailMessage:
    """The first email to Li about ``ref`` whose subject has ``words``, once it arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in handler.messages_to(LI):
            if ref in str(message["subject"]) and words in str(message["subject"]):
                return message
        time.sleep(0.2)
    subjects = [str(m["subject"]) for m in handler.messages_to(LI)]
    raise AssertionError(f"no email to {LI} about {ref} with {words!r}; got {subjects}")


def link_in(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    found = LINK.search(str(part.get_content()))
    assert found, "the email carries no supplier link"
    return found.group(0)


def logged(served: Served) -> str:
    workflow = Workflow(db=Database(served.database_url),
                        settings=Settings(database_url=served.database_url))  # fmt: skip
    try:
        return workflow.log_finding(
            FindingInput(contract=CONTRACT, severity=Severity.MAJOR, area=Area.WORKING_HOURS,
                         source=Source.MONITORING_REPORT, title="Forced overtime at assembly",
                         description="Workers report 80-hour weeks in peak season.",
                         site="Final assembly, Dongguan", site_country="CN",
                         found_on=date.today() - timedelta(days=4)),
            actor=ANNA.email, now=datetime.now(UTC),
        )  # fmt: skip
    finally:
        workflow.db.engine.dispose()


def test_the_supplier_answers_through_the_emailed_link(
    chromium: Any, mailed: tuple[Served, Handler], tmp_path: Path
) -> None:
    served, handler = mailed
    ref = logged(served)
    anna = Tab(chromium, served)
    li = Tab(chromium, served)
    try:
        anna.sign_in(ANNA)
        anna.goto(f"/findings/{ref}")
        anna.page.get_by_role("button", name="Notify the supplier").click()
        anna.page.wait_for_url(f"**/findings/{ref}?done=notify")

        request = email_about(handler, ref, "Corrective action plan requested")
        page = li.page
        page.goto(link_in(request))
        assert page.get_by_role("heading", level=1).inner_text() == (
            "Findings for Nordic IT Supply AB"
        )
        check_page(li, "supplier-link")
        page.get_by_role("link", name=re.compile(ref)).click()
        page.get_by_label("Root cause").fill("Peak-season orders accepted beyond capacity")
        due = (date.today() + timedelta(days=90)).isoformat()
        page.locator("#description_0").fill("Cap overtime at 60 hours a week")
        page.locator("#owner_0").fill("Plant manager")
        page.locator("#due_0").fill(due)
        page.get_by_role("button", name="Add an action").click()
        assert page.locator("fieldset.plan-action").count() == 4
        assert page.locator("#description_0").input_value() == "Cap overtime at 60 hours a week"
        page.locator("#description_3").fill("Hire temporary staff for the peak")
        page.locator("#owner_3").fill("HR")
        page.locator("#due_3").fill(due)
        check_page(li, "supplier-plan")
        page.get_by_role("button", name="Send the plan").click()
        page.wait_for_url("**?done=submit_plan")
        assert "Recorded: Plan sent." in page.get_by_role("status").inner_text()

        register = tmp_path / "overtime-register.pdf"
        register.write_bytes(b"%PDF-1.7 overtime register")
        page.locator("#files-file").set_input_files(str(register))
        page.get_by_role("button", name="Send files").click()
        page.wait_for_url("**?done=evidence_added")
        assert "overtime-register.pdf" in page.locator("main").inner_text()
        check_page(li)

        anna.goto(f"/findings/{ref}")
        main = anna.page.locator("main").inner_text()
        assert "Hire temporary staff for the peak" in main and "overtime-register.pdf" in main
        anna.page.get_by_role("button", name="Accept the plan").click()
        anna.page.wait_for_url(f"**/findings/{ref}?done=accept_plan")

        accepted = email_about(handler, ref, "Corrective action plan accepted")
        page.goto(link_in(accepted))
        page.get_by_role("link", name=re.compile(ref)).click()
        assert "Carry out the plan and report the fix" in page.locator("main").inner_text()
        page.get_by_role("button", name="Svenska").click()
        assert page.locator("html").get_attribute("lang") == "sv"
        check_page(li, "supplier-link-sv")
    finally:
        anna.close()
        li.close()
