"""Links that do not open (both databases): tampered, expired, revoked or unknown, each gets
the same page, 403, that names no finding, supplier or reason and records nothing; too many
of them from one client address, and that address waits (429)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer

from cap.config import Settings
from cap.workflow.links import BAD_LINK_LIMIT, SALT
from tests.conftest import NOW, World
from tests.web.conftest import SECRET, Clock
from tests.web.desk_client import Desk
from tests.web.supplier_mail import emailed_path, notified

NOT_VALID = "This link is not valid any more. Ask your contact at the buyer for a new one."


@pytest.fixture
def visitor(web_settings: Settings, clock: Clock) -> Iterator[Desk]:
    """A browser asking for English pages: a link that does not open tells no language."""
    browser = Desk(web_settings, accept_language="en", clock=clock)
    yield browser
    browser.close()


def refused_page(response_text: str) -> str:
    return response_text.split('<main id="main" tabindex="-1">')[1]


@pytest.mark.parametrize("how", ["tampered", "unknown", "another purpose", "expired", "revoked"])
def test_a_link_that_does_not_open_says_only_that(
    linked_world: World, visitor: Desk, clock: Clock, how: str
) -> None:
    workflow = linked_world.workflow
    ref = notified(linked_world)
    path = emailed_path(linked_world)
    token = path.removeprefix("/s/")
    if how == "tampered":
        path = f"/s/{token[:-3]}{'xyz' if not token.endswith('xyz') else 'abc'}"
    elif how == "unknown":
        path = f"/s/{URLSafeSerializer(SECRET, salt=SALT).dumps(987654)}"
    elif how == "another purpose":
        path = f"/s/{URLSafeSerializer(SECRET, salt='cap.session').dumps(1)}"
    elif how == "expired":
        clock.now = NOW + timedelta(days=workflow.settings.supplier_link_days)
    else:
        workflow.revoke_links(ref, now=NOW)
    for sub in ("", f"/findings/{ref}"):
        page = visitor.get(path + sub)
        assert page.status_code == 403
        main = refused_page(page.text)
        assert NOT_VALID in main
        assert ref not in main and "Nordic" not in main and "overtime" not in main.lower()
    form = {
        "csrftoken": visitor.token("/login"),
        "root_cause": "x",
        "rows": "1",
        "description_0": "a",
        "owner_0": "b",
        "due_0": "2026-06-01",
    }
    assert visitor.post(f"{path}/findings/{ref}/submit_plan", form).status_code == 403
    assert workflow.show_finding(ref, now=NOW).plans == ()
    assert all(link.uses == 0 for link in workflow.links_of(ref))


def test_the_link_opens_until_the_instant_it_expires(
    linked_world: World, visitor: Desk, clock: Clock
) -> None:
    days = linked_world.workflow.settings.supplier_link_days
    notified(linked_world)
    path = emailed_path(linked_world)
    clock.now = NOW + timedelta(days=days) - timedelta(seconds=1)
    assert visitor.get(path).status_code == 200
    clock.now = NOW + timedelta(days=days)
    assert visitor.get(path).status_code == 403


def test_many_bad_links_from_one_address_make_it_wait(linked_world: World, visitor: Desk) -> None:
    notified(linked_world)
    good = emailed_path(linked_world)
    for n in range(BAD_LINK_LIMIT):
        assert visitor.get(f"/s/not-a-token-{n}").status_code == 403
    waiting = visitor.get(good)
    assert waiting.status_code == 429
    assert "Wait 15 minutes and try again." in waiting.text
