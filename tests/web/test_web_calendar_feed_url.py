"""/account/calendar and /calendar/{token}.ics: each desk user's secret, revocable calendar
feed URL (both databases). The URL is shown once; fetched without signing in it gives, as
icalendar reads it, the deadlines of the contracts the user manages; a new URL ends the old
one, revoking ends it, a disabled user's gives 404; a token that was never a feed counts as a
bad supplier link, so guessing is throttled as guessing links is."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlmodel import col

from cap.config import Settings
from cap.domain.inputs import ContractInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, StaffRole
from cap.store.models import CalendarFeed
from cap.workflow import Workflow
from cap.workflow.links import BAD_LINK_LIMIT
from tests.conftest import ANNA, BO, NOW, World
from tests.web.conftest import AS_ROLE, PASSWORD, SARA, Clock
from tests.web.desk_client import Desk
from tests.web.test_web_users import error_of

SignedIn = Callable[[str], Desk]
PAGE = "/account/calendar"
_URL = re.compile(r'<input type="text" id="feed-url" name="feed-url" value="([^"]+)" readonly')
WARNING = "Anyone with this URL sees your deadlines, without signing in"
ICAL = "text/calendar; charset=utf-8"


def make(desk: Desk) -> str:
    """Make a feed on the page, as its form does; the path of the URL shown."""
    made = desk.submit(f"{PAGE}/new", {}, page=PAGE)
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    match = _URL.search(made.text)
    assert match, "no URL on the page"
    url = match.group(1)
    assert url.startswith("http://cap.region.example/calendar/cal_") and url.endswith(".ics")
    return urlsplit(url).path


def uids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200
    assert response.headers["content-type"] == ICAL
    parsed = Calendar.from_ical(response.content)
    assert str(parsed["prodid"]) == "-//cap//deadlines//EN"
    return [str(e["uid"]) for e in parsed.walk("VEVENT") if isinstance(e, Event)]


def gone(response: httpx.Response) -> bool:
    return (
        response.status_code == 404
        and response.headers["content-type"].startswith("text/plain")
        and response.text == "No such calendar feed.\n"
    )


def notified(world: World, title: str = "Forced overtime at final assembly") -> str:
    ref = world.finding(title=title)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    return ref


def test_the_url_gives_the_deadlines_of_the_contracts_the_user_manages(
    desk_world: World, signed_in: SignedIn, supplier: Desk
) -> None:
    workflow = desk_world.workflow
    workflow.add_contract(
        ContractInput(reference="RS-2020-ICT-07", supplier=desk_world.org_number,
                      category="Mobile phones", manager=SARA, start=date(2020, 1, 1)),
        now=NOW,
    )  # fmt: skip
    annas = notified(desk_world)
    notified(World(workflow, contract="RS-2020-ICT-07"), title="Not Anna's")
    anna = signed_in(ANNA)
    before = anna.get(PAGE)
    assert before.status_code == 200
    assert "You have no calendar feed." in before.text
    assert 'action="/account/calendar/revoke"' not in before.text

    path = make(anna)

    fetched = supplier.get(path)  # nobody signed in
    assert uids(fetched) == [f"{annas}-plan@cap.region.example"]
    assert fetched.headers["cache-control"] == "no-store"
    assert fetched.headers["x-robots-tag"] == "noindex, nofollow"
    [event] = Calendar.from_ical(fetched.content).walk("VEVENT")
    assert event.decoded("dtstart") == date(2026, 4, 7)
    # Shown once: the page names its prefix, never the URL again.
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    page = anna.get(PAGE).text
    assert token not in page and WARNING not in page
    assert f"<code>{token[:12]}</code>" in page
    assert 'action="/account/calendar/revoke"' in page


def test_the_token_is_kept_as_its_sha256_only(
    desk_world: World, signed_in: SignedIn, everyone: Workflow
) -> None:
    path = make(signed_in(ANNA))
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    with everyone.db.read() as session:
        [row] = session.execute(select(CalendarFeed)).scalars()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:12]
    assert token not in repr(everyone.feed_of(ANNA))


def test_a_user_managing_no_contract_gets_an_empty_calendar(
    desk_world: World, signed_in: SignedIn, supplier: Desk
) -> None:
    notified(desk_world)  # Anna's, not Bo's
    assert uids(supplier.get(make(signed_in(BO)))) == []


@pytest.mark.parametrize("role", list(StaffRole))
def test_every_role_may_have_one(
    desk_world: World, signed_in: SignedIn, supplier: Desk, role: StaffRole
) -> None:
    path = make(signed_in(AS_ROLE[role]))
    assert supplier.get(path).status_code == 200


def test_a_new_url_ends_the_old_one(
    desk_world: World, signed_in: SignedIn, supplier: Desk, everyone: Workflow
) -> None:
    anna = signed_in(ANNA)
    old = make(anna)
    new = make(anna)
    assert gone(supplier.get(old))
    assert supplier.get(new).status_code == 200
    with everyone.db.read() as session:
        live = session.execute(
            select(CalendarFeed).where(col(CalendarFeed.revoked_at).is_(None))
        ).scalars()
        assert len(list(live)) == 1


def test_a_revoked_url_gives_404(
    desk_world: World, signed_in: SignedIn, supplier: Desk, everyone: Workflow
) -> None:
    anna = signed_in(ANNA)
    path = make(anna)
    revoked = anna.submit(f"{PAGE}/revoke", {}, page=PAGE)
    assert revoked.status_code == 303 and revoked.headers["location"] == PAGE
    page = anna.get(PAGE).text
    assert "Your calendar feed is revoked: its URL no longer gives your deadlines." in page
    assert "You have no calendar feed." in page
    assert everyone.feed_of(ANNA) is None
    assert gone(supplier.get(path))
    again = anna.submit(f"{PAGE}/revoke", {}, page=PAGE)
    assert again.status_code == 409
    assert error_of(again, "revoke") == "you have no calendar feed to revoke"


def test_a_disabled_users_url_gives_404(
    desk_world: World, signed_in: SignedIn, supplier: Desk, everyone: Workflow
) -> None:
    notified(desk_world)
    path = make(signed_in(ANNA))
    everyone.disable_user(ANNA, now=NOW)
    assert gone(supplier.get(path))
    everyone.enable_user(ANNA)  # the feed was not revoked: it opens again
    assert supplier.get(path).status_code == 200


def test_its_last_use_is_recorded_to_the_minute(
    desk_world: World, signed_in: SignedIn, supplier: Desk, everyone: Workflow, clock: Clock
) -> None:
    anna = signed_in(ANNA)
    path = make(anna)
    assert "not yet" in anna.get(PAGE).text
    first = clock.now
    supplier.get(path)
    clock.now = first + timedelta(seconds=59)
    supplier.get(path)
    feed = everyone.feed_of(ANNA)
    assert feed is not None and feed.last_used_at == first
    clock.now = first + timedelta(minutes=1)
    supplier.get(path)
    feed = everyone.feed_of(ANNA)
    assert feed is not None and feed.last_used_at == first + timedelta(minutes=1)
    assert "3 Mar 2026 11:01" in anna.get(PAGE).text  # 10:01 UTC, in Stockholm


def test_guessed_tokens_are_throttled_as_bad_supplier_links(
    desk_world: World, signed_in: SignedIn, supplier: Desk
) -> None:
    anna = signed_in(ANNA)
    revoked = make(anna)
    path = make(anna)
    for _ in range(BAD_LINK_LIMIT + 5):  # a calendar still subscribed: no guess, not counted
        assert gone(supplier.get(revoked))
    assert supplier.get(path).status_code == 200
    for n in range(BAD_LINK_LIMIT):
        assert gone(supplier.get(f"/calendar/cal_guess{n}.ics"))
    throttled = supplier.get(path)  # the right one too, from that address
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert supplier.get("/s/anything").status_code == 429  # the supplier links' throttle


def test_the_page_in_swedish(web_settings: Settings, desk_world: World, clock: Clock) -> None:
    swede = Desk(web_settings, accept_language="sv", clock=clock)
    assert swede.sign_in(ANNA, PASSWORD).status_code == 303
    page = swede.get(PAGE).text
    assert "<h1>Kalenderflöde</h1>" in page
    assert "Du har inget kalenderflöde." in page
    assert "Skapa en adress till ett kalenderflöde" in page
    assert '<a href="/account/calendar">Kalenderflöde</a>' in swede.get("/account/password").text
    made = swede.submit(f"{PAGE}/new", {}, page=PAGE)
    assert made.status_code == 201
    assert "Den som har den här adressen ser dina tidsfrister utan att logga in" in made.text
    assert (
        "Börjar med" in made.text and "Skapa en ny adress (den gamla slutar fungera)" in made.text
    )
    revoked = swede.submit(f"{PAGE}/revoke", {}, page=PAGE)
    assert "Ditt kalenderflöde är återkallat" in swede.get(revoked.headers["location"]).text


@pytest.mark.parametrize("form", ["new", "revoke"])
def test_a_form_without_its_csrf_token_is_refused(
    desk_world: World, signed_in: SignedIn, everyone: Workflow, form: str
) -> None:
    anna = signed_in(ANNA)
    if form == "revoke":
        make(anna)
    before = everyone.feed_of(ANNA)
    refused = anna.post(f"{PAGE}/{form}", {})
    assert refused.status_code == 403
    assert everyone.feed_of(ANNA) == before
