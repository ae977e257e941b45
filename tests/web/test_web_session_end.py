"""A session ends at the next request when its user is disabled, given another role or another
password: the cookie carries the session_version they had (both databases)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cap.clock import utcnow
from cap.config import Settings
from cap.domain.model import StaffRole
from cap.workflow import Workflow
from tests.conftest import ANNA
from tests.web.conftest import PASSWORD
from tests.web.desk_client import Desk, set_cookies

ENDINGS: dict[str, Callable[[Workflow], object]] = {
    "disabled": lambda wf: wf.disable_user(ANNA, now=utcnow()),
    "another role": lambda wf: wf.set_role(ANNA, StaffRole.VIEWER),
    "another password": lambda wf: wf.set_password(ANNA, "a brand new passphrase"),
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_changed_user_is_signed_out_at_the_next_request(
    desk: Desk, staff: Workflow, ending: str
) -> None:
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    assert desk.get("/desk").status_code == 200
    ENDINGS[ending](staff)

    ended = desk.get("/desk")
    assert ended.status_code == 303 and ended.headers["location"] == "/login?next=%2Fdesk"
    assert "expires=thu, 01 jan 1970" in set_cookies(ended)["cap_session"]  # cleared
    assert desk.get("/desk").status_code == 303


def test_the_same_role_again_keeps_the_session(desk: Desk, staff: Workflow) -> None:
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    staff.set_role(ANNA, StaffRole.CONTRACT_MANAGER)  # unchanged: session_version stays
    assert desk.get("/desk").status_code == 200


def test_session_user_is_none_for_an_ended_session(staff: Workflow) -> None:
    [anna] = [u for u in staff.list_users() if u.email == ANNA]
    assert staff.session_user(anna.id, anna.session_version) == anna
    assert staff.session_user(anna.id, anna.session_version + 1) is None
    assert staff.session_user(anna.id + 100, anna.session_version) is None
    staff.disable_user(ANNA, now=utcnow())
    assert staff.session_user(anna.id, anna.session_version + 1) is None  # disabled


def test_a_forged_session_cookie_signs_nobody_in(desk: Desk) -> None:
    # {"user": 1, "session_version": 1}, signed with another key.
    forged = "eyJ1c2VyIjogMSwgInNlc3Npb25fdmVyc2lvbiI6IDF9.aw0GEA.vEeBDkoKD_7GttI1uS-iDmwsOng"
    desk.client.cookies.set("cap_session", forged, domain="cap.region.example")
    assert desk.get("/desk").status_code == 303


def test_signing_out_everywhere_ends_every_browsers_session(
    web_settings: Settings, desk: Desk
) -> None:
    other = Desk(web_settings)  # the same person on a second computer
    try:
        assert desk.sign_in(ANNA, PASSWORD).status_code == 303
        assert other.sign_in(ANNA, PASSWORD).status_code == 303
        form = {"csrftoken": desk.token("/desk")}
        out = desk.post("/logout/everywhere", form)
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert other.get("/desk").status_code == 303  # the other browser is signed out too
        assert desk.get("/desk").status_code == 303
        assert desk.sign_in(ANNA, PASSWORD).status_code == 303  # and may sign in again
        assert desk.get("/desk").status_code == 200
    finally:
        other.close()


def test_signing_out_everywhere_needs_someone_signed_in(desk: Desk) -> None:
    refused = desk.post("/logout/everywhere", {"csrftoken": desk.token()})
    assert refused.status_code == 401
