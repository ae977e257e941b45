"""The outbox page: failed emails first, then those waiting, then those sent; counts, a status
filter, pages of 50; a failed email retried by a role that may, refused to one that may not
(both databases, a real SMTP server on loopback for the failure)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Table, inspect, select
from sqlmodel import col

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import OutboxStatus
from cap.notify.delivery import Delivery
from cap.notify.outbox import insert_rows
from cap.store.models import OutboxMessage
from cap.workflow import Workflow
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.smtp_server import Handler
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk
from tests.web.test_web_headers import INLINE

SignedIn = Callable[[str], Desk]
_ROW = re.compile(r'<tr id="message-(\d+)">')


def notify(world: World, at: datetime, title: str = "Forced overtime at final assembly") -> int:
    """A finding notified at ``at``: its email to the supplier (LI) is queued; its id."""
    ref = world.finding(title=title, now=at)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, at), now=at)
    with world.workflow.db.read() as session:
        return int(
            session.execute(select(col(OutboxMessage.id)).order_by(col(OutboxMessage.id).desc()))
            .scalars()
            .first()
            or 0
        )


def deliver(wf: Workflow, settings: Settings, at: datetime) -> None:
    asyncio.run(Delivery(wf.db, settings, owner="test").run_pass(lambda: at))


def status_of(wf: Workflow, message_id: int) -> OutboxStatus:
    with wf.db.read() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        return row.status


@dataclass(frozen=True)
class Outbox:
    sent_first: int  # the oldest, delivered to the mail folder
    failed: int  # refused by the SMTP server for good
    queued: int
    sent_last: int  # the newest


@pytest.fixture
def outbox(desk_world: World, server: tuple[Handler, int]) -> Outbox:
    """Four emails, a minute apart: one sent, one refused for good (550), one sent, one
    waiting."""
    wf = desk_world.workflow
    handler, port = server
    smtp = wf.settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
        "mail_from": "cap@region.example", "smtp_timeout": 5.0,
    })  # fmt: skip
    sent_first = notify(desk_world, NOW)
    deliver(wf, wf.settings, NOW)  # to the mail folder
    failed = notify(desk_world, NOW + timedelta(minutes=1))
    handler.script[LI] = ["550 5.1.1 No such user"]
    deliver(wf, smtp, NOW + timedelta(minutes=1))
    sent_last = notify(desk_world, NOW + timedelta(minutes=2))
    deliver(wf, wf.settings, NOW + timedelta(minutes=2))
    queued = notify(desk_world, NOW + timedelta(minutes=3))
    assert status_of(wf, sent_first) is status_of(wf, sent_last) is OutboxStatus.SENT
    assert status_of(wf, failed) is OutboxStatus.FAILED
    assert status_of(wf, queued) is OutboxStatus.QUEUED
    return Outbox(sent_first, failed, queued, sent_last)


def rows(page: str) -> list[int]:
    return [int(i) for i in _ROW.findall(page)]


def test_failed_emails_come_first_then_waiting_then_sent_newest_first(
    outbox: Outbox, signed_in: SignedIn
) -> None:
    page = signed_in(BO).get("/outbox")  # a viewer reads it
    assert page.status_code == 200
    assert rows(page.text) == [outbox.failed, outbox.queued, outbox.sent_last, outbox.sent_first]
    failed_row = page.text.split(f'<tr id="message-{outbox.failed}">')[1].split("</tr>")[0]
    assert "✖</span> failed" in failed_row and "550 5.1.1 No such user" in failed_row
    assert LI in failed_row and "(supplier)" in failed_row
    assert "corrective action plan requested" in failed_row
    assert re.search(r'href="/findings/NC-\d{4}-\d{4}"', failed_row)
    counts = page.text.split('id="counts"')[1].split("</ul>")[0]
    assert re.search(r'"figure">1</span>\s*<a href="/outbox\?status=failed">', counts)
    assert re.search(r'"figure">1</span>\s*<a href="/outbox\?status=queued">', counts)
    assert re.search(r'"figure">0</span>\s*<a href="/outbox\?status=sending">', counts)
    assert re.search(r'"figure">2</span>\s*<a href="/outbox\?status=sent">', counts)
    assert "/retry" not in page.text  # a viewer may not retry
    assert "3 Mar 2026 10:00" in page.text  # created at NOW, shown in Stockholm time
    assert INLINE.search(page.text) is None


def test_the_roles_that_may_retry_see_the_button_on_failed_emails_only(
    outbox: Outbox, signed_in: SignedIn
) -> None:
    for email in (ANNA, SARA, ADA):
        page = signed_in(email).get("/outbox").text
        assert re.findall(r'action="/outbox/(\d+)/retry"', page) == [str(outbox.failed)]
        assert f'aria-label="Retry message {outbox.failed} to {LI}">Retry</button>' in page


def test_a_retry_queues_the_failed_email_again_with_a_notice(
    outbox: Outbox, signed_in: SignedIn, desk_world: World
) -> None:
    desk = signed_in(ANNA)
    retried = desk.submit(f"/outbox/{outbox.failed}/retry", {}, page="/outbox")
    assert retried.status_code == 303 and retried.headers["location"] == "/outbox"
    assert status_of(desk_world.workflow, outbox.failed) is OutboxStatus.QUEUED
    page = desk.get("/outbox").text
    assert (f'<p class="notice" role="status">The email to {LI} (message {outbox.failed}) is '
            "queued again; the next delivery pass sends it.</p>") in page  # fmt: skip
    assert "/retry" not in page  # nothing failed any more
    assert 'class="notice"' not in desk.get("/outbox").text  # shown once


def test_retrying_an_email_that_has_not_failed_is_refused(
    outbox: Outbox, signed_in: SignedIn, desk_world: World
) -> None:
    desk = signed_in(ANNA)
    for message, status in ((outbox.queued, "queued"), (outbox.sent_last, "sent")):
        refused = desk.submit(f"/outbox/{message}/retry", {}, page="/outbox")
        assert refused.status_code == 409
        assert (f'<p class="error" role="alert">message {message} is {status}; only failed '
                "messages can be retried</p>") in refused.text  # fmt: skip
    assert status_of(desk_world.workflow, outbox.sent_last) is OutboxStatus.SENT
    for missing in ("999999", "abc", "-1", "1" * 40):
        assert desk.submit(f"/outbox/{missing}/retry", {}, page="/outbox").status_code == 404


def test_a_viewers_forged_retry_is_refused_and_changes_nothing(
    outbox: Outbox, signed_in: SignedIn, desk_world: World
) -> None:
    viewer = signed_in(BO)
    forged = viewer.submit(f"/outbox/{outbox.failed}/retry", {}, page="/outbox")
    assert forged.status_code == 403
    assert "Your role does not allow this" in forged.text
    assert status_of(desk_world.workflow, outbox.failed) is OutboxStatus.FAILED


def test_anonymous_visitors_sign_in_first(web_settings: Settings, desk_world: World) -> None:
    desk = Desk(web_settings)
    try:
        assert desk.get("/outbox").headers["location"] == "/login?next=%2Foutbox"
        token = desk.token()
        assert desk.post("/outbox/1/retry", {"csrftoken": token}).status_code == 401
    finally:
        desk.close()


def _copies(wf: Workflow, count: int, **changes: object) -> list[int]:
    """``count`` more emails like the newest one, a minute apart after it (written through
    the outbox's own insert, as queueing writes them)."""
    table = inspect(OutboxMessage).local_table
    assert isinstance(table, Table)
    with wf.db.write() as session:
        row = (
            session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()))
            .scalars()
            .first()
        )
        assert row is not None
        base = {c.name: getattr(row, c.name) for c in table.columns if c.name != "id"}
        insert_rows(session, [
            {**base, "key": f"{base['key']}/copy{i}",
             "created_at": base["created_at"] + timedelta(minutes=i + 1), **changes}
            for i in range(count)
        ])  # fmt: skip
    with wf.db.read() as session:
        ids = session.execute(select(col(OutboxMessage.id)).order_by(col(OutboxMessage.id)))
        return list(ids.scalars())


