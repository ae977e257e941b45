"""The suppliers' reports on the desk: the list and its filters, one report's page, and its
forms (receive, extend, waive): what is recorded, by whom; a bad value named next to its
field; a stale, forged or unauthorised form refused with nothing written; 404 for any id that
is not a report's. On SQLite; the whole of a report's life once on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import httpx
import pytest

from cap.domain.inputs import ContractInput
from cap.domain.model import Language, ObligationKind, ObligationState
from cap.domain.obligations import DutyAction, DutyRequest
from cap.workflow.results import ObligationDetail
from tests.conftest import ANNA, BO, NOW, World
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk
from tests.web.test_web_supplier_page import another_supplier

#: Most tests read and write the same rows through the same workflow on either database:
#: SQLite keeps the module quick (tests/web/conftest.py marks the PostgreSQL half slow).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
#: The report the world's contract owes (:func:`owing`): the case study's social-risk report,
#: due on a Monday a month before the desk's day (NOW), and overdue since.
DEFAULT = 1
DEFAULT_PAGE = f"/obligations/{DEFAULT}"
DEFAULT_DUE = date(2026, 2, 2)
TODAY = date(2026, 3, 3)  # the desk's day in Stockholm (tests.web.conftest.Clock)


@pytest.fixture
def owing(desk_world: World) -> World:
    """desk_world whose contract owes its social-risk report (number 1), overdue. (Its start
    in 2019 is too long ago for the report recorded with a contract.)"""
    report = desk_world.workflow.add_obligation(desk_world.contract, due=DEFAULT_DUE, actor=ANNA,
                                                now=NOW)  # fmt: skip
    assert report.id == DEFAULT
    return desk_world


def detail(world: World, obligation_id: int = DEFAULT) -> ObligationDetail:
    return world.workflow.show_obligation(obligation_id, now=NOW)


def self_assessment(world: World, due: date = date(2026, 6, 30), title: str | None = None) -> int:
    """A self-assessment the world's contract asks for by ``due``; its number."""
    return world.workflow.add_obligation(
        world.contract, kind=ObligationKind.SELF_ASSESSMENT, due=due, title=title, actor=ANNA,
        now=NOW,
    ).id  # fmt: skip


def receive(anna: Desk, form: dict[str, str], page: str = DEFAULT_PAGE) -> httpx.Response:
    return anna.submit(f"{page}/receive", form, page=page)


# -- the list --------------------------------------------------------------------------------


