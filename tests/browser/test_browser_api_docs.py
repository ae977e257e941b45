"""The API's interactive documentation in chromium, against `cap serve`: Swagger UI loads from
cap itself under the strict CSP (no error the policy reports), passes axe, and a token typed
into Authorize lists the findings through "Try it out"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cap.config import Settings
from cap.domain.model import StaffRole
from cap.store.db import Database
from cap.workflow import Workflow
from tests.browser.conftest import Tab, check_page

pytestmark = pytest.mark.slow  # a server process and a browser


def _token(tab: Tab) -> str:
    db = Database(tab.served.database_url)
    workflow = Workflow(db=db, settings=Settings(database_url=tab.served.database_url))
    made = workflow.create_token("docs", StaffRole.VIEWER, expires_days=1, now=datetime.now(UTC))
    db.engine.dispose()
    return made.token


def test_the_docs_page_tries_the_api_with_a_token(tab: Tab) -> None:
    token = _token(tab)
    response = tab.goto("/api/v1/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = tab.page
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock-summary-path", has_text="/findings:import").count() == 1
    check_page(tab, "api-docs")
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").first.fill(token)
    page.locator(".auth-container button.authorize").first.click()
    page.locator("button.btn-done").first.click()
    listing = page.locator("#operations-findings-list_findings")
    listing.locator(".opblock-summary").click()
    listing.locator("button.try-out__btn").click()
    listing.locator("button.execute").click()
    answer = listing.locator(".responses-table.live-responses-table")
    answer.wait_for()
    assert "200" in answer.locator("tbody .response-col_status").first.inner_text()
    assert "Fire exits chained shut" in answer.inner_text()
    csp = [m for m in tab.console if "Content Security Policy" in m]
    assert csp == []
