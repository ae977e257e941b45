"""Forms sent from another site are refused: without the CSRF token of the form, or with an
Origin or Sec-Fetch-Site that is not cap's own, a POST gets 403 and one plain line, and
nothing happens."""

from __future__ import annotations

import httpx
import pytest

from cap.web.security import CROSS_SITE_REFUSAL, CSRF_REFUSAL, origin_of
from tests.conftest import ANNA
from tests.web.conftest import PASSWORD
from tests.web.desk_client import Desk, set_cookies


def _refused(response: httpx.Response, line: str) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == line + "\n"
    assert "cap_session" not in set_cookies(response)


def test_a_sign_in_without_the_form_token_is_refused(desk: Desk) -> None:
    credentials = {"email": ANNA, "password": PASSWORD}
    _refused(desk.post("/login", credentials), CSRF_REFUSAL)  # no cookie at all either
    token = desk.token()  # now the csrftoken cookie is set
    _refused(desk.post("/login", credentials), CSRF_REFUSAL)
    _refused(desk.post("/login", {**credentials, "csrftoken": token + "x"}), CSRF_REFUSAL)
    assert desk.get("/desk").status_code == 303
    assert desk.post("/login", {**credentials, "csrftoken": token}).status_code == 303


def test_a_token_without_its_cookie_is_refused(desk: Desk) -> None:
    token = desk.token()
    desk.client.cookies.clear()
    _refused(desk.post("/login", {"csrftoken": token, "email": ANNA, "password": PASSWORD}),
             CSRF_REFUSAL)  # fmt: skip


def test_sign_out_needs_the_token_too(desk: Desk) -> None:
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    _refused(desk.post("/logout", {}), CSRF_REFUSAL)
    assert desk.get("/desk").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://cap.region.example.evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "http://cap.region.example"},
    ],
)
def test_a_form_from_another_site_is_refused_even_with_its_token(
    desk: Desk, headers: dict[str, str]
) -> None:
    form = {"csrftoken": desk.token(), "email": ANNA, "password": PASSWORD}
    _refused(desk.post("/login", form, headers=headers), CROSS_SITE_REFUSAL)
    assert desk.get("/desk").status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://cap.region.example", "sec-fetch-site": "same-origin"},
        {"origin": "HTTP://CAP.region.example:80"},
        {"sec-fetch-site": "none"},
    ],
)
def test_a_form_from_cap_itself_is_accepted(desk: Desk, headers: dict[str, str]) -> None:
    form = {"csrftoken": desk.token(), "email": ANNA, "password": PASSWORD}
    assert desk.post("/login", form, headers=headers).status_code == 303


def test_the_host_is_cap_itself_too_behind_a_proxy(desk: Desk) -> None:
    """CAP_BASE_URL is what people type; the Host header is what reaches the process."""
    form = {"csrftoken": desk.token(), "email": ANNA, "password": PASSWORD}
    same_host = {"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"}
    assert desk.post("/login", form, headers=same_host).status_code == 303


def test_origins_are_compared_as_browsers_send_them() -> None:
    assert origin_of("https://cap.region.example:443/desk") == "https://cap.region.example"
    assert origin_of("http://Cap.Region.Example:8000") == "http://cap.region.example:8000"
    assert origin_of("http://[::1]:8000") == "http://[::1]:8000"
    assert origin_of("null") is None and origin_of("ftp://x") is None
    assert origin_of("http://x:99999") is None
