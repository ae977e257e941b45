"""Every main page passes axe-core (no serious or critical violation), in both languages, at
desktop width and at 320 px, and is usable from the keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ANNA, Served, Tab, check_page, fits_width

pytestmark = pytest.mark.slow  # a server process and a browser

PAGES = ["/desk"]


def test_the_sign_in_page_passes_axe(tab: Tab) -> None:
    tab.goto("/login")
    check_page(tab, "login")
    tab.page.get_by_role("button", name="Sign in").click()  # empty: errors by their fields
    check_page(tab, "login-errors")


@pytest.mark.parametrize("path", PAGES)
def test_each_main_page_passes_axe(tab: Tab, path: str) -> None:
    tab.sign_in(ANNA)
    tab.goto(path)
    check_page(tab, path.strip("/").replace("/", "-") or "index")


@pytest.mark.parametrize("path", PAGES)
def test_each_main_page_is_usable_at_320_pixels(chromium: Any, served: Served, path: str) -> None:
    narrow = Tab(chromium, served, width=320)
    try:
        narrow.sign_in(ANNA)
        narrow.goto(path)
        assert fits_width(narrow), path
        check_page(narrow)
    finally:
        narrow.close()


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(tab: Tab) -> None:
    tab.sign_in(ANNA)
    tab.page.keyboard.press("Tab")
    focused = tab.page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    assert tab.page.locator(".skip-link").is_visible()
    tab.page.keyboard.press("Enter")
    assert tab.page.evaluate("document.activeElement.id") == "main"
