"""The form that logs a finding: validated as the command line validates it, each problem next
to its field with nothing written, the typed values kept (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from markupsafe import escape

from cap.domain.model import Area, Severity, Source, State
from cap.workflow import FindingFilter
from tests.conftest import ANNA, BO, NOW, World
from tests.web.conftest import SARA
from tests.web.desk_client import Desk

NEW = "/findings/new"
FORM = {
    "contract": "RS-2019-ICT-01",
    "severity": "critical",
    "area": "health_and_safety",
    "source": "factory_audit",
    "title": "Fire exits chained shut",
    "description": "Two of three exits of hall B chained.\nSeen on the night shift.",
    "site": "Plant 2, Shenzhen",
    "site_country": "cn",
    "found_on": "2026-02-20",
    "external_id": "EW-2026-017#3",
}


def logged(world: World) -> list[str]:
    return [f.ref for f in world.workflow.list_findings(FindingFilter(), now=NOW)]


def test_a_finding_logged_on_the_form_is_written_and_its_page_says_so(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    form = anna.get(NEW)
    assert form.status_code == 200
    assert (
        '<option value="RS-2019-ICT-01">RS-2019-ICT-01 (Nordic IT Supply AB)</option>' in form.text
    )
    assert '<option value="health_and_safety">health and safety</option>' in form.text

    sent = anna.submit(NEW, FORM, page=NEW)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/findings/NC-2026-0001?done=logged"
    view = desk_world.workflow.show_finding("NC-2026-0001", now=NOW)
    assert (view.state, view.severity, view.area, view.source) == (
        State.OPEN, Severity.CRITICAL, Area.HEALTH_AND_SAFETY, Source.FACTORY_AUDIT
    )  # fmt: skip
    assert (view.title, view.site, view.site_country, view.found_on, view.external_id) == (
        "Fire exits chained shut", "Plant 2, Shenzhen", "CN", date(2026, 2, 20), "EW-2026-017#3"
    )  # fmt: skip
    assert view.description.endswith("Seen on the night shift.") and view.created_by == ANNA

    page = anna.get(sent.headers["location"])
    assert '<p class="notice" role="status">NC-2026-0001 logged.</p>' in page.text
    assert "<h1>NC-2026-0001: Fire exits chained shut</h1>" in page.text
    assert "Two of three exits of hall B chained.<br>Seen on the night shift." in page.text


def test_the_optional_fields_may_be_left_empty_and_found_on_is_then_today(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    empty = {"site": "", "site_country": "", "found_on": "", "external_id": "", "description": ""}
    assert anna.submit(NEW, {**FORM, **empty}, page=NEW).status_code == 303
    [ref] = logged(desk_world)
    view = desk_world.workflow.show_finding(ref, now=NOW)
    assert view.found_on == date(2026, 3, 3)  # the clock's day in Stockholm
    assert (view.site, view.site_country, view.external_id) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contract", "", "is required"),
        ("contract", "RS-2020-NOPE", "RS-2020-NOPE does not exist"),
        ("severity", "", "is required"),
        ("severity", "catastrophic", "'catastrophic' is not one of 'minor', 'major' or 'critical'"),
        ("area", "", "is required"),
        ("source", "rumour", "'rumour' is not one of"),
        ("title", "   ", "must not be empty"),
        ("title", "x" * 201, "is too long; at most 200 characters"),
        ("title", "two\nlines", "must be one line without control characters"),
        ("site_country", "Sweden", "'SWEDEN' is not a two-letter country code"),
        ("found_on", "2026-13-45", "'2026-13-45' is not a date; write it as YYYY-MM-DD"),
        ("found_on", "2026-03-04", "2026-03-04 is in the future (today is 2026-03-03)"),
    ],
)
def test_a_bad_field_is_named_next_to_it_and_nothing_is_written(
    desk_world: World, signed_in: Callable[[str], Desk], field: str, value: str, message: str
) -> None:
    anna = signed_in(ANNA)
    refused = anna.submit(NEW, {**FORM, field: value}, page=NEW)
    assert refused.status_code == 400
    assert f'<p class="error" id="{field}-error">{escape(message)}' in refused.text
    assert f'<a href="#{field}">' in refused.text  # the summary at the top leads to it
    assert 'aria-invalid="true"' in refused.text
    assert refused.text.count('aria-invalid="true"') == 1  # one problem, one field
    assert "<title>Error: Log a finding - cap</title>" in refused.text
    assert 'value="Plant 2, Shenzhen"' in refused.text  # what was typed is kept
    assert logged(desk_world) == []


def test_found_on_today_is_accepted(desk_world: World, signed_in: Callable[[str], Desk]) -> None:
    anna = signed_in(ANNA)
    assert anna.submit(NEW, {**FORM, "found_on": "2026-03-03"}, page=NEW).status_code == 303
    assert logged(desk_world) == ["NC-2026-0001"]


def test_every_bad_field_is_named_at_once(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    bad = {**FORM, "severity": "", "title": "", "found_on": "soon"}
    refused = anna.submit(NEW, bad, page=NEW)
    assert refused.status_code == 400
    for field in ("severity", "title", "found_on"):
        assert f'id="{field}-error"' in refused.text
    assert logged(desk_world) == []


def test_an_external_id_already_logged_on_the_contract_is_refused(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    assert anna.submit(NEW, FORM, page=NEW).status_code == 303
    again = anna.submit(NEW, {**FORM, "title": "Same audit line"}, page=NEW)
    assert again.status_code == 409
    assert (
        '<p class="error" id="external_id-error">EW-2026-017#3 is already finding NC-2026-0001'
        in again.text
    )
    assert logged(desk_world) == ["NC-2026-0001"]


def test_a_hostile_title_is_shown_as_text(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    hostile = '<script>alert("x")</script>'
    refused = anna.submit(NEW, {**FORM, "title": hostile, "found_on": "later"}, page=NEW)
    assert refused.status_code == 400 and "<script>alert" not in refused.text
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in refused.text

    assert anna.submit(NEW, {**FORM, "title": hostile}, page=NEW).status_code == 303
    page = anna.get("/findings/NC-2026-0001")
    assert "<script>alert" not in page.text
    assert "<h1>NC-2026-0001: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</h1>" in page.text


@pytest.mark.parametrize("who", [BO, SARA])
def test_only_contract_managers_log_findings(
    desk_world: World, signed_in: Callable[[str], Desk], who: str
) -> None:
    other = signed_in(who)
    assert other.get(NEW).status_code == 403
    token = other.token("/desk")
    assert other.post(NEW, {"csrftoken": token, **FORM}).status_code == 403
    assert logged(desk_world) == []
    assert 'href="/findings/new"' not in other.get("/desk").text  # not offered either


def test_a_visitor_is_sent_to_sign_in(desk: Desk) -> None:
    assert desk.get(NEW).headers["location"] == "/login?next=%2Ffindings%2Fnew"


def test_a_contracts_page_opens_the_form_with_the_contract_chosen(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    page = signed_in(ANNA).get(f"{NEW}?contract=RS-2019-ICT-01")
    assert page.status_code == 200
    assert '<option value="RS-2019-ICT-01" selected' in page.text
    hostile = signed_in(ANNA).get(f"{NEW}?contract=%22%3E%3Cscript%3E")
    assert hostile.status_code == 200 and "<script>" not in hostile.text
