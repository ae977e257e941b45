"""``cap mail preview KIND --finding REF`` shows what the reader gets: the email queued for
the finding, or else the one the rules would send, rendered as sending renders it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.errors import ActionRefused
from cap.store.db import Database
from cap.store.models import OutboxMessage
from cap.workflow import EmailPreview, Workflow
from tests.cli_runner import Cap, user_error
from tests.conftest import ANNA, LI, World, make_world

NOTIFIED = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # plan due 7 April 2026 (sv: 7 april 2026)
PLAN_ESCALATION = datetime(2026, 5, 7, 7, 0, tzinfo=UTC)  # E-plan-30d, 09:00 CEST
CECILIA = "cecilia@region.example"


def staffed(settings: Settings, **people: str) -> World:
    configured = settings.model_copy(update=people)
    return make_world(Workflow(Database(configured.database_url), configured))


def notified(world: World, at: datetime = NOTIFIED) -> str:
    ref = world.finding(now=at)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, at), now=at)
    return ref


def stored(world: World, kind: str) -> list[OutboxMessage]:
    with world.workflow.db.read() as session:
        return list(
            session.execute(
                select(OutboxMessage)
                .where(col(OutboxMessage.kind) == kind)
                .order_by(col(OutboxMessage.id))
            ).scalars()
        )


def as_sent(row: OutboxMessage) -> EmailPreview:
    return EmailPreview(
        row.subject, row.text_body, row.html_body, row.language, row.recipient_role,
        row.recipient, row.created_at,
    )  # fmt: skip


# -- an email already queued -------------------------------------------------------------------


def test_the_preview_of_a_queued_email_is_that_email(settings: Settings) -> None:
    world = staffed(settings)
    ref = notified(world)
    [row] = stored(world, "cap_requested")
    later = NOTIFIED + timedelta(days=300)  # a date computed from now would differ
    preview = world.workflow.preview_email("cap_requested", "en", ref, now=later)
    assert preview == as_sent(row)
    assert "7 April 2026" in preview.subject
    # Li reads English: asked for Swedish, the preview is still the email Li got.
    assert world.workflow.preview_email("cap_requested", "sv", ref, now=later) == as_sent(row)


def test_the_latest_queued_email_of_the_kind_is_shown(settings: Settings) -> None:
    world = staffed(settings)
    ref = notified(world)
    world.workflow.sweep(now=datetime(2026, 3, 31, 7, 0, tzinfo=UTC))  # R-plan-7d
    world.workflow.sweep(now=datetime(2026, 4, 2, 7, 0, tzinfo=UTC))  # R-plan-1d
    first, second = stored(world, "plan_reminder")
    preview = world.workflow.preview_email("plan_reminder", "en", ref, now=PLAN_ESCALATION)
    assert preview == as_sent(second) != as_sent(first)


def test_cap_mail_preview_prints_the_queued_email_and_to_whom(cap: Cap, world: World) -> None:
    ref = notified(world)
    [row] = stored(world, "cap_requested")
    local = row.created_at.astimezone(world.workflow.settings.calendar.tz)
    queued = local.strftime("%Y-%m-%d %H:%M %a")
    text = cap.ok("mail", "preview", "cap_requested", "--finding", ref, "--lang", "en")
    assert text == (
        f"(queued {queued} for supplier {LI})\nSubject: {row.subject}\n\n{row.text_body}\n"
    )
    html = cap.ok("mail", "preview", "cap_requested", "--finding", ref, "--lang", "sv", "--html")
    assert html == (
        f"(queued {queued} for supplier {LI}; in en, as sent: none in sv)\n"
        f"Subject: {row.subject}\n\n{row.html_body}\n"
    )


# -- an email not sent yet ---------------------------------------------------------------------


def test_a_sanction_review_email_not_sent_yet_is_the_one_the_decision_makers_will_get(
    settings: Settings,
) -> None:
    world = staffed(settings, decision_makers=f"{CECILIA},david@region.example")
    ref = notified(world)
    before = world.workflow.preview_email("sanction_review_opened", "sv", ref, now=NOTIFIED)
    assert (before.role, before.recipient, before.language) == ("decision_makers", CECILIA, "sv")
    assert before.queued_at is None
    assert before.text.startswith("Hej,\n")  # staff are greeted as staff, not as Li Wei
    assert "Li Wei" not in before.text
    assert "Status: sanktionsprövning" in before.text.splitlines()
    assert "(the reason given)" not in before.text
    assert "fatta beslut snarast" in before.text  # no invented decision date

    world.workflow.sweep(now=PLAN_ESCALATION)
    row = next(r for r in stored(world, "sanction_review_opened") if r.recipient == CECILIA)
    assert (before.subject, before.text, before.html) == (
        row.subject,
        row.text_body,
        row.html_body,
    )
    after = world.workflow.preview_email("sanction_review_opened", "sv", ref, now=PLAN_ESCALATION)
    assert after == as_sent(row)


def test_the_request_for_a_finding_not_yet_notified_is_the_one_notifying_sends(
    settings: Settings,
) -> None:
    world = staffed(settings)
    ref = world.finding(now=NOTIFIED)
    preview = world.workflow.preview_email("cap_requested", "en", ref, now=NOTIFIED)
    assert (preview.role, preview.recipient, preview.queued_at) == ("supplier", LI, None)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOTIFIED), now=NOTIFIED)
    [row] = stored(world, "cap_requested")
    assert (preview.subject, preview.text, preview.html) == (
        row.subject,
        row.text_body,
        row.html_body,
    )


def test_an_email_that_would_reach_nobody_says_what_to_set(settings: Settings) -> None:
    world = staffed(settings)
    ref = notified(world)
    with pytest.raises(ActionRefused) as refused:
        world.workflow.preview_email("sanction_review_opened", "sv", ref, now=NOTIFIED)
    assert str(refused.value) == (
        f"finding: a sanction_review_opened email for {ref} would reach nobody: "
        "CAP_DECISION_MAKERS is not set; CAP_SUSTAINABILITY_MANAGER is not set"
    )


def test_an_email_without_what_it_says_is_refused_in_one_line(cap: Cap, world: World) -> None:
    ref = notified(world)
    nothing_sends = cap.run("mail", "preview", "verification_reminder", "--finding", ref)
    line = user_error(nothing_sends, code=6)
    assert line.startswith(f"error: finding: no rule sends verification_reminder for {ref} ")
    no_decision = cap.run("mail", "preview", "decision_warning", "--finding", ref)
    line = user_error(no_decision, code=6)
    assert line.startswith(f"error: finding: {ref} (awaiting_plan) lacks what a decision_warning")
    shown = cap.ok("mail", "preview", "plan_reminder", "--finding", ref, "--lang", "en")
    assert shown.startswith(f"(not sent yet: rendered for supplier {LI})\nSubject: ")
