"""/account/password: everyone changes their own password, given their current one (both
databases). A wrong current password, a short new one or two that differ are named next to
their field and change nothing; a wrong current password counts towards the sign-in throttle;
the new one signs every other browser out and keeps this one signed in."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from cap.domain.model import StaffRole
from cap.workflow import Workflow
from tests.conftest import ANNA, BO
from tests.web.conftest import AS_ROLE, PASSWORD, Clock
from tests.web.desk_client import Desk
from tests.web.test_web_users import by_email, error_of

SignedIn = Callable[[str], Desk]
PAGE = "/account/password"
NEW = "a new passphrase of several words"


def change(desk: Desk, current: str, password: str, again: str | None = None) -> httpx.Response:
    form = {"current": current, "password": password,
            "password_again": password if again is None else again}  # fmt: skip
    return desk.submit(PAGE, form, page=PAGE)


@pytest.mark.parametrize("role", list(StaffRole))
def test_every_role_changes_their_own_password(
    signed_in: SignedIn, everyone: Workflow, role: StaffRole
) -> None:
    email = AS_ROLE[role]
    here, elsewhere = signed_in(email), signed_in(email)
    page = here.get("/desk").text
    assert f'<a href="{PAGE}">Your password</a>' in page  # in every page's header
    done = change(here, PASSWORD, NEW)
    assert done.status_code == 303 and done.headers["location"] == PAGE
    shown = here.get(PAGE)
    assert shown.status_code == 200  # still signed in here
    assert (
        "Your password is changed; every other browser you were signed in on is signed "
        "out." in shown.text
    )
    assert elsewhere.get("/desk").status_code == 303  # signed out there
    assert elsewhere.sign_in(email, PASSWORD).status_code == 400
    assert elsewhere.sign_in(email, NEW).status_code == 303
    assert by_email(everyone, email).role is role  # nothing else changed


@pytest.mark.parametrize(
    ("current", "password", "again", "field", "message"),
    [
        ("", NEW, None, "current", "type your current password"),
        ("not the password at all", NEW, None, "current", "this is not your current password"),
        (PASSWORD, "", None, "password", "type the new password"),
        (PASSWORD, "short", None, "password", "too short; use at least 12 characters"),
        (PASSWORD, NEW, NEW + "!", "password_again", "the two passwords differ"),
    ],
)
def test_a_mistake_is_named_next_to_its_field_and_nothing_changes(
    signed_in: SignedIn, everyone: Workflow, current: str, password: str, again: str | None,
    field: str, message: str,
) -> None:  # fmt: skip
    anna = signed_in(ANNA)
    before = by_email(everyone, ANNA).session_version
    refused = change(anna, current, password, again)
    assert refused.status_code == 400
    assert error_of(refused, field).startswith(message)
    assert 'aria-invalid="true"' in refused.text and "There is a problem" in refused.text
    assert by_email(everyone, ANNA).session_version == before
    assert anna.get("/desk").status_code == 200  # still signed in
    assert signed_in(ANNA).get("/desk").status_code == 200  # the old password still works


def test_wrong_current_passwords_count_towards_the_sign_in_throttle(
    signed_in: SignedIn, everyone: Workflow, clock: Clock
) -> None:
    bo = signed_in(BO)
    for _ in range(5):
        assert change(bo, "guessing again and again", NEW).status_code == 400
    throttled = change(bo, PASSWORD, NEW)
    assert error_of(throttled, "current") == (
        "too many wrong passwords; wait a few minutes and try again"
    )
    assert Desk(bo.settings, clock=clock).sign_in(BO, PASSWORD).status_code == 429


def test_a_visitor_signs_in_first_and_a_forged_form_is_refused(
    desk: Desk, signed_in: SignedIn, everyone: Workflow, clock: Clock
) -> None:
    assert desk.get(PAGE).status_code == 303
    assert desk.post(PAGE, {"current": PASSWORD, "password": NEW,
                            "password_again": NEW}).status_code in (401, 403)  # fmt: skip
    anna = signed_in(ANNA)
    forged = anna.post(PAGE, {"current": PASSWORD, "password": NEW, "password_again": NEW})
    assert forged.status_code == 403  # no CSRF token
    assert Desk(desk.settings).sign_in(ANNA, PASSWORD).status_code == 303


def test_the_page_in_swedish(signed_in: SignedIn, everyone: Workflow) -> None:
    anna = signed_in(ANNA)
    anna.post("/language", {"csrftoken": anna.token("/desk"), "language": "sv", "next": "/desk"})
    page = anna.get(PAGE).text
    assert "<h1>Ditt lösenord</h1>" in page and "Byt mitt lösenord" in page
    refused = change(anna, "fel lösenord helt och hållet", NEW)
    assert error_of(refused, "current") == "det här är inte ditt nuvarande lösenord"
