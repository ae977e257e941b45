"""A finding's page: its details with links, the deadlines in force, its history and what the
rules will do next (with dates and status), plans, evidence, decisions, and the emails sent
about it with their delivery status (both databases)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

from cap.domain.inputs import PlanAction, PlanInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, Severity
from cap.notify.delivery import Delivery
from cap.workflow import EvidenceFile
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import SARA, Clock
from tests.web.desk_client import Desk

PLAN = PlanInput(
    root_cause="Orders accepted beyond line capacity",
    actions=[
        PlanAction(
            description="Cap overtime at 60 h/week", owner="Plant manager", due=date(2026, 6, 30)
        ),
    ],
)


def act(
    world: World, ref: str, action: Action, at: datetime, actor: str = ANNA, **options: object
) -> None:
    plan = PLAN if action is Action.SUBMIT_PLAN else None
    world.workflow.act(ref, ActionRequest(action, actor, at, **options), now=at, plan=plan)  # type: ignore[arg-type]


def test_the_details_link_to_the_supplier_and_the_contract(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    page = signed_in(BO).get(f"/findings/{ref}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "<title>NC-2026-0001: Forced overtime at final assembly - cap</title>" in page.text
    assert '<a href="/suppliers/556000-1234">Nordic IT Supply AB</a>' in page.text
    assert '<a href="/contracts/RS-2019-ICT-01">RS-2019-ICT-01</a>' in page.text
    assert '<span class="badge">open</span>' in page.text
    assert '<span class="badge severity-major">major</span>' in page.text
    assert "Final assembly, Dongguan, CN" in page.text
    assert "<dd>20 Jan 2026</dd>" in page.text  # found on
    assert "No deadline binds anyone now." in page.text


def test_the_deadlines_in_force_have_their_day_and_overdue_is_said(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock
) -> None:
    ref = desk_world.finding()
    act(desk_world, ref, Action.NOTIFY, NOW)
    bo = signed_in(BO)
    page = bo.get(f"/findings/{ref}").text
    # One month from 3 March is Good Friday 3 April: the next weekday after Easter Monday.
    assert '<time datetime="2026-04-07">Tue 7 Apr 2026</time>, end of day' in page
    assert '<time datetime="2026-09-03">Thu 3 Sept 2026</time>, end of day' in page
    assert "Overdue" not in page

    clock.now = datetime(2026, 4, 7, 21, 59, tzinfo=NOW.tzinfo)  # 23:59 in Stockholm
    assert "Overdue" not in bo.get(f"/findings/{ref}").text
    clock.now = datetime(2026, 4, 7, 22, 0, tzinfo=NOW.tzinfo)  # the next day has begun
    late = bo.get(f"/findings/{ref}").text
    assert '<tr class="overdue">' in late
    assert '<span class="overdue-flag">⚠ Overdue</span>' in late


def test_the_timeline_shows_the_past_and_the_dated_steps_to_come_with_their_status(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock
) -> None:
    ref = desk_world.finding()
    act(desk_world, ref, Action.NOTIFY, NOW)
    bo = signed_in(BO)
    page = bo.get(f"/findings/{ref}").text
    past = page[page.index("<h2>History</h2>") : page.index("<h2>What the rules will do next")]
    assert '<time datetime="2026-03-03T09:00:00+00:00">3 Mar 2026 10:00</time>' in past
    assert (
        "<strong>Supplier notified</strong>, anna.manager@region.example; open → awaiting plan"
        in past
    )
    assert "plan due: Tue 7 Apr 2026" in past
    upcoming = page[page.index("<h2>What the rules will do next") :]
    assert "<td>31 Mar 2026 09:00</td>" in upcoming  # 7 days before, at the rules' hour
    assert "(R-plan-7d, plan_reminder)" in upcoming
    assert "<td>Tue 7 Apr 2026, end of day</td>" in upcoming
    assert "escalates to sanction review" in upcoming
    assert upcoming.count("<td>waiting</td>") >= 5
    assert "due now" not in upcoming

    clock.now = datetime(2026, 3, 31, 8, 30, tzinfo=NOW.tzinfo)  # 10:30 in Stockholm
    due = bo.get(f"/findings/{ref}").text
    assert due.count("<td>due now: the next sweep takes it</td>") == 1

    clock.now = datetime(2026, 4, 2, 8, 30, tzinfo=NOW.tzinfo)  # both reminders due: catch-up
    caught_up = bo.get(f"/findings/{ref}").text
    assert caught_up.count("<td>skipped: a later step is due</td>") == 1
    assert caught_up.count("<td>due now: the next sweep takes it</td>") == 1


def test_plans_are_shown_by_version_with_their_review(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    act(desk_world, ref, Action.NOTIFY, NOW - timedelta(days=3))
    act(desk_world, ref, Action.SUBMIT_PLAN, NOW - timedelta(days=2), actor=LI)
    act(desk_world, ref, Action.REJECT_PLAN, NOW - timedelta(days=1),
        reason="No date for the <b>audit</b>")  # fmt: skip
    act(desk_world, ref, Action.SUBMIT_PLAN, NOW, actor=LI)
    page = signed_in(BO).get(f"/findings/{ref}").text
    assert "<h3>Plan version 1</h3>" in page and "<h3>Plan version 2</h3>" in page
    assert "✘ rejected" in page and "not reviewed yet" in page
    assert "No date for the &lt;b&gt;audit&lt;/b&gt;" in page
    assert (
        "<tr><td>Cap overtime at 60 h/week</td><td>Plant manager</td><td>30 Jun 2026</td></tr>"
        in page
    )
    assert "<caption>Actions of plan version 2</caption>" in page
    # In plan review, the buyer's review deadline binds.
    assert '<th scope="row">plan review due</th>' in page


def test_evidence_is_listed_with_its_size_uploader_and_a_download_link(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    [added] = desk_world.workflow.add_evidence(
        ref, [EvidenceFile("rota 2026.pdf", b"%PDF" + b"x" * 2044)], actor=ANNA, now=NOW
    )
    page = signed_in(BO).get(f"/findings/{ref}").text
    link = f'<a href="/findings/{ref}/evidence/{added.id}" download>rota 2026.pdf</a>'
    assert link in page
    assert '<td class="number">2 kB</td>' in page
    assert f"<td>{ANNA}</td>" in page
    assert "<strong>Evidence attached</strong>" in page  # in the history too
    assert "Files: rota 2026.pdf" in page


def test_decisions_show_who_proposed_and_who_approved(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding(severity=Severity.CRITICAL)
    act(desk_world, ref, Action.NOTIFY, NOW - timedelta(days=2))
    act(desk_world, ref, Action.ESCALATE, NOW - timedelta(days=1), reason="Confirmed")
    act(desk_world, ref, Action.WARN, NOW, actor=SARA, reason="First breach of clause 7")
    page = signed_in(BO).get(f"/findings/{ref}").text
    assert '<th scope="row">warning</th>' in page
    assert "<td>First breach of clause 7</td>" in page
    assert f"3 Mar 2026 10:00, {SARA}</td>" in page


def test_the_emails_about_the_finding_show_their_delivery(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    bo = signed_in(BO)
    assert "No email has been queued about this finding." in bo.get(f"/findings/{ref}").text
    act(desk_world, ref, Action.NOTIFY, NOW - timedelta(days=1))
    queued = bo.get(f"/findings/{ref}").text
    emails = queued[queued.index("<h2>Emails about this finding") :]
    assert f'{LI} <span class="muted">(supplier)</span>' in emails
    assert "<td>cap_requested</td>" in emails
    assert "Corrective action plan requested by" in emails
    assert "<td>queued</td>" in emails and "next try" in emails

    wf = desk_world.workflow
    report = asyncio.run(
        Delivery(wf.db, wf.settings, owner="test").run_pass(lambda: NOW - timedelta(hours=23))
    )
    assert report.sent == 1
    act(desk_world, ref, Action.SUBMIT_PLAN, NOW, actor=LI)  # to the supplier and Anna
    sent = bo.get(f"/findings/{ref}").text
    emails = sent[sent.index("<h2>Emails about this finding") :]
    assert "<td>✔ sent</td>" in emails
    assert "<td>2 Mar 2026 11:00</td>" in emails  # sent, in Stockholm time
    assert f'{ANNA} <span class="muted">(contract manager)</span>' in emails
    assert emails.count("<td>plan_received</td>") == 2
    # Newest first.
    assert emails.index("<td>cap_requested</td>") > emails.index("<td>plan_received</td>")


def test_an_unknown_finding_is_a_404_page_with_the_reason(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    missing = signed_in(BO).get("/findings/NC-2026-9999")
    assert missing.status_code == 404
    assert "finding NC-2026-9999 does not exist" in missing.text
    assert "cap finding list" not in missing.text  # the command line's hint, not a page's


def test_a_visitor_is_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    ref = desk_world.finding()
    assert desk.get(f"/findings/{ref}").headers["location"] == f"/login?next=%2Ffindings%2F{ref}"
