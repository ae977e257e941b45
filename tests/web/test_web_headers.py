"""Every response carries the security headers, and no page needs what the
Content-Security-Policy forbids (inline script or style)."""

from __future__ import annotations

import re

import httpx

from cap.web.security import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from tests.conftest import ANNA
from tests.web.conftest import PASSWORD
from tests.web.desk_client import Desk

#: A script element without src (code in the page), a style element or attribute, a handler.
INLINE = re.compile(r"<script(?![^>]*\ssrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def _headed(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)


def test_every_response_carries_the_security_headers(desk: Desk) -> None:
    responses = [
        desk.get("/"),
        desk.get("/health"),
        desk.get("/static/cap.css"),
        desk.get("/login"),
        desk.get("/desk"),  # a redirect
        desk.get("/nowhere"),  # 404
        desk.post("/login", {"email": ANNA}),  # refused: no CSRF token
        desk.post("/login", {}, headers={"origin": "https://evil.example"}),
        desk.sign_in(ANNA, "wrong password!"),
        desk.sign_in(ANNA, PASSWORD),
        desk.get("/desk"),
    ]
    assert [r.status_code for r in responses] == [
        200, 503, 200, 200, 303, 404, 403, 403, 400, 303, 200]  # fmt: skip
    for response in responses:
        _headed(response)
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_no_page_has_inline_script_or_style(desk: Desk) -> None:
    pages = [desk.get("/"), desk.get("/login"), desk.sign_in(ANNA, "wrong password!")]
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    pages.append(desk.get("/desk"))
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert INLINE.search(page.text) is None, page.request.url
        assert '<html lang="en">' in page.text
        assert '<a class="skip-link" href="#main">' in page.text and '<main id="main"' in page.text
    htmx = desk.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text  # served by cap, never a CDN
    stylesheet = desk.get("/static/cap.css")
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert ".skip-link" in stylesheet.text
