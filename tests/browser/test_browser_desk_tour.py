"""A contract manager's day on the desk, in a real browser: sign in, log a finding, notify the
supplier, see it on the dashboard and in the list, accept the plan the supplier sent (recorded
with the command line), while a viewer sees no forms and a forged form from a viewer is refused;
then the desk in Swedish. Every page on the way passes axe-core (tests/browser/conftest.py)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ANNA, BO, CONTRACT, Served, Tab, check_page

pytestmark = pytest.mark.slow  # a server process and a browser

TITLE = "Forced overtime at final assembly"
REF = re.compile(r"NC-\d{4}-\d{4}")


def _state(tab: Tab) -> str:
    return str(tab.page.locator("dl.details").first.inner_text())


def test_a_contract_managers_day(tab: Tab, chromium: Any, served: Served, tmp_path: Path) -> None:
    page = tab.page
    tab.sign_in(ANNA)
    check_page(tab)

    # Log a finding through the form, reached from the menu.
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Log a finding").click()
    page.get_by_label("Contract", exact=True).select_option(CONTRACT)
    page.get_by_label("Severity").select_option("major")
    page.get_by_label("Area").select_option("working_hours")
    page.get_by_label("Source").select_option("monitoring_report")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Description").fill("Workers report 80-hour weeks in peak season.")
    page.get_by_label("Site", exact=True).fill("Final assembly, Dongguan")
    page.get_by_label("Country of the site").fill("CN")
    page.get_by_label("Found on").fill((date.today() - timedelta(days=5)).isoformat())
    check_page(tab, "log-a-finding")
    page.get_by_role("button", name="Log the finding").click()
    page.wait_for_url("**/findings/NC-*")
    found = REF.search(page.url)
    assert found is not None
    ref = found.group(0)
    assert page.get_by_role("status").first.inner_text() == f"{ref} logged."

    # Notify the supplier: the plan is now due.
    page.get_by_role("button", name="Notify the supplier").click()
    page.wait_for_url(f"**/findings/{ref}?done=notify")
    assert "awaiting plan" in _state(tab)
    check_page(tab)

    # The dashboard and the list show it.
    page.get_by_role("link", name="Dashboard").click()
    assert page.get_by_role("link", name=ref).count() >= 1
    check_page(tab, "dashboard")
    menu.get_by_role("link", name="Findings").click()
    page.get_by_label("Search").fill("overtime")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q=overtime"))  # the list is in its address, to share

    assert page.get_by_role("link", name=ref).count() == 1
    check_page(tab, "findings")

    # The supplier's plan arrives by email; it is recorded with the command line.
    plan = tmp_path / "plan.json"
    due = (date.today() + timedelta(days=90)).isoformat()
    plan.write_text(json.dumps({
        "root_cause": "Orders accepted beyond line capacity in peak season",
        "actions": [{"description": "Cap overtime at 60 h/week", "owner": "Plant manager",
                     "due": due}],
    }))  # fmt: skip
    recorded = subprocess.run(
        ["cap", "finding", "submit-plan", ref, "--file", str(plan),
         "--as", "li.wei@nordic-it.example"],
        env=served.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr

    # Accepted on the page.
    tab.goto(f"/findings/{ref}")
    assert "plan review" in _state(tab)
    assert "Cap overtime at 60 h/week" in page.locator("main").inner_text()
    page.get_by_label("Note").first.fill("Actions and dates are credible")
    page.get_by_role("button", name="Accept the plan").click()
    page.wait_for_url(f"**/findings/{ref}?done=accept_plan")
    assert "remediating" in _state(tab)
    check_page(tab, "finding")

    # A viewer sees the finding but no form to act on it, and a forged form is refused.
    viewer = Tab(chromium, served)
    try:
        viewer.sign_in(BO)
        viewer.goto(f"/findings/{ref}")
        assert viewer.page.locator("form[action*='/actions/']").count() == 0
        assert viewer.page.get_by_role("button", name="Verify and close").count() == 0
        check_page(viewer)
        token = viewer.page.locator("input[name=csrftoken]").first.get_attribute("value")
        forged = viewer.page.request.post(
            f"{served.url}/findings/{ref}/actions/verify",
            form={"csrftoken": token or "", "note": "looks fine to me"},
            headers={"origin": served.url},
        )
        assert forged.status == 403
        viewer.goto(f"/findings/{ref}")
        assert "remediating" in _state(viewer)  # nothing changed
    finally:
        viewer.close()

    # In Swedish, remembered for Anna.
    page.get_by_role("button", name="Svenska").click()
    assert page.locator("html").get_attribute("lang") == "sv"
    assert "åtgärdas" in _state(tab)
    tab.goto("/desk")
    assert page.get_by_role("heading", level=1).inner_text() == "Översikt"
    check_page(tab, "dashboard-sv")
