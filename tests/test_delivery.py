"""Delivery to a real SMTP server on loopback: content, retries, failures; nothing lost."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from cap.config import Settings
from cap.domain.inputs import PlanInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Language
from cap.notify.delivery import Delivery, DeliveryReport
from cap.store.db import Database
from cap.store.models import Finding, OutboxMessage, OutboxStatus, Supplier, SupplierContact
from cap.workflow import Workflow
from tests.conftest import ANNA, LI, NOW, World, make_world
from tests.smtp_server import STALL_SECONDS, Handler


def deliver(world: World, at: datetime) -> DeliveryReport:
    wf = world.workflow
    return asyncio.run(Delivery(wf.db, wf.settings, owner="test").run_pass(lambda: at))


def notify(world: World, **finding: object) -> str:
    ref = world.finding(**finding)  # type: ignore[arg-type]
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    return ref


def outbox(world: World) -> list[OutboxMessage]:
    with world.workflow.db.read() as session:
        return list(
            session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id))).scalars()
        )


def add_contact(world: World, email: str, language: Language) -> str:
    """A second contact of the supplier, written straight to the database."""
    with world.workflow.db.write() as session:
        supplier_id = session.execute(select(col(Supplier.id))).scalar_one()
        name = email.split("@")[0].capitalize()
        session.add(
            SupplierContact(supplier_id=supplier_id, name=name, email=email, language=language)
        )
    return email


def add_swedish_contact(world: World) -> str:
    return add_contact(world, "karin@nordic-supply.example", Language.SV)


def test_it_sends_the_cap_request_in_each_contacts_language(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    karin = add_swedish_contact(smtp_world)
    ref = notify(smtp_world)
    report = deliver(smtp_world, NOW)
    assert (report.sent, report.failed, report.retrying) == (2, 0, 0)

    [english] = handler.messages_to(LI)
    [swedish] = handler.messages_to(karin)
    assert ref in english["Subject"] and ref in swedish["Subject"]
    assert english["Subject"] != swedish["Subject"]
    assert english["From"].addresses[0].addr_spec == "cap@region.example"
    assert english["Reply-To"] == ANNA  # the supplier answers the contract manager
    assert english["Auto-Submitted"] == "auto-generated"
    assert english.get_content_type() == "multipart/alternative"
    plain = english.get_body(("plain",))
    html = english.get_body(("html",))
    assert plain is not None and html is not None
    assert "7 April 2026" in plain.get_content()  # the plan deadline, in English
    assert "7 april 2026" in swedish.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/findings/{ref}" in html.get_content()
    rows = outbox(smtp_world)
    assert {r.message_id for r in rows} == {english["Message-ID"], swedish["Message-ID"]}
    assert all(r.status is OutboxStatus.SENT and r.attempts == 1 for r in rows)


@pytest.mark.parametrize("refusal", ["421 4.7.0 Try again later", "451 4.3.0 Mailbox busy"])
def test_it_retries_a_temporary_refusal_then_succeeds(
    smtp_world: World, server: tuple[Handler, int], refusal: str
) -> None:
    handler, _ = server
    handler.script[LI] = [refusal]
    notify(smtp_world)
    first = deliver(smtp_world, NOW)
    assert (first.sent, first.retrying) == (0, 1)
    [row] = outbox(smtp_world)
    assert row.status is OutboxStatus.QUEUED and row.attempts == 1
    assert row.last_error is not None and refusal[:3] in row.last_error
    assert row.next_attempt_at == NOW + timedelta(minutes=1)

    assert deliver(smtp_world, NOW + timedelta(seconds=59)).claimed == 0  # not due yet
    second = deliver(smtp_world, NOW + timedelta(minutes=1))
    assert second.sent == 1
    assert len(handler.messages_to(LI)) == 1
    [row] = outbox(smtp_world)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


def test_a_permanent_refusal_fails_at_once_and_stays_visible(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    handler.script[LI] = ["550 5.1.1 No such user"]
    notify(smtp_world)
    report = deliver(smtp_world, NOW)
    assert (report.sent, report.failed) == (0, 1)
    [row] = outbox(smtp_world)
    assert row.status is OutboxStatus.FAILED
    assert row.last_error is not None and "550" in row.last_error
    assert deliver(smtp_world, NOW + timedelta(days=1)).claimed == 0
    assert handler.received == []


def test_a_message_refused_after_its_content_fails_and_the_connection_goes_on(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    refused, accepted = notify(smtp_world, title="Refused"), notify(smtp_world, title="Accepted")
    handler.script[LI] = ["data:554 5.6.0 Message content rejected"]
    wf = smtp_world.workflow
    one = Delivery(wf.db, wf.settings, owner="test", connections=1)  # both on one connection
    report = asyncio.run(one.run_pass(lambda: NOW))
    assert (report.sent, report.failed) == (1, 1)
    [failed] = [row for row in outbox(smtp_world) if row.status is OutboxStatus.FAILED]
    assert failed.last_error is not None and failed.last_error.startswith("554")
    assert [m["X-Cap-Finding"] for m in handler.messages_to(LI)] == [accepted]
    with wf.db.read() as session:
        query = select(col(Finding.id)).where(col(Finding.ref) == refused)
        assert failed.finding_id == session.scalars(query).one()


def test_a_relay_that_refuses_our_sender_fails_the_message_visibly(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    handler.mail_reply = "553 5.7.1 Sender address rejected: not owned by user"
    notify(smtp_world)
    report = deliver(smtp_world, NOW)
    assert (report.sent, report.failed) == (0, 1)
    [row] = outbox(smtp_world)
    assert row.status is OutboxStatus.FAILED
    assert row.last_error is not None and row.last_error.startswith("553 5.7.1 Sender address")
    assert handler.received == []


def test_it_gives_up_on_temporary_failures_after_the_horizon(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    handler.script[LI] = ["451 4.3.0 busy"] * 100
    notify(smtp_world)
    at = NOW
    for _ in range(40):
        deliver(smtp_world, at)
        [row] = outbox(smtp_world)
        if row.status is OutboxStatus.FAILED:
            break
        at = row.next_attempt_at
    assert row.status is OutboxStatus.FAILED
    assert row.last_error is not None and row.last_error.startswith("gave up after")
    assert at <= NOW + timedelta(hours=24)


def test_a_connection_dropped_mid_batch_loses_nothing(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    refs = [notify(smtp_world, title=f"Finding {i}") for i in range(5)]
    handler.script[LI] = ["ok", "drop", "drop", "ok"]
    first = deliver(smtp_world, NOW)
    second = deliver(smtp_world, NOW + timedelta(minutes=1))
    assert first.sent + second.sent == 5
    subjects = sorted(m["X-Cap-Finding"] for m in handler.messages_to(LI))
    assert subjects == sorted(refs)  # each finding's request arrived exactly once
    assert all(r.status is OutboxStatus.SENT for r in outbox(smtp_world))


def test_a_server_that_stops_answering_is_given_up_on_and_retried_later(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    wf = smtp_world.workflow
    patient = wf.settings.model_copy(update={"smtp_timeout": 0.5})
    hung, fine = notify(smtp_world, title="Hung"), notify(smtp_world, title="Fine")
    handler.script[LI] = ["stall"]  # the first message's RCPT never gets an answer in time
    started = time.monotonic()
    first = asyncio.run(Delivery(wf.db, patient, owner="test", connections=1).run_pass(lambda: NOW))
    assert time.monotonic() - started < STALL_SECONDS / 2  # it did not wait for the server
    assert (first.sent, first.retrying, first.failed) == (1, 1, 0)
    retried = [row for row in outbox(smtp_world) if row.status is OutboxStatus.QUEUED]
    assert [(row.attempts, row.next_attempt_at) for row in retried] == [
        (1, NOW + timedelta(minutes=1))
    ]
    assert retried[0].last_error is not None
    assert re.search("no answer|timed out", retried[0].last_error, re.IGNORECASE)
    # The hung connection was dropped: the other message went out on a fresh one.
    assert [m["X-Cap-Finding"] for m in handler.messages_to(LI)] == [fine]

    second = deliver(smtp_world, NOW + timedelta(minutes=1))
    assert second.sent == 1
    assert sorted(m["X-Cap-Finding"] for m in handler.messages_to(LI)) == sorted([hung, fine])


def test_a_message_that_cannot_be_built_fails_alone(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    # An address with a non-ASCII local part, stored before addresses were checked for it:
    # without SMTPUTF8 no server can be given it.
    bjorn = add_contact(smtp_world, "björn@nordic-supply.example", Language.SV)
    notify(smtp_world)
    report = deliver(smtp_world, NOW)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    rows = {row.recipient: row for row in outbox(smtp_world)}
    assert rows[LI].status is OutboxStatus.SENT and len(handler.messages_to(LI)) == 1
    assert rows[bjorn].status is OutboxStatus.FAILED
    error = rows[bjorn].last_error
    assert error is not None
    assert error.startswith("the message cannot be built: UnicodeEncodeError")
    assert deliver(smtp_world, NOW + timedelta(days=1)).claimed == 0  # not tried again


def test_a_mail_folder_that_cannot_be_written_retries_later(world: World, tmp_path: Path) -> None:
    wf = world.workflow
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the mail folder should be")
    settings = wf.settings.model_copy(update={"mail_dir": blocked})
    notify(world)
    report = asyncio.run(Delivery(wf.db, settings).run_pass(lambda: NOW))
    assert (report.sent, report.retrying) == (0, 1)
    [row] = outbox(world)
    assert row.status is OutboxStatus.QUEUED and row.attempts == 1
    assert row.last_error is not None and row.last_error.startswith(f"cannot write {blocked}")
    later = asyncio.run(Delivery(wf.db, wf.settings).run_pass(lambda: NOW + timedelta(minutes=1)))
    assert later.sent == 1 and len(list(wf.settings.mail_dir.glob("*.eml"))) == 1


def test_running_delivery_twice_sends_nothing_new(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    notify(smtp_world)
    assert deliver(smtp_world, NOW).sent == 1
    again = deliver(smtp_world, NOW + timedelta(hours=1))
    assert again.claimed == 0
    assert len(handler.received) == 1


def test_an_expired_lease_is_taken_over_and_sent_once(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    notify(smtp_world)
    wf = smtp_world.workflow
    crashed = Delivery(wf.db, wf.settings, owner="crashed-worker")
    assert len(crashed.claim(NOW, 10)) == 1  # claimed, then the worker died
    assert deliver(smtp_world, NOW + timedelta(seconds=10)).claimed == 0  # lease still held
    lease = timedelta(seconds=wf.settings.delivery_lease_seconds)
    assert deliver(smtp_world, NOW + lease + timedelta(seconds=1)).sent == 1
    assert len(handler.received) == 1
    assert not crashed.mark_sent(outbox(smtp_world)[0].id or 0, NOW)  # the dead worker lost it


def test_a_title_with_line_breaks_cannot_inject_headers(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    ref = smtp_world.finding()
    hostile = "Overtime\r\nBcc: attacker@evil.example\r\nX-Injected: yes"
    with smtp_world.workflow.db.write() as session:  # input validation refuses this; the mail
        session.execute(update(Finding).values(title=hostile))  # layer must hold on its own
    smtp_world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    deliver(smtp_world, NOW)
    [received] = handler.received
    assert received.recipients == [LI]
    message = received.message
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "\n" not in message["Subject"] and "Overtime" in message["Subject"]
    head = received.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\r\nX-Injected:" not in head


def test_html_in_a_description_is_escaped(smtp_world: World, server: tuple[Handler, int]) -> None:
    handler, _ = server
    ref = smtp_world.finding()
    with smtp_world.workflow.db.write() as session:
        session.execute(
            update(Finding).values(description='<script>alert("x")</script> & <b>bold</b>')
        )
    smtp_world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    deliver(smtp_world, NOW)
    [message] = handler.messages_to(LI)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&amp;" in html
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert '<script>alert("x")</script> & <b>bold</b>' in plain


def test_lines_that_begin_with_a_dot_arrive_intact(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    # SMTP ends a message at a line holding one dot and drops a leading dot unless the sender
    # doubled it; the description comes from people, so it may hold both.
    handler, _ = server
    lines = [".hidden behind a dot", ".", "..two dots", "end."]
    ref = smtp_world.finding()
    with smtp_world.workflow.db.write() as session:
        session.execute(update(Finding).values(description="\n".join(lines)))
    smtp_world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    assert deliver(smtp_world, NOW).sent == 1
    [message] = handler.messages_to(LI)
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "\n".join(lines) in plain.replace("\r\n", "\n")
    [row] = outbox(smtp_world)
    assert row.status is OutboxStatus.SENT


def test_without_an_smtp_host_mail_goes_to_a_folder(world: World, tmp_path: Path) -> None:
    wf = world.workflow
    assert not wf.settings.smtp_host
    ref = notify(world)
    first = asyncio.run(Delivery(wf.db, wf.settings).run_pass(lambda: NOW))
    assert first.sent == 1
    files = list(wf.settings.mail_dir.glob("*.eml"))
    assert len(files) == 1 and ref in files[0].name and "cap_requested" in files[0].name
    assert b"Message-ID:" in files[0].read_bytes()
    assert asyncio.run(Delivery(wf.db, wf.settings).run_pass(lambda: NOW)).claimed == 0
    assert len(list(wf.settings.mail_dir.glob("*.eml"))) == 1


def test_each_action_queues_what_it_should(world: World) -> None:
    wf = world.workflow
    ref = notify(world)
    at = NOW + timedelta(days=1)
    plan = {
        "root_cause": "Capacity",
        "actions": [{"description": "Cap hours", "owner": "Plant", "due": "2026-05-01"}],
    }
    wf.act(ref, ActionRequest(Action.SUBMIT_PLAN, LI, at), now=at, plan=PlanInput(**plan))
    wf.act(ref, ActionRequest(Action.REJECT_PLAN, ANNA, at, reason="Vague"), now=at)
    kinds = [(r.kind, r.recipient) for r in outbox(world)]
    assert kinds == [
        ("cap_requested", LI),
        ("plan_received", LI),
        ("plan_received", ANNA),
        ("plan_rejected", LI),
    ]
    view = wf.show_finding(ref, now=at)
    assert view.events[-1].data["notifications"]["queued"] == [
        {"kind": "plan_rejected", "to": LI, "role": "supplier"}
    ]
    rejected = outbox(world)[-1].text_body
    assert "Vague" in rejected


def test_an_escalation_without_decision_makers_says_so(world: World) -> None:
    wf = world.workflow
    ref = notify(world)
    escalated = wf.act(
        ref, ActionRequest(Action.ESCALATE, ANNA, NOW, reason="Ignored three reminders"), now=NOW
    )
    missing = escalated.event.data["notifications"]["not_sent"]
    assert {m["role"] for m in missing} == {"decision_makers", "sustainability_manager"}
    assert "CAP_DECISION_MAKERS" in {m["why"].split()[0] for m in missing}


def test_escalations_reach_the_configured_people(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "decision_makers": "cecilia@region.example, david@region.example",
            "sustainability_manager": "bo@region.example",
        }
    )
    world = make_world(Workflow(Database(configured.database_url), configured))
    ref = notify(world)
    world.workflow.act(ref, ActionRequest(Action.ESCALATE, ANNA, NOW, reason="r"), now=NOW)
    review = [
        (r.recipient, r.language) for r in outbox(world) if r.kind == "sanction_review_opened"
    ]
    assert review == [
        ("cecilia@region.example", "sv"),
        ("david@region.example", "sv"),
        ("bo@region.example", "sv"),
    ]
