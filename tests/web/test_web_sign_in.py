"""Signing in on the web: a signed, HttpOnly, SameSite=lax session cookie and the desk; a wrong
password, empty fields or a throttled guesser get the form again (both databases)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from cap.config import Settings
from cap.workflow import Workflow
from tests.conftest import ANNA, BO
from tests.web.conftest import PASSWORD
from tests.web.desk_client import Desk, set_cookies

WRONG = "incorrect horse battery"


def test_a_sign_in_sets_the_session_cookie_and_opens_the_desk(desk: Desk) -> None:
    assert desk.get("/desk").headers["location"] == "/login?next=%2Fdesk"  # sign in, then back

    signed_in = desk.sign_in(ANNA.upper(), PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/desk"
    cookie = set_cookies(signed_in)["cap_session"]
    assert "; httponly" in cookie and "; samesite=lax" in cookie and "max-age=43200" in cookie
    assert "; secure" not in cookie  # an http base URL: a Secure cookie would never come back

    page = desk.get("/desk")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert '<p id="signed-in">Signed in as Anna Berg (contract manager)</p>' in page.text
    assert desk.get("/login").headers["location"] == "/desk"  # no second sign-in

    signed_out = desk.post("/logout", {"csrftoken": desk.token("/desk")})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login"
    assert "expires=thu, 01 jan 1970" in set_cookies(signed_out)["cap_session"]
    assert desk.get("/desk").status_code == 303


def test_someone_without_a_name_is_shown_by_address(desk: Desk) -> None:
    assert desk.sign_in(BO, PASSWORD).status_code == 303
    assert f"Signed in as {BO} (viewer)</p>" in desk.get("/desk").text


def test_with_an_https_base_url_the_cookies_are_secure(
    web_settings: Settings, staff: Workflow
) -> None:
    desk = Desk(web_settings.model_copy(update={"base_url": "https://cap.region.example"}))
    try:
        form = desk.get("/login")
        assert "; secure" in set_cookies(form)["csrftoken"]
        signed_in = desk.sign_in(ANNA, PASSWORD)
        assert signed_in.status_code == 303
        assert "; secure" in set_cookies(signed_in)["cap_session"]
        assert "Signed in as Anna Berg" in desk.get("/desk").text
    finally:
        desk.close()


def test_a_wrong_password_shows_the_form_again_without_a_session(desk: Desk) -> None:
    refused = desk.sign_in(ANNA, WRONG)
    assert refused.status_code == 400
    assert "cap_session" not in set_cookies(refused)
    assert 'value="anna.manager@region.example"' in refused.text  # the email kept
    assert WRONG not in refused.text  # the password never echoed
    assert '<p class="error" id="password-error">wrong email or password</p>' in refused.text
    assert '<a href="#password">password: wrong email or password</a>' in refused.text
    assert 'aria-describedby="password-error"' in refused.text
    assert refused.text.count("<title>Error: Sign in") == 1
    assert desk.get("/desk").status_code == 303


def test_empty_fields_are_named_next_to_each_field(desk: Desk) -> None:
    empty = desk.post("/login", {"csrftoken": desk.token(), "email": " ", "password": ""})
    assert empty.status_code == 400
    assert '<p class="error" id="email-error">enter the email address' in empty.text
    assert '<p class="error" id="password-error">enter your password</p>' in empty.text
    assert '<a href="#email">' in empty.text and '<a href="#password">' in empty.text


def test_an_overlong_password_is_refused_before_it_is_hashed(desk: Desk) -> None:
    long = desk.sign_in(ANNA, "x" * 1025)
    assert long.status_code == 400 and "too long; passwords have at most 1024" in long.text
    assert "x" * 1025 not in long.text
    assert desk.sign_in(ANNA, "x" * 1024).status_code == 400  # the longest is checked


def test_five_wrong_passwords_lock_the_account(desk: Desk) -> None:
    for _ in range(5):
        assert desk.sign_in(ANNA, WRONG).status_code == 400
    locked = desk.sign_in(ANNA, PASSWORD)
    assert locked.status_code == 429
    assert "too many attempts; wait 15 minutes" in locked.text
    assert locked.headers["retry-after"] == "900"
    assert "cap_session" not in set_cookies(locked)
    assert desk.get("/desk").status_code == 303


def test_four_wrong_passwords_do_not_lock_it(desk: Desk) -> None:
    for _ in range(4):
        assert desk.sign_in(ANNA, WRONG).status_code == 400
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303


def test_a_disabled_user_cannot_sign_in(desk: Desk, staff: Workflow) -> None:
    from cap.clock import utcnow

    staff.disable_user(ANNA, now=utcnow())
    refused = desk.sign_in(ANNA, PASSWORD)
    assert refused.status_code == 400 and "this account is disabled" in refused.text
    assert "cap_session" not in set_cookies(refused)


def test_the_app_needs_the_secret_key(web_settings: Settings) -> None:
    from cap.errors import InvalidInput
    from cap.web.app import create_app

    with pytest.raises(InvalidInput, match=r"^CAP_SECRET_KEY: not set"):
        create_app(web_settings.model_copy(update={"secret_key": None}))
    create_app(web_settings.model_copy(update={"secret_key": SecretStr("y" * 32)}))
