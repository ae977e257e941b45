"""A finding's page and the log form in Swedish: labels, dates and the forms' words (both
databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cap.config import Settings
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action
from tests.conftest import ANNA, NOW, World
from tests.web.conftest import PASSWORD, Clock
from tests.web.desk_client import Desk


@pytest.fixture
def anna_sv(web_settings: Settings, desk_world: World, clock: Clock) -> Iterator[Desk]:
    desk = Desk(web_settings, accept_language="sv", clock=clock)
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    yield desk
    desk.close()


def test_the_finding_page_is_in_swedish(desk_world: World, anna_sv: Desk) -> None:
    ref = desk_world.finding()
    desk_world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    page = anna_sv.get(f"/findings/{ref}").text
    assert '<html lang="sv">' in page
    assert "<h2>Tidsfrister som gäller</h2>" in page
    assert '<span class="badge">väntar på plan</span>' in page
    assert '<time datetime="2026-04-07">tis 7 apr. 2026</time>, dagens slut' in page
    assert "<strong>Leverantören meddelad</strong>" in page
    assert '<h3 id="action-submit_plan">Registrera en plan</h3>' in page
    assert '<label for="submit_plan-root_cause">Grundorsak</label>' in page
    assert "Lämna tomt för nu. Lokal tid, Europe/Stockholm." in page
    assert "<h2>E-post om avvikelsen</h2>" in page and "<td>i kö</td>" in page
    assert "<td>väntar</td>" in page  # the steps to come


def test_an_action_is_confirmed_in_swedish(desk_world: World, anna_sv: Desk) -> None:
    ref = desk_world.finding()
    page = f"/findings/{ref}"
    done = anna_sv.submit(f"{page}/actions/notify", {}, page=page)
    after = anna_sv.get(done.headers["location"]).text
    assert '<p class="notice" role="status">Registrerat: Leverantören meddelad.</p>' in after


def test_the_log_form_is_in_swedish(desk_world: World, anna_sv: Desk) -> None:
    form = anna_sv.get("/findings/new").text
    assert "<h1>Registrera en avvikelse</h1>" in form
    assert '<option value="health_and_safety">hälsa och säkerhet</option>' in form
    assert '<label for="site_country">Arbetsplatsens land</label>' in form
    assert '<button type="submit" class="primary">Registrera avvikelsen</button>' in form
