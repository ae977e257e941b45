"""The users pages, for administrators: the list, adding someone (a generated password shown
once, or one typed twice), changing a role, signing out everywhere, a new password,
disabling; the last active administrator kept; every other role refused (both databases)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from cap.config import Settings
from cap.domain.model import StaffRole
from cap.workflow import UserView, Workflow
from tests.conftest import ANNA, BO
from tests.web.conftest import ADA, PASSWORD, SARA
from tests.web.desk_client import Desk
from tests.web.test_web_headers import INLINE

SignedIn = Callable[[str], Desk]
NEW = "nils.ny@region.example"
TYPED = "a typed passphrase of words"
_SHOWN = re.compile(r'<code id="one-time-password">([^<]+)</code>')


@pytest.fixture
def browser(web_settings: Settings, everyone: Workflow) -> Iterator[Callable[[], Desk]]:
    """``browser()``: a fresh browser nobody signed in on yet."""
    opened: list[Desk] = []

    def open_one() -> Desk:
        desk = Desk(web_settings)
        opened.append(desk)
        return desk

    yield open_one
    for desk in opened:
        desk.close()


def by_email(workflow: Workflow, email: str) -> UserView:
    return next(u for u in workflow.list_users() if u.email == email)


def error_of(page: httpx.Response, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page.text)
    assert match, f"no error next to {field}"
    return match.group(1)


def test_the_list_shows_everyone_with_role_and_status(
    signed_in: SignedIn, everyone: Workflow
) -> None:
    everyone.disable_user(BO, now=everyone.list_users()[0].created_at)
    admin = signed_in(ADA)
    page = admin.get("/users")
    assert page.status_code == 200
    assert "<h1>Users</h1>" in page.text and '<a class="button primary" href="/users/new">' in (
        page.text
    )
    for person in everyone.list_users():
        assert f'<a href="/users/{person.id}">{person.email}</a>' in page.text
    anna = by_email(everyone, ANNA)
    row = page.text.split(f'<tr id="user-{anna.id}">')[1].split("</tr>")[0]
    assert "<td>Anna Berg</td>" in row and "<td>contract manager</td>" in row
    assert "✔</span> active" in row and "not chosen" in row
    bo = page.text.split(f'<tr id="user-{by_email(everyone, BO).id}">')[1].split("</tr>")[0]
    assert "⊘</span> disabled since 3 Mar 2026 10:00" in bo
    assert "(you)" in page.text.split(f'<tr id="user-{by_email(everyone, ADA).id}">')[1]
    for path in ("/users", "/users/new", f"/users/{anna.id}"):
        assert INLINE.search(admin.get(path).text) is None, path


@pytest.mark.parametrize("email", [ANNA, BO, SARA])
def test_every_other_role_is_refused_pages_and_forms(
    signed_in: SignedIn, everyone: Workflow, email: str
) -> None:
    desk = signed_in(email)
    ada = by_email(everyone, ADA)
    for path in ("/users", "/users/new", f"/users/{ada.id}"):
        assert desk.get(path).status_code == 403
    before = everyone.list_users()
    forged = {
        "/users/new": {"email": NEW, "role": "admin", "choice": "type", "password": TYPED,
                       "password_again": TYPED},
        f"/users/{ada.id}/role": {"role": "viewer"},
        f"/users/{ada.id}/disable": {},
        f"/users/{ada.id}/sessions": {},
        f"/users/{ada.id}/password": {"choice": "type", "password": TYPED,
                                      "password_again": TYPED},
    }  # fmt: skip
    for path, form in forged.items():
        refused = desk.submit(path, form, page="/desk")
        assert refused.status_code == 403, path
        assert "Your role does not allow this" in refused.text
    assert everyone.list_users() == before  # nobody added, no role, password or session moved


def test_anonymous_visitors_sign_in_first(browser: Callable[[], Desk]) -> None:
    desk = browser()
    assert desk.get("/users").headers["location"] == "/login?next=%2Fusers"
    assert desk.post("/users/new", {"csrftoken": desk.token()}).status_code == 401


def test_a_new_user_gets_a_generated_password_shown_once(
    signed_in: SignedIn, everyone: Workflow, browser: Callable[[], Desk]
) -> None:
    admin = signed_in(ADA)
    form = admin.get("/users/new").text
    assert 'id="choice-generate" name="choice" value="generate" checked' in form
    added = admin.submit("/users/new", {"email": f" {NEW} ", "name": "Nils Ny",
                                        "role": "sustainability_manager", "choice": "generate"},
                         page="/users/new")  # fmt: skip
    assert added.status_code == 201 and added.headers["cache-control"] == "no-store"
    assert "<h1>User added</h1>" in added.text
    assert f"{NEW} was added as sustainability manager." in added.text
    [password] = _SHOWN.findall(added.text)
    assert len(password) >= 12
    person = by_email(everyone, NEW)
    assert (person.name, person.role) == ("Nils Ny", StaffRole.SUSTAINABILITY_MANAGER)
    assert password not in admin.get(f"/users/{person.id}").text  # shown only that once
    nils = browser()
    assert nils.sign_in(NEW, password).status_code == 303
    assert "Nils Ny (sustainability manager)" in nils.get("/desk").text


def test_a_typed_password_must_be_typed_twice_alike_and_is_never_sent_back(
    signed_in: SignedIn, everyone: Workflow, browser: Callable[[], Desk]
) -> None:
    admin = signed_in(ADA)
    form = {"email": NEW, "name": "", "role": "viewer", "choice": "type", "password": TYPED}
    differ = admin.submit("/users/new", {**form, "password_again": TYPED + "x"},
                          page="/users/new")  # fmt: skip
    assert differ.status_code == 400
    assert error_of(differ, "password_again") == "the two passwords differ; type the same one twice"
    assert TYPED not in differ.text and f'value="{NEW}"' in differ.text
    assert 'id="choice-type" name="choice" value="type" checked' in differ.text
    assert '<a href="#password_again">the same password again: the two passwords' in differ.text
    eleven = {"password": "eleven char", "password_again": "eleven char"}
    short = admin.submit("/users/new", {**form, **eleven}, page="/users/new")
    assert short.status_code == 400 and "eleven char" not in short.text
    assert error_of(short, "password").startswith("too short; use at least 12 characters")
    empty = admin.submit("/users/new", {**form, "password": "", "password_again": ""},
                         page="/users/new")  # fmt: skip
    assert error_of(empty, "password") == "type a password, or choose to generate one"
    assert NEW not in [u.email for u in everyone.list_users()]

    added = admin.submit("/users/new", {**form, "password_again": TYPED}, page="/users/new")
    person = by_email(everyone, NEW)
    assert added.status_code == 303 and added.headers["location"] == f"/users/{person.id}"
    page = admin.get(added.headers["location"]).text
    assert f"{NEW} was added and can sign in now." in page and TYPED not in page
    assert browser().sign_in(NEW, TYPED).status_code == 303


@pytest.mark.parametrize(
    ("form", "field", "status", "message"),
    [
        ({"email": ANNA.upper()}, "email", 409, "a user with this email address exists already"),
        ({"email": ""}, "email", 400, "enter the address they will sign in with"),
        ({"email": "nils@"}, "email", 400, "not an email address in ASCII letters"),
        ({"email": "nils@région.example"}, "email", 400, "not an email address in ASCII"),
        ({"role": "boss"}, "role", 400, "&#39;boss&#39; is not a role; choose one of the list"),
        ({"role": ""}, "role", 400, "&#39;&#39; is not a role"),
        ({"choice": "guess"}, "choice", 400, "choose to generate a password or to type one"),
        ({"name": "Nils\nNy"}, "name", 400, "must be one line without control characters"),
    ],
)
def test_a_bad_field_is_named_next_to_it_and_nothing_is_added(
    signed_in: SignedIn,
    everyone: Workflow,
    form: dict[str, str],
    field: str,
    status: int,
    message: str,
) -> None:
    before = everyone.list_users()
    good = {"email": NEW, "name": "Nils", "role": "viewer", "choice": "generate"}
    refused = signed_in(ADA).submit("/users/new", {**good, **form}, page="/users/new")
    assert refused.status_code == status
    assert error_of(refused, field).startswith(message)
    assert "There is a problem" in refused.text and "<title>Error: Add a user" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert everyone.list_users() == before


def test_hostile_text_is_escaped(signed_in: SignedIn, everyone: Workflow) -> None:
    admin = signed_in(ADA)
    hostile = {"email": NEW, "name": "<script>alert(1)</script>", "role": "viewer"}
    admin.submit("/users/new", hostile, page="/users/new")
    for path in ("/users", f"/users/{by_email(everyone, NEW).id}"):
        page = admin.get(path).text
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_new_role_signs_them_out_to_sign_in_with_it(
    signed_in: SignedIn, everyone: Workflow
) -> None:
    anna_desk = signed_in(ANNA)
    admin = signed_in(ADA)
    anna = by_email(everyone, ANNA)
    page = f"/users/{anna.id}"
    assert '<option value="contract_manager" selected>contract manager</option>' in (
        admin.get(page).text
    )
    changed = admin.submit(f"{page}/role", {"role": "viewer"}, page=page)
    assert changed.status_code == 303 and changed.headers["location"] == page
    assert by_email(everyone, ANNA).role is StaffRole.VIEWER
    shown = admin.get(page).text
    assert (f"{ANNA} is now viewer and is signed out everywhere, to sign in again with the "
            "new role.") in shown  # fmt: skip
    assert anna_desk.get("/desk").status_code == 303  # her session ended
    bad = admin.submit(f"{page}/role", {"role": "owner"}, page=page)
    assert bad.status_code == 400 and error_of(bad, "role").startswith("&#39;owner&#39; is not")
    assert by_email(everyone, ANNA).role is StaffRole.VIEWER


def test_the_last_active_administrator_stays_one(signed_in: SignedIn, everyone: Workflow) -> None:
    admin = signed_in(ADA)
    ada = by_email(everyone, ADA)
    page = f"/users/{ada.id}"
    assert "This is you" in admin.get(page).text
    last = f"{ADA} is the last active administrator; make someone else an administrator first"
    demoted = admin.submit(f"{page}/role", {"role": "viewer"}, page=page)
    assert demoted.status_code == 409 and error_of(demoted, "role") == last
    assert f'<a href="#role">role: {last}</a>' in demoted.text
    disabled = admin.submit(f"{page}/disable", {}, page=page)
    assert disabled.status_code == 409 and error_of(disabled, "disable") == last
    assert 'aria-describedby="disable-error disable-hint"' in disabled.text
    assert by_email(everyone, ADA) == ada  # still an active administrator, still signed in
    assert admin.get("/users").status_code == 200

    # With a second administrator, the first may step down.
    admin.submit(f"/users/{by_email(everyone, SARA).id}/role", {"role": "admin"},
                 page=f"/users/{by_email(everyone, SARA).id}")  # fmt: skip
    stepped = admin.submit(f"{page}/role", {"role": "viewer"}, page=page)
    assert stepped.status_code == 303
    assert by_email(everyone, ADA).role is StaffRole.VIEWER
    assert admin.get("/users").status_code == 303  # signed out: sign in again, as a viewer


def test_a_disabled_user_cannot_sign_in(
    signed_in: SignedIn, everyone: Workflow, browser: Callable[[], Desk]
) -> None:
    bo_desk = signed_in(BO)
    admin = signed_in(ADA)
    page = f"/users/{by_email(everyone, BO).id}"
    done = admin.submit(f"{page}/disable", {}, page=page)
    assert done.status_code == 303
    shown = admin.get(page).text
    assert f"{BO} is disabled and signed out everywhere." in shown
    assert "disabled since 3 Mar 2026 11:00" in shown  # the clock: NOW + 1 hour
    assert 'action="' + page + '/disable"' not in shown  # nothing more to do
    assert by_email(everyone, BO).disabled_at is not None
    assert bo_desk.get("/desk").status_code == 303
    assert browser().sign_in(BO, PASSWORD).status_code == 400
    again = admin.submit(f"{page}/disable", {}, page="/users")
    assert again.status_code == 409 and "is already disabled" in error_of(again, "disable")


def test_a_disabled_user_is_enabled_again_with_the_same_role_and_password(
    signed_in: SignedIn, everyone: Workflow, browser: Callable[[], Desk]
) -> None:
    admin = signed_in(ADA)
    page = f"/users/{by_email(everyone, BO).id}"
    active = admin.get(page).text
    assert 'action="' + page + '/enable"' not in active  # nothing to enable
    forged = admin.submit(f"{page}/enable", {}, page=page)  # a form of an older page
    assert forged.status_code == 409 and "is not disabled" in error_of(forged, "enable")
    admin.submit(f"{page}/disable", {}, page=page)
    assert browser().sign_in(BO, PASSWORD).status_code == 400
    disabled = admin.get(page).text
    assert 'action="' + page + '/enable"' in disabled
    assert 'aria-describedby="enable-hint"' in disabled
    done = admin.submit(f"{page}/enable", {}, page=page)
    assert done.status_code == 303
    shown = admin.get(page).text
    assert f"{BO} can sign in again, with the same role and password." in shown
    assert "✔</span> active" in shown and 'action="' + page + '/disable"' in shown
    assert by_email(everyone, BO).disabled_at is None
    assert by_email(everyone, BO).role is StaffRole.VIEWER
    assert browser().sign_in(BO, PASSWORD).status_code == 303


def test_signing_someone_out_everywhere(signed_in: SignedIn, everyone: Workflow) -> None:
    bo_desk = signed_in(BO)
    admin = signed_in(ADA)
    page = f"/users/{by_email(everyone, BO).id}"
    done = admin.submit(f"{page}/sessions", {}, page=page)
    assert done.status_code == 303
    assert f"{BO} is signed out in every browser." in admin.get(page).text
    assert bo_desk.get("/desk").status_code == 303
    assert bo_desk.sign_in(BO, PASSWORD).status_code == 303  # the password still works


def test_a_new_password_generated_or_typed(
    signed_in: SignedIn, everyone: Workflow, browser: Callable[[], Desk]
) -> None:
    admin = signed_in(ADA)
    page = f"/users/{by_email(everyone, BO).id}"
    generated = admin.submit(f"{page}/password", {"choice": "generate"}, page=page)
    assert generated.status_code == 200 and "<h1>New password set</h1>" in generated.text
    [password] = _SHOWN.findall(generated.text)
    assert browser().sign_in(BO, PASSWORD).status_code == 400
    assert browser().sign_in(BO, password).status_code == 303

    differ = admin.submit(f"{page}/password", {"choice": "type", "password": TYPED,
                                               "password_again": "other"}, page=page)  # fmt: skip
    assert differ.status_code == 400 and TYPED not in differ.text
    assert error_of(differ, "password_again").startswith("the two passwords differ")
    typed = admin.submit(f"{page}/password", {"choice": "type", "password": TYPED,
                                              "password_again": TYPED}, page=page)  # fmt: skip
    assert typed.status_code == 303
    assert f"{BO} has a new password and is signed out everywhere." in admin.get(page).text
    assert browser().sign_in(BO, TYPED).status_code == 303


def test_an_unknown_user_is_not_found(signed_in: SignedIn) -> None:
    admin = signed_in(ADA)
    for user_id in ("999999", "abc", "1" * 40):
        assert admin.get(f"/users/{user_id}").status_code == 404
        assert admin.submit(f"/users/{user_id}/disable", {}, page="/users").status_code == 404


def test_the_users_pages_in_swedish(signed_in: SignedIn, everyone: Workflow) -> None:
    admin = signed_in(ADA)
    admin.client.cookies.set("cap_language", "sv")
    listed = admin.get("/users").text
    assert "<h1>Användare</h1>" in listed and "Lägg till en användare" in listed
    assert "<td>avtalsansvarig</td>" in listed and "✔</span> aktiv" in listed
    form = admin.get("/users/new").text
    assert "Generera ett" in form and "Skriv ett (nedan)" in form
    page = f"/users/{by_email(everyone, ADA).id}"
    refused = admin.submit(f"{page}/disable", {}, page=page)
    assert error_of(refused, "disable").startswith(f"{ADA} är den sista aktiva administratören")
    short = admin.submit("/users/new", {"email": NEW, "role": "viewer", "choice": "type",
                                        "password": "kort", "password_again": "kort"},
                         page="/users/new")  # fmt: skip
    assert error_of(short, "password").startswith("för kort; använd minst 12 tecken")
