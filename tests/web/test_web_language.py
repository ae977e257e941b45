"""Every page in Swedish or English: the browser's Accept-Language until the person chooses with
the language form, then their choice, remembered in a cookie and, signed in, on the user (both
databases)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from cap.clock import utcnow
from cap.config import Settings
from cap.store.models import Setting
from cap.web.app import create_app
from cap.web.security import CSRF_REFUSAL
from cap.worker import HEARTBEAT_PREFIX
from cap.workflow import Workflow
from tests.conftest import ANNA, BO
from tests.web.conftest import PASSWORD
from tests.web.desk_client import CLIENT, Desk, set_cookies

SWEDISH = ('<html lang="sv">', "<h1>Logga in</h1>", '<label for="password">Lösenord</label>')
ENGLISH = ('<html lang="en">', "<h1>Sign in</h1>", '<label for="password">Password</label>')


def _in(page: httpx.Response, language: str) -> None:
    wanted, other = (SWEDISH, ENGLISH) if language == "sv" else (ENGLISH, SWEDISH)
    for text in wanted:
        assert text in page.text, text
    for text in other:
        assert text not in page.text, text


def _choose(desk: Desk, language: str, back: str = "/login") -> httpx.Response:
    form = {"csrftoken": desk.token(back), "language": language, "next": back}
    return desk.post("/language", form)


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        ("sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE,en;q=0.5,sv;q=0.4", "en"),  # the first one cap speaks
        ("sv;q=0.2, en;q=0.8", "en"),  # by weight, not by order
        ("en;q=0, de", "sv"),  # q=0 is "not English": the default
        (None, "sv"),  # no header: CAP_DEFAULT_LANGUAGE
    ],
)
def test_the_browser_language_chooses_until_the_person_does(
    web_settings: Settings, staff: Workflow, accept_language: str | None, language: str
) -> None:
    desk = Desk(web_settings, accept_language)
    try:
        _in(desk.get("/login"), language)
    finally:
        desk.close()


def test_the_default_is_the_buyers(web_settings: Settings, staff: Workflow) -> None:
    desk = Desk(web_settings.model_copy(update={"default_language": "en"}), None)
    try:
        _in(desk.get("/login"), "en")
    finally:
        desk.close()


def test_a_default_cap_does_not_speak_is_refused(web_settings: Settings) -> None:
    from cap.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"^CAP_DEFAULT_LANGUAGE: 'de' is not a language"):
        create_app(web_settings.model_copy(update={"default_language": "de"}))


def test_the_choice_sticks_across_requests(web_settings: Settings, staff: Workflow) -> None:
    desk = Desk(web_settings, "sv")
    try:
        page = desk.get("/login")
        assert 'value="sv" lang="sv" aria-current="true">Svenska</button>' in page.text
        assert 'value="en" lang="en">English</button>' in page.text
        chosen = _choose(desk, "en")
        assert chosen.status_code == 303 and chosen.headers["location"] == "/login"
        cookie = set_cookies(chosen)["cap_language"]
        assert cookie.startswith("cap_language=en;") and "max-age=31536000" in cookie
        assert "; httponly" in cookie and "; samesite=lax" in cookie and "; secure" not in cookie
        for _ in range(2):
            _in(desk.get("/login"), "en")
        assert "Workers and their last pass" in desk.get("/").text
        # Refused forms answer in the chosen language too.
        refused = desk.sign_in(ANNA, "not her password")
        assert '<p class="error" id="password-error">wrong email or password</p>' in refused.text

        _choose(desk, "sv")
        _in(desk.get("/login"), "sv")
        refused = desk.sign_in(ANNA, "not her password")
        assert "<title>Fel: Logga in - cap</title>" in refused.text
        assert '<a href="#password">lösenord: fel e-postadress eller lösenord</a>' in refused.text
        empty = desk.post("/login", {"csrftoken": desk.token(), "email": "", "password": ""})
        assert '<p class="error" id="email-error">skriv e-postadressen som' in empty.text
        assert "Arbetsprocesser och deras senaste körning" in desk.get("/").text
    finally:
        desk.close()


def test_the_cookie_is_secure_with_an_https_base_url(
    web_settings: Settings, staff: Workflow
) -> None:
    desk = Desk(web_settings.model_copy(update={"base_url": "https://cap.region.example"}))
    try:
        assert "; secure" in set_cookies(_choose(desk, "sv"))["cap_language"]
    finally:
        desk.close()


def test_a_signed_in_users_choice_is_stored_and_follows_them(
    web_settings: Settings, staff: Workflow, desk: Desk
) -> None:
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    assert "Signed in as Anna Berg (contract manager)" in desk.get("/desk").text
    chosen = _choose(desk, "sv", back="/desk")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/desk"
    languages = {user.email: user.language for user in staff.list_users()}
    assert languages == {ANNA: "sv", BO: None}
    page = desk.get("/desk")
    assert '<html lang="sv">' in page.text
    assert '<p id="signed-in">Inloggad som Anna Berg (avtalsansvarig)</p>' in page.text
    assert '<button type="submit">Logga ut</button>' in page.text

    elsewhere = Desk(web_settings, "en")  # another browser, never told
    try:
        signed_in = elsewhere.sign_in(ANNA, PASSWORD)
        assert set_cookies(signed_in)["cap_language"].startswith("cap_language=sv;")
        assert "Inloggad som Anna Berg" in elsewhere.get("/desk").text
        assert '<html lang="sv">' in elsewhere.get("/").text
        # The stored choice wins over the cookie of this browser, too.
        elsewhere.client.cookies.set("cap_language", "en")
        assert "Inloggad som Anna Berg" in elsewhere.get("/desk").text
    finally:
        elsewhere.close()

    other = Desk(web_settings, "en")  # Bo has chosen nothing: his browser's language
    try:
        assert "cap_language" not in set_cookies(other.sign_in(BO, PASSWORD))
        assert f"Signed in as {BO} (viewer)" in other.get("/desk").text
    finally:
        other.close()


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/desk",
        "//evil.example/desk",
        "/\\evil.example/desk",
        "\\\\evil.example",
        "/\tevil",
        "javascript:alert(1)",
        "desk",
        "",
    ],
)
def test_the_way_back_is_a_path_on_this_site_only(desk: Desk, back: str) -> None:
    form = {"csrftoken": desk.token(), "language": "en", "next": back}
    assert desk.post("/language", form).headers["location"] == "/"
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    form["csrftoken"] = desk.token("/desk")
    assert desk.post("/language", form).headers["location"] == "/desk"


def test_a_path_on_this_site_is_where_it_goes_back_to(desk: Desk) -> None:
    form = {"csrftoken": desk.token(), "language": "en", "next": "/login?from=desk"}
    assert desk.post("/language", form).headers["location"] == "/login?from=desk"


def test_the_form_needs_its_token_and_a_language_cap_speaks(desk: Desk, staff: Workflow) -> None:
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    forged = desk.post("/language", {"language": "sv", "next": "/desk"})
    assert forged.status_code == 403 and forged.text == CSRF_REFUSAL + "\n"
    assert "cap_language" not in set_cookies(forged)
    unknown = desk.post("/language", {"csrftoken": desk.token("/desk"), "language": "de"})
    assert unknown.status_code == 400
    assert unknown.text == "error: language: choose sv (Svenska) or en (English)\n"
    assert "cap_language" not in set_cookies(unknown)
    assert {user.email: user.language for user in staff.list_users()}[ANNA] is None
    assert "Signed in as Anna Berg" in desk.get("/desk").text


def test_how_long_ago_is_said_in_the_pages_language(
    web_settings: Settings, staff: Workflow
) -> None:
    with staff.db.write() as session:
        session.add(Setting(key=HEARTBEAT_PREFIX + "worker-1", value='{"job": "sweep"}',
                            updated_at=utcnow() - timedelta(minutes=5)))  # fmt: skip
    for accept_language, ago in [("sv", "för 5 minuter sedan"), ("en", "5 minutes ago")]:
        desk = Desk(web_settings, accept_language)
        try:
            assert f"<td>worker-1</td><td>sweep</td><td>{ago}</td>" in desk.get("/").text
        finally:
            desk.close()


def test_concurrent_requests_in_two_languages_each_get_their_own(
    web_settings: Settings, staff: Workflow
) -> None:
    app = create_app(web_settings)

    async def both() -> list[httpx.Response]:
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(CLIENT, 50000)),
                base_url=web_settings.base_url,
                headers={"accept-language": language},
            )
            for language in ("sv", "en")
        ]
        try:
            pages = [client.get("/login") for _ in range(10) for client in clients]
            return list(await asyncio.gather(*pages))
        finally:
            for client in clients:
                await client.aclose()

    pages = asyncio.run(both())
    for number, page in enumerate(pages):
        _in(page, "sv" if number % 2 == 0 else "en")


def test_the_language_of_a_user_who_is_gone_is_not_found(staff: Workflow) -> None:
    from cap.domain.model import Language
    from cap.errors import NotFound

    with pytest.raises(NotFound, match=r"^user: no user with id 999999 "):
        staff.set_language(999999, Language.EN)
