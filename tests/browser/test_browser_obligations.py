"""The suppliers' reports in a real browser: the list and a report's page pass axe-core in
English and in Swedish, at desktop width and at 320 px; a contract manager records a report as
received with the keyboard alone, from the list to the form; and the supplier's own page
lists the report it still owes. Screenshots: obligations.png, obligations-sv.png,
obligation.png (tests/browser/conftest.py says where they go)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.store.db import Database
from cap.store.models import OutboxMessage
from tests.browser.conftest import ANNA, CONTRACT, Served, Tab, check_page, fits_width

pytestmark = pytest.mark.slow  # a server process and a browser

LI = "li.wei@nordic-it.example"  # the supplier's contact (tests/browser/conftest.py)
_LINK = re.compile(r"https?://[^\s\"<>]+/s/[A-Za-z0-9_.\-]+")
#: Tab presses allowed to reach an element: far more than the pages have before it.
_MAX_TABS = 120


def cap(served: Served, *args: str) -> Any:
    """`cap ARGS --json` on the served database; what it prints, read."""
    done = subprocess.run(["cap", *args, "--json"], env=served.env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def reports(served: Served) -> tuple[int, int]:
    """Two reports the contract asks for, recorded on the command line: the social-risk
    report, overdue for three weeks, and a self-assessment due in two months."""
    today = date.today()
    overdue = cap(served, "obligation", "add", CONTRACT, "--as", ANNA.email,
                  "--due", (today - timedelta(days=21)).isoformat())  # fmt: skip
    ahead = cap(served, "obligation", "add", CONTRACT, "--as", ANNA.email,
                "--kind", "self_assessment", "--title", "Code of conduct self-assessment",
                "--due", (today + timedelta(days=60)).isoformat())  # fmt: skip
    return int(overdue["id"]), int(ahead["id"])


def _show(tab: Tab, path: str, *, language: str, width: int = 1280) -> None:
    tab.context.add_cookies([{"name": "cap_language", "value": language, "url": tab.served.url}])
    tab.page.set_viewport_size({"width": width, "height": 900})
    tab.goto(path)
    assert tab.page.locator("html").get_attribute("lang") == language


def tab_to(tab: Tab, reached: Callable[[], bool]) -> None:
    """Press Tab until ``reached`` (the keyboard's way through the page)."""
    for _ in range(_MAX_TABS):
        tab.page.keyboard.press("Tab")
        if reached():
            return
    raise AssertionError("the keyboard never reached it")


def focused(tab: Tab, attribute: str) -> str:
    return str(tab.page.evaluate(f"document.activeElement.getAttribute('{attribute}') || ''"))


def test_the_reports_pages_pass_axe_in_both_languages_and_at_320_pixels(
    tab: Tab, reports: tuple[int, int]
) -> None:
    overdue, _ = reports
    tab.sign_in(ANNA)
    for path, name in (("/obligations", "obligations"), (f"/obligations/{overdue}", "obligation")):
        _show(tab, path, language="en")
        check_page(tab, name)
        _show(tab, path, language="sv")
        check_page(tab, f"{name}-sv")
        _show(tab, path, language="en", width=320)
        assert fits_width(tab), path
        check_page(tab)
    _show(tab, "/obligations?overdue=1&state=escalated", language="en")
    assert tab.page.locator("#found").inner_text() == "0 reports found"
    _show(tab, "/obligations?state=lost", language="sv")  # the error next to its field
    check_page(tab)
    # A date in the future, refused next to its field: the error summary passes axe too.
    _show(tab, f"/obligations/{overdue}", language="en")
    tab.page.locator("#receive-received_on").fill((date.today() + timedelta(days=2)).isoformat())
    tab.page.get_by_role("button", name="Record the report as received").click()
    assert "is in the future" in tab.page.locator("#receive-received_on-error").inner_text()
    check_page(tab)


def test_a_report_is_recorded_as_received_with_the_keyboard_alone(
    tab: Tab, reports: tuple[int, int]
) -> None:
    overdue, _ = reports
    tab.sign_in(ANNA)
    _show(tab, "/obligations?overdue=1", language="en")
    page = tab.page
    # From the top of the page: the skip link, then on through the list to the report.
    tab_to(tab, lambda: focused(tab, "href") == f"/obligations/{overdue}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/obligations/{overdue}")
    tab_to(tab, lambda: focused(tab, "id") == "receive-received_on")
    assert page.locator("#receive-received_on").input_value() == date.today().isoformat()
    tab_to(tab, lambda: focused(tab, "id") == "receive-reference")  # past the date's parts
    page.keyboard.type("SR-2026-7")
    page.keyboard.press("Enter")  # sends the form the field is in
    page.wait_for_url(f"**/obligations/{overdue}?done=receive")
    assert page.get_by_role("status").inner_text() == "Recorded: the report was received."
    details = page.locator("dl.details").inner_text()
    assert "received" in details and "Overdue" not in details
    assert "Reference: SR-2026-7" in page.locator("ol.timeline").inner_text()
    assert page.locator("form[action$='/receive']").count() == 0  # nothing more to record
    check_page(tab)


def test_the_supplier_sees_the_report_it_still_owes(
    tab: Tab, served: Served, reports: tuple[int, int]
) -> None:
    # The seeded finding's request again, with a link signed by the server's key.
    cap(served, "link", "resend", f"NC-{date.today().year}-0001")
    db = Database(served.database_url)
    try:
        with db.read() as session:
            body = session.execute(
                select(col(OutboxMessage.text_body))
                .where(col(OutboxMessage.recipient) == LI)
                .order_by(col(OutboxMessage.id).desc())
            ).scalars().first()  # fmt: skip
    finally:
        db.engine.dispose()
    assert body is not None
    found = _LINK.search(body)
    assert found
    path = urlsplit(found.group(0)).path
    _show(tab, path, language="en")
    section = tab.page.locator("section[aria-labelledby='h-reports']")
    assert section.get_by_role("heading", name="Reports you owe").is_visible()
    assert "Code of conduct self-assessment" in section.inner_text()
    assert ANNA.email in section.inner_text()
    check_page(tab)
    _show(tab, path, language="sv")
    assert tab.page.get_by_role("heading", name="Rapporter ni ska lämna").is_visible()
    check_page(tab)