def test_fifty_emails_a_page_and_a_status_filter(desk_world: World, signed_in: SignedIn) -> None:
    wf = desk_world.workflow
    notify(desk_world, NOW)
    ids = _copies(wf, 60)
    desk = signed_in(BO)
    first = desk.get("/outbox")
    assert rows(first.text) == ids[::-1][:50]  # all queued: newest first
    assert 'aria-current="page">Page 1 of 2</a>' in first.text
    assert 'href="/outbox?page=2" rel="next"' in first.text
    second = desk.get("/outbox?page=2")
    assert rows(second.text) == ids[::-1][50:]
    assert 'href="/outbox?page=1" rel="prev"' in second.text
    past = desk.get("/outbox?page=3")
    assert past.status_code == 200 and rows(past.text) == []
    assert "There are no emails on this page: the outbox ends at page 2." in past.text

    only_sent = desk.get("/outbox?status=sent")
    assert only_sent.status_code == 200 and rows(only_sent.text) == []
    assert "No email has this status." in only_sent.text
    assert '<option value="sent" selected>sent</option>' in only_sent.text
    queued = desk.get("/outbox?status=queued&page=2")
    assert rows(queued.text) == ids[::-1][50:]
    assert 'href="/outbox?status=queued&amp;page=1" rel="prev"' in queued.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=lost", "status: &#39;lost&#39; is not a status; choose failed, queued, sending"),
        ("status=%3Cscript%3E", "status: &#39;&lt;script&gt;&#39; is not a status"),
        ("page=abc", "page: &#39;abc&#39; is not a page number; pages count from 1"),
        ("page=0", "page: &#39;0&#39; is not a page number"),
        ("page=-2", "page: &#39;-2&#39; is not a page number"),
        ("page=99999999999999999999999", None),
    ],
)
def test_a_bad_parameter_is_a_page_naming_it(
    desk_world: World, signed_in: SignedIn, query: str, message: str | None
) -> None:
    page = signed_in(BO).get(f"/outbox?{query}")
    if message is None:  # a number past the last page: an empty page, not an error
        assert page.status_code == 200 and "the outbox ends at page 1" in page.text
        return
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert f'<p class="error" role="alert">{message}' in page.text
    assert "<script>" not in page.text.split("<main")[1]


