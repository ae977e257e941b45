"""Every main page passes axe-core (no serious or critical violation), in both languages, at
desktop width and at 320 px, and is usable from the keyboard."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.browser.conftest import (
    ADA,
    ANNA,
    BO,
    CONTRACT,
    ORG,
    Person,
    Served,
    Tab,
    check_page,
    fits_width,
)

pytestmark = pytest.mark.slow  # a server process and a browser

#: Every main page, and who may see it: (path, who, screenshot name or None).
PAGES: list[tuple[str, Person, str | None]] = [
    ("/desk", ANNA, None),
    ("/findings", ANNA, None),
    ("/findings?state=awaiting_plan&sort=title&order=desc", ANNA, None),
    (f"/findings/NC-{date.today().year}-0001", ANNA, None),
    ("/findings/new", ANNA, None),
    ("/suppliers", ANNA, "suppliers"),
    (f"/suppliers/{ORG}", ANNA, "supplier"),
    ("/suppliers/new", ANNA, None),
    (f"/suppliers/{ORG}/edit", ANNA, None),
    ("/contracts", ANNA, "contracts"),
    (f"/contracts/{CONTRACT}", ANNA, "contract"),
    ("/contracts/new", ANNA, None),
    (f"/contracts/{CONTRACT}/edit", ANNA, None),
    ("/outbox", ANNA, "outbox"),
    ("/rules", ANNA, "rules"),
    ("/reports", BO, "reports"),  # a viewer: every staff role reads the figures
    ("/reports?from=2026-13-01", BO, None),  # the error next to its field
    ("/reports?print=1", BO, None),
    ("/planning", BO, "planning"),  # the year's plan (see planned), read by a viewer
    (f"/planning?year={date.today().year + 1}", BO, None),  # no plan: the command to make one
    ("/planning?year=20x6", BO, None),  # the error next to its field
    ("/users", ADA, "users"),
    ("/users/new", ADA, None),
    ("/users/1", ADA, None),
    ("/users", ANNA, None),  # the page saying the role does not allow it
    ("/account/password", ANNA, "your-password"),
    ("/nowhere", ANNA, None),  # not found
]
IDS = [f"{who.role.value}:{path}" for path, who, _ in PAGES]


def test_the_sign_in_page_passes_axe(tab: Tab) -> None:
    tab.goto("/login")
    check_page(tab, "login")
    tab.page.get_by_role("button", name="Sign in").click()  # empty: errors by their fields
    check_page(tab, "login-errors")


@pytest.fixture(scope="module")
def planned(served: Served) -> None:
    """This year's audit plan, made and followed up on the command line (as the desk says):
    the planning page shows a plan with an audit recorded against it."""
    this_year = date.today().year
    for command in (
        ["plan", "audits", "--year", str(this_year), "--capacity", "100%", "--as", ANNA.email],
        ["audit", "add", ORG, "--kind", "desktop", "--date", date.today().isoformat(),
         "--auditor", "Ethica Consulting", "--report", "ETH-2026-04", "--contract", CONTRACT,
         "--as", ANNA.email],
    ):  # fmt: skip
        done = subprocess.run(["cap", *command], env=served.env, capture_output=True,
                              text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def tabs(chromium: Any, served: Served, planned: None) -> Iterator[dict[str, Tab]]:
    """A signed-in tab for each person of PAGES, shared by the module's tests."""
    opened: dict[str, Tab] = {}
    for who in {who for _, who, _ in PAGES}:
        opened[who.email] = Tab(chromium, served)
        opened[who.email].sign_in(who)
    yield opened
    for tab in opened.values():
        tab.close()


def _show(tab: Tab, path: str, *, language: str, width: int) -> None:
    tab.context.add_cookies([{"name": "cap_language", "value": language, "url": tab.served.url}])
    tab.page.set_viewport_size({"width": width, "height": 900})
    tab.goto(path)
    assert tab.page.locator("html").get_attribute("lang") == language


@pytest.mark.parametrize(("path", "who", "name"), PAGES, ids=IDS)
def test_each_main_page_passes_axe_in_both_languages_and_at_320_pixels(
    tabs: dict[str, Tab], path: str, who: Person, name: str | None
) -> None:
    tab = tabs[who.email]
    _show(tab, path, language="en", width=1280)
    check_page(tab, name)
    _show(tab, path, language="sv", width=1280)
    check_page(tab)
    _show(tab, path, language="en", width=320)
    assert fits_width(tab), path
    check_page(tab)


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(tab: Tab) -> None:
    tab.sign_in(ANNA)
    tab.page.keyboard.press("Tab")
    focused = tab.page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    assert tab.page.locator(".skip-link").is_visible()
    tab.page.keyboard.press("Enter")
    assert tab.page.evaluate("document.activeElement.id") == "main"