@sqlite_only
def test_the_list_shows_every_report_the_earliest_due_first(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    later = self_assessment(owing)
    response = signed_in(BO).get("/obligations")  # a viewer reads it
    assert response.status_code == 200
    page = response.text
    assert "<h1>Supplier reports</h1>" in page
    assert '<a href="/obligations" aria-current="page">Supplier reports</a>' in page
    assert '<p id="found">2 reports found</p>' in page
    first, second = (
        page.index(f'href="/obligations/{DEFAULT}"'),
        page.index(f'href="/obligations/{later}"'),
    )
    assert first < second
    assert '<time datetime="2026-02-02">2 Feb 2026</time>' in page
    assert f'<a href="/obligations/{DEFAULT}">Social-risk report</a>' in page
    assert "29 days overdue" in page
    assert f'<a href="/obligations/{later}">Self-assessment</a>' in page
    assert '<a href="/contracts/RS-2019-ICT-01">RS-2019-ICT-01</a>' in page
    assert '<a href="/suppliers/556000-1234">Nordic IT Supply AB</a>' in page
    assert '<span class="badge">owed</span>' in page


@sqlite_only
def test_the_filters_pick_overdue_reports_a_state_a_contract_or_a_supplier(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    later = self_assessment(owing)
    other = another_supplier(owing.workflow, "Other AB", "x@other.example", Language.EN)
    theirs = owing.workflow.add_obligation(other.contract, due=DEFAULT_DUE, actor=ANNA, now=NOW)
    owing.workflow.act_on_obligation(
        theirs.id, DutyRequest(DutyAction.RECEIVE, ANNA, NOW, received_on=NOW.date()), now=NOW
    )
    bo = signed_in(BO)

    def listed(query: str) -> set[int]:
        page = bo.get(f"/obligations?{query}")
        assert page.status_code == 200
        return {n for n in (DEFAULT, later, theirs.id) if f'href="/obligations/{n}"' in page.text}

    assert listed("") == {DEFAULT, later, theirs.id}
    assert listed("overdue=1") == {DEFAULT}
    assert (
        'id="overdue" name="overdue" type="checkbox" value="1" checked'
        in bo.get("/obligations?overdue=1").text
    )
    assert listed("state=received") == {theirs.id}
    assert listed("state=due&state=received") == {DEFAULT, later, theirs.id}
    assert listed("state=waived") == set()
    assert listed("contract=RS-OTHER") == {theirs.id}
    assert listed(f"supplier={other.org_number}") == {theirs.id}
    assert listed("contract=RS-2019-ICT-01&overdue=1&state=due") == {DEFAULT}
    nowhere = bo.get("/obligations?contract=NO-SUCH").text
    assert "No contract has the reference NO-SUCH." in nowhere
    assert '<p id="found">0 reports found</p>' in nowhere
    typed = bo.get("/obligations", params={"contract": "<b>NO</b>", "supplier": "<i>"}).text
    assert "No contract has the reference &lt;b&gt;NO&lt;/b&gt;." in typed
    assert "No supplier has the organisation number &lt;i&gt;." in typed
    assert 'value="&lt;b&gt;NO&lt;/b&gt;"' in typed


@sqlite_only
def test_a_state_that_is_none_is_named_next_to_its_field(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    response = signed_in(BO).get("/obligations", params={"state": "<lost>"})
    assert response.status_code == 400
    page = response.text
    assert "<title>Error: Supplier reports - cap</title>" in page
    message = "&#39;&lt;lost&gt;&#39; is not a state of a report; choose one of the list"
    assert f'<p class="error" id="state-error">{message}</p>' in page
    assert f'<li><a href="#state">State: {message}</a></li>' in page
    assert 'aria-invalid="true" aria-describedby="state-error"' in page
    assert 'id="found"' not in page


# -- one report's page -----------------------------------------------------------------------


@sqlite_only
def test_the_page_shows_the_report_its_trail_and_what_is_to_come(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    response = signed_in(ANNA).get(DEFAULT_PAGE)
    assert response.status_code == 200
    page = response.text
    assert "<h1>Social-risk report, contract RS-2019-ICT-01</h1>" in page
    assert '<dd><a href="/contracts/RS-2019-ICT-01">RS-2019-ICT-01</a></dd>' in page
    assert '<a href="/suppliers/556000-1234">Nordic IT Supply AB</a> (556000-1234)' in page
    assert "<dd>1 May 2019</dd>" in page  # the contract's start
    assert '<time datetime="2026-02-02">Mon 2 Feb 2026</time>, end of day' in page
    assert "29 days overdue" in page
    assert "First due" not in page and "Received on" not in page
    # The trail, in local time (10:00 in Stockholm), and the deadline, passed.
    assert (
        "3 Mar 2026 10:00</time>:\n    <strong>Report obligation recorded</strong>, " + ANNA in page
    )
    assert "Due Mon 2 Feb 2026" in page
    assert "<td>passed</td>" in page
    for action in ("receive", "extend", "waive"):
        assert f'<form method="post" action="{DEFAULT_PAGE}/{action}"' in page
    assert '<input type="hidden" name="version" value="1">' in page
    assert 'id="receive-received_on" name="received_on"' in page
    assert 'type="date" value="2026-03-03"' in page  # received today, unless said otherwise


@sqlite_only
def test_a_viewer_and_an_admin_see_the_report_but_no_form(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    for email in (BO, ADA):
        page = signed_in(email).get(DEFAULT_PAGE).text
        assert "<h1>Social-risk report, contract RS-2019-ICT-01</h1>" in page
        assert 'method="post" action="/obligations' not in page
        assert "Your role cannot record reports" in page


@sqlite_only
def test_a_moved_received_report_shows_both_dates_and_offers_nothing(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    workflow = owing.workflow
    number = self_assessment(owing, title="Code of conduct <self-assessment>")
    workflow.act_on_obligation(
        number, DutyRequest(DutyAction.EXTEND, ANNA, NOW, until=date(2026, 7, 4),
                            reason="Auditor <b>ill</b>"), now=NOW,
    )  # fmt: skip
    workflow.act_on_obligation(
        number, DutyRequest(DutyAction.RECEIVE, SARA, NOW, received_on=date(2026, 3, 2),
                            reference="SA-<1>"), now=NOW,
    )  # fmt: skip
    page = signed_in(ANNA).get(f"/obligations/{number}").text
    # Text people typed is escaped wherever it is shown.
    assert "<h1>Code of conduct &lt;self-assessment&gt;, contract RS-2019-ICT-01</h1>" in page
    assert "<dd>Self-assessment: Code of conduct &lt;self-assessment&gt;</dd>" in page
    assert "<b>" not in page and "SA-<1>" not in page
    assert "Reference: SA-&lt;1&gt;" in page
    assert "Auditor &lt;b&gt;ill&lt;/b&gt;" in page
    # Saturday 4 July moved to Monday 6 July, as every deadline.
    assert "Due date moved from Tue 30 Jun 2026 to Mon 6 Jul 2026" in page
    assert "(Sat 4 Jul 2026 was asked for: a closed day)" in page
    assert '<dt>First due</dt>\n  <dd><time datetime="2026-06-30">Tue 30 Jun 2026</time>' in page
    assert '<dt>Received on</dt>\n  <dd><time datetime="2026-03-02">Mon 2 Mar 2026</time>' in page
    assert "Came in on Mon 2 Mar 2026" in page and "(late)" not in page
    assert '<span class="badge">received</span> <span class="muted">on 2 Mar 2026</span>' in page
    assert "Nothing more: the report is received." in page
    assert 'method="post" action="/obligations' not in page


@sqlite_only
@pytest.mark.parametrize("number", ["0", "-1", "99999999999", "abc", "2", "1.0", "%201"])
def test_an_id_that_is_no_reports_is_the_not_found_page(
    owing: World, signed_in: Callable[[str], Desk], number: str
) -> None:
    anna = signed_in(ANNA)
    response = anna.get(f"/obligations/{number}")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    token = anna.token("/desk")
    for action in ("receive", "extend", "waive"):
        sent = anna.post(f"/obligations/{number}/{action}", {"csrftoken": token})
        assert sent.status_code == 404


@sqlite_only
def test_escalating_or_anything_else_is_no_form(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    for action in ("escalate", "delete", "RECEIVE"):
        sent = anna.submit(f"{DEFAULT_PAGE}/{action}", {"reason": "x"}, page=DEFAULT_PAGE)
        assert sent.status_code == 404
    assert detail(owing).obligation.version == 1


# -- the forms -------------------------------------------------------------------------------


def test_a_report_received_through_the_form_is_recorded_for_the_signed_in_user(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    """On both databases: the list, the page, the form and what it writes."""
    anna = signed_in(ANNA)
    assert f'href="{DEFAULT_PAGE}"' in anna.get("/obligations?overdue=1").text
    done = receive(anna, {"version": "1", "received_on": "2026-03-02", "reference": " SR-7 "})
    assert done.status_code == 303
    assert done.headers["location"] == f"{DEFAULT_PAGE}?done=receive"
    o = detail(owing).obligation
    assert (o.state, o.received_on, o.version) == (ObligationState.RECEIVED, date(2026, 3, 2), 2)
    event = detail(owing).events[-1]
    assert (event.kind, event.actor, event.at) == ("receive", ANNA, NOW + timedelta(hours=1))
    assert event.data == {"received_on": "2026-03-02", "late": True, "reference": "SR-7"}
    after = anna.get(f"{DEFAULT_PAGE}?done=receive").text
    assert '<p class="notice" role="status">Recorded: the report was received.</p>' in after
    assert "Came in on Mon 2 Mar 2026 (late)" in after and "Reference: SR-7" in after
    assert f'href="{DEFAULT_PAGE}"' not in anna.get("/obligations?overdue=1").text


@sqlite_only
@pytest.mark.parametrize(
    ("received_on", "message"),
    [
        ("", "receive needs the day the report came in"),
        ("yesterday", "&#39;yesterday&#39; is not a date; write it as YYYY-MM-DD"),
        ("2026-03-04", "2026-03-04 is in the future; give the day the report came in (today is "
                       "2026-03-03)"),
    ],
)  # fmt: skip
def test_a_bad_day_of_receipt_is_named_next_to_its_field_and_nothing_is_written(
    owing: World, signed_in: Callable[[str], Desk], received_on: str, message: str
) -> None:
    response = receive(signed_in(ANNA), {"version": "1", "received_on": received_on,
                                          "reference": "<i>SR</i>"})  # fmt: skip
    assert response.status_code == 400
    page = response.text
    assert f'<p class="error" id="receive-received_on-error">{message}</p>' in page
    assert f'<a href="#receive-received_on">The day it came in: <span>{message}</span></a>' in page
    assert 'aria-invalid="true"' in page
    # The form comes back as it was sent, escaped.
    assert (
        f'type="date" value="{received_on if received_on != "yesterday" else "yesterday"}"' in page
    )
    assert 'value="&lt;i&gt;SR&lt;/i&gt;"' in page
    assert detail(owing).obligation.version == 1


@sqlite_only
def test_the_due_date_moved_through_the_form(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    done = anna.submit(f"{DEFAULT_PAGE}/extend",
                       {"version": "1", "until": "2026-04-30", "reason": "New contact person"},
                       page=DEFAULT_PAGE)  # fmt: skip
    assert done.headers["location"] == f"{DEFAULT_PAGE}?done=extend"
    o = detail(owing).obligation
    assert (o.state, o.due, o.first_due) == (ObligationState.DUE, date(2026, 4, 30), DEFAULT_DUE)
    after = anna.get(done.headers["location"]).text
    assert "Recorded: the due date was moved." in after
    assert "Due date moved from Mon 2 Feb 2026 to Thu 30 Apr 2026" in after
    assert "New contact person" in after
    # The ladder starts afresh: its reminders are to come.
    assert "<td>waiting</td>" in after and "reminder: report due" in after


@sqlite_only
@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"until": "2026-04-30", "reason": " "}, "reason", "extend needs a reason"),
        ({"until": "", "reason": "More time"}, "until", "extend needs the new due date"),
        ({"until": "2026-02-02", "reason": "More time"}, "until",
         "2026-02-02 must be after the current due date (2026-02-02)"),
        ({"until": "30/4/2026", "reason": "More time"}, "until",
         "&#39;30/4/2026&#39; is not a date; write it as YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_a_bad_extension_is_named_next_to_its_field_and_nothing_is_written(
    owing: World, signed_in: Callable[[str], Desk], form: dict[str, str], field: str,
    message: str,
) -> None:  # fmt: skip
    response = signed_in(SARA).submit(f"{DEFAULT_PAGE}/extend", {"version": "1", **form},
                                      page=DEFAULT_PAGE)  # fmt: skip
    assert response.status_code == 400
    assert f'<p class="error" id="extend-{field}-error">{message}</p>' in response.text
    assert detail(owing).obligation.version == 1


@sqlite_only
def test_a_report_waived_through_the_form_and_a_waiver_without_reason(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    sara = signed_in(SARA)  # a sustainability manager records reports too
    refused = sara.submit(f"{DEFAULT_PAGE}/waive", {"version": "1", "reason": ""},
                          page=DEFAULT_PAGE)  # fmt: skip
    assert refused.status_code == 400
    assert '<p class="error" id="waive-reason-error">waive needs a reason</p>' in refused.text
    done = sara.submit(f"{DEFAULT_PAGE}/waive",
                       {"version": "1", "reason": "The contract ended in 2020"},
                       page=DEFAULT_PAGE)  # fmt: skip
    assert done.status_code == 303
    o = detail(owing).obligation
    assert o.state is ObligationState.WAIVED
    assert detail(owing).events[-1].actor == SARA
    after = sara.get(done.headers["location"]).text
    assert "Recorded: the report was waived." in after
    assert "Nothing more: the report is waived." in after


@sqlite_only
def test_a_stale_form_is_refused_with_a_conflict(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    form_token = anna.token(DEFAULT_PAGE)  # Anna opens the page at version 1...
    owing.workflow.act_on_obligation(  # ...Sara moves the date meanwhile
        DEFAULT, DutyRequest(DutyAction.EXTEND, SARA, NOW, until=date(2026, 4, 30), reason="x"),
        now=NOW,
    )  # fmt: skip
    response = anna.post(f"{DEFAULT_PAGE}/receive", {"csrftoken": form_token, "version": "1",
                                                     "received_on": "2026-03-02"})  # fmt: skip
    assert response.status_code == 409
    message = "report 1 was changed by someone else meanwhile; reload it and try again"
    assert f'<p class="error" id="receive-form-error">{message}</p>' in response.text
    assert f'<a href="#action-receive">{message}</a>' in response.text
    o = detail(owing).obligation
    assert (o.state, o.version) == (ObligationState.DUE, 2)


@sqlite_only
def test_an_action_the_state_no_longer_allows_is_refused(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    assert receive(anna, {"received_on": "2026-03-02"}).status_code == 303
    again = anna.submit(f"{DEFAULT_PAGE}/waive", {"version": "2", "reason": "x"},
                        page=DEFAULT_PAGE)  # fmt: skip
    assert again.status_code == 409
    assert ("<li>cannot waive: the report is received; allowed now: nothing (it is settled)</li>"
            in again.text)  # fmt: skip
    assert detail(owing).obligation.state is ObligationState.RECEIVED


@sqlite_only
def test_a_version_that_is_none_is_refused(owing: World, signed_in: Callable[[str], Desk]) -> None:
    response = receive(signed_in(ANNA), {"version": "one", "received_on": "2026-03-02"})
    assert response.status_code == 400
    assert "&#39;one&#39; is not a version; reload the page" in response.text
    assert detail(owing).obligation.version == 1


@sqlite_only
@pytest.mark.parametrize("email", [BO, ADA])
def test_a_viewer_or_an_admin_who_posts_is_refused(
    owing: World, signed_in: Callable[[str], Desk], email: str
) -> None:
    browser = signed_in(email)
    token = browser.token("/desk")
    for action, form in (("receive", {"received_on": "2026-03-02"}),
                         ("extend", {"until": "2026-04-30", "reason": "x"}),
                         ("waive", {"reason": "x"})):  # fmt: skip
        response = browser.post(f"{DEFAULT_PAGE}/{action}", {"csrftoken": token, **form})
        assert response.status_code == 403
        assert "Your role does not allow this" in response.text
    assert detail(owing).obligation.version == 1


@sqlite_only
def test_a_form_without_its_token_or_with_a_forged_one_is_refused(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    anna = signed_in(ANNA)
    form = {"version": "1", "received_on": "2026-03-02"}
    missing = anna.post(f"{DEFAULT_PAGE}/receive", form)
    forged = anna.post(f"{DEFAULT_PAGE}/receive", {**form, "csrftoken": "forged"})
    other_site = anna.post(f"{DEFAULT_PAGE}/receive",
                           {**form, "csrftoken": anna.token(DEFAULT_PAGE)},
                           headers={"origin": "https://evil.example"})  # fmt: skip
    for response in (missing, forged, other_site):
        assert response.status_code == 403
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.text.startswith("refused: ")
    assert detail(owing).obligation.version == 1
    assert len(detail(owing).events) == 1


@sqlite_only
def test_an_anonymous_visitor_signs_in_first_and_may_not_post(owing: World, desk: Desk) -> None:
    seen = desk.get(DEFAULT_PAGE)
    assert seen.status_code == 303 and seen.headers["location"] == "/login?next=%2Fobligations%2F1"
    token = desk.token()
    sent = desk.post(f"{DEFAULT_PAGE}/receive", {"csrftoken": token, "received_on": "2026-03-02"})
    assert sent.status_code == 401
    assert detail(owing).obligation.version == 1


# -- the contract's and the supplier's pages, and Swedish ---------------------------------


@sqlite_only
def test_the_contract_and_the_supplier_list_their_reports(
    owing: World, signed_in: Callable[[str], Desk]
) -> None:
    later = self_assessment(owing)
    other = another_supplier(owing.workflow, "Other AB", "x@other.example", Language.EN)
    theirs = owing.workflow.add_obligation(other.contract, due=DEFAULT_DUE, actor=ANNA, now=NOW)
    bo = signed_in(BO)
    for path in ("/contracts/RS-2019-ICT-01", "/suppliers/556000-1234"):
        page = bo.get(path).text
        assert "<h2>Supplier reports</h2>" in page
        assert f'<a href="/obligations/{DEFAULT}">Social-risk report</a>' in page
        assert f'<a href="/obligations/{later}">Self-assessment</a>' in page
        assert f'href="/obligations/{theirs.id}"' not in page
        assert '<time datetime="2026-06-30">30 Jun 2026</time>' in page
    supplier_page = bo.get("/suppliers/556000-1234").text
    assert '<td><a href="/contracts/RS-2019-ICT-01">RS-2019-ICT-01</a></td>' in supplier_page
    owing.workflow.add_contract(
        ContractInput(reference="RS-NO-START", supplier=owing.org_number, category="Phones",
                      manager=ANNA),
        now=NOW,
    )  # fmt: skip
    assert "No report is asked for under this contract." in bo.get("/contracts/RS-NO-START").text


@sqlite_only
def test_the_pages_in_swedish(owing: World, signed_in: Callable[[str], Desk]) -> None:
    anna = signed_in(ANNA)
    token = anna.token("/desk")
    anna.post("/language", {"csrftoken": token, "language": "sv", "next": "/desk"})
    listing = anna.get("/obligations").text
    assert '<html lang="sv">' in listing
    assert "<h1>Leverantörsrapporter</h1>" in listing
    assert '<time datetime="2026-02-02">2 feb. 2026</time>' in listing
    assert "29 dagar försenad" in listing
    assert '<span class="badge">väntas</span>' in listing
    assert ">Rapport om sociala risker</a>" in listing
    page = anna.get(DEFAULT_PAGE).text
    assert '<time datetime="2026-02-02">mån 2 feb. 2026</time>, dagens slut' in page
    assert '<h3 id="action-receive">Registrera rapporten som mottagen</h3>' in page
    assert "3 mars 2026 10:00" in page
    refused = anna.submit(f"{DEFAULT_PAGE}/waive", {"version": "1"}, page=DEFAULT_PAGE).text
    # The workflow's words, in English, marked so for screen readers.
    assert '<p class="error" id="waive-reason-error" lang="en">waive needs a reason</p>' in refused
    assert '<label for="waive-reason">Skäl</label>' in refused