def test_text_from_outside_is_escaped(desk_world: World, signed_in: SignedIn) -> None:
    wf = desk_world.workflow
    notify(desk_world, NOW)
    _copies(wf, 1, subject="<script>alert(1)</script>", status=OutboxStatus.FAILED,
            last_error="550 <img src=x onerror=alert(2)>")  # fmt: skip
    page = signed_in(ANNA).get("/outbox").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page and "550 &lt;img src=x onerror=alert(2)&gt;" in page


def test_the_outbox_in_swedish(outbox: Outbox, signed_in: SignedIn) -> None:
    desk = signed_in(ANNA)
    desk.client.cookies.set("cap_language", "sv")
    page = desk.get("/outbox").text
    assert "<h1>Utkorg</h1>" in page
    assert "✖</span> misslyckat" in page and "✔</span> skickat" in page
    assert "Försök igen</button>" in page
    assert "åtgärdsplan begärd" in page
    assert "3 mars 2026 10:00" in page
    bad = desk.get("/outbox?page=x")
    assert "page: &#39;x&#39; är inget sidnummer; sidorna räknas från 1" in bad.text


def test_a_reports_email_links_to_the_report(desk_world: World, signed_in: SignedIn) -> None:
    from cap.domain.inputs import ContractInput

    wf = desk_world.workflow
    start = NOW.date()
    wf.add_contract(
        ContractInput(reference="LIC-OUT", supplier=desk_world.org_number, category="Laptops",
                      manager=ANNA, start=start),
        now=NOW,
    )  # fmt: skip
    [report] = wf.list_obligations(now=NOW)
    assert report.next_step_at is not None
    wf.sweep(now=report.next_step_at)  # the reminder 14 days before
    [message] = wf.list_outbox()
    assert (message.finding, message.obligation, message.kind) == (
        None, report.id, "report_reminder",
    )  # fmt: skip
    page = signed_in(BO).get("/outbox")
    row = page.text.split(f'<tr id="message-{message.id}">')[1].split("</tr>")[0]
    assert f'<a href="/obligations/{report.id}">report {report.id}</a>' in row
    assert "reminder: report due" in row
