"""Supplier links in emails (both databases): every email to a supplier carries its link, one
link per finding and address reused by later emails in the same transaction as the email;
a revoked or ending link is replaced in the next one; staff emails link to the desk's finding
page; previews and dry runs write no link; without CAP_SECRET_KEY the finding page is linked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlmodel import col

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.store.models import OutboxMessage, SupplierLink
from cap.workflow import Workflow
from cap.workflow.links import PLACEHOLDER
from tests.conftest import ANNA, LI, World, database_for, make_world

BASE = "https://cap.region.example"
NOTIFIED = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # plan due 7 April 2026
FIRST_REMINDER = datetime(2026, 3, 31, 7, 0, tzinfo=UTC)  # R-plan-7d
SECOND_REMINDER = datetime(2026, 4, 6, 7, 0, tzinfo=UTC)  # R-plan-1d
OVERDUE = datetime(2026, 4, 8, 7, 0, tzinfo=UTC)  # E-plan-1d, to the supplier and Anna
LINK = re.compile(re.escape(BASE) + r"/s/([A-Za-z0-9_.\-]+)")


@pytest.fixture
def signed(settings: Settings) -> World:
    configured = settings.model_copy(
        update={"secret_key": SecretStr("test-only-secret-key-of-forty-characters"),
                "base_url": BASE}
    )  # fmt: skip
    return make_world(Workflow(db=database_for(configured.database_url), settings=configured))


def notified(world: World) -> str:
    ref = world.finding(now=NOTIFIED)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOTIFIED), now=NOTIFIED)
    return ref


def emails(world: World) -> list[tuple[str, str, str]]:
    """(kind, recipient, text body) of every queued email, in order."""
    with world.workflow.db.read() as session:
        rows = session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id))).scalars()
        return [(r.kind, r.recipient, r.text_body) for r in rows]


def link_count(world: World) -> int:
    with world.workflow.db.read() as session:
        return int(session.execute(select(func.count()).select_from(SupplierLink)).scalar_one())


def tokens(body: str) -> list[str]:
    return LINK.findall(body)


def test_each_email_to_the_supplier_carries_the_same_working_link(signed: World) -> None:
    workflow = signed.workflow
    ref = notified(signed)
    [(kind, to, body)] = emails(signed)
    assert (kind, to) == ("cap_requested", LI)
    [token] = set(tokens(body))
    opened = workflow.open_link(token, now=NOTIFIED + timedelta(hours=1))
    assert (opened.finding_ref, opened.address, opened.uses) == (ref, LI, 1)
    assert opened.created_at == NOTIFIED
    workflow.sweep(now=FIRST_REMINDER)
    workflow.sweep(now=SECOND_REMINDER)
    workflow.sweep(now=SECOND_REMINDER)  # again: nothing twice
    sent = emails(signed)
    assert [k for k, _, _ in sent] == ["cap_requested", "plan_reminder", "plan_reminder"]
    assert {t for _, _, b in sent for t in tokens(b)} == {token}
    assert link_count(signed) == 1


def test_staff_emails_link_to_the_finding_page(signed: World) -> None:
    ref = notified(signed)
    signed.workflow.sweep(now=OVERDUE)
    overdue = [(to, body) for kind, to, body in emails(signed) if kind == "plan_overdue"]
    assert sorted(to for to, _ in overdue) == sorted([ANNA, LI])
    for to, body in overdue:
        if to == ANNA:
            assert f"{BASE}/findings/{ref}" in body and not tokens(body)
        else:
            assert tokens(body) and f"{BASE}/findings/" not in body


def test_a_revoked_link_is_replaced_in_the_next_email(signed: World) -> None:
    workflow = signed.workflow
    ref = notified(signed)
    [first] = set(tokens(emails(signed)[0][2]))
    workflow.revoke_links(ref, now=NOTIFIED + timedelta(days=1))
    workflow.sweep(now=FIRST_REMINDER)
    [second] = set(tokens(emails(signed)[-1][2]))
    assert second != first
    assert workflow.open_link(second, now=FIRST_REMINDER).finding_ref == ref
    assert link_count(signed) == 2


def test_a_link_near_its_end_is_renewed_in_the_next_email(signed: World) -> None:
    # Links last a week longer than the reminder comes after notifying: then it is renewed.
    short = signed.workflow.settings.model_copy(update={"supplier_link_days": 30})
    workflow = Workflow(db=signed.workflow.db, settings=short)
    world = World(workflow)
    notified(world)
    [first] = set(tokens(emails(world)[0][2]))
    workflow.sweep(now=FIRST_REMINDER)  # 28 days on: 2 days left, under a week
    [second] = set(tokens(emails(world)[-1][2]))
    assert second != first
    assert workflow.open_link(first, now=FIRST_REMINDER).uses == 1  # the old one still opens


def test_previews_and_dry_runs_write_no_link(signed: World) -> None:
    workflow = signed.workflow
    ref = signed.finding(now=NOTIFIED)
    preview = workflow.preview_email("cap_requested", "en", ref, now=NOTIFIED)
    assert f"{BASE}/s/{PLACEHOLDER}" in preview.text
    assert link_count(signed) == 0
    workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOTIFIED), now=NOTIFIED)
    [token] = set(tokens(emails(signed)[0][2]))
    shown = workflow.preview_email("plan_reminder", "en", ref, now=NOTIFIED + timedelta(days=1))
    assert tokens(shown.text) == [token]  # the link the supplier has
    assert workflow.sweep(now=FIRST_REMINDER, dry_run=True).queued == 1
    assert link_count(signed) == 1


def test_without_a_secret_key_the_finding_page_is_linked(world: World) -> None:
    assert world.workflow.settings.secret_key is None
    ref = notified(world)
    [(_, to, body)] = emails(world)
    assert to == LI and f"/findings/{ref}" in body
    assert link_count(world) == 0


def test_a_sweep_batch_gives_each_finding_its_own_new_link(signed: World) -> None:
    workflow = signed.workflow
    refs = [notified(signed) for _ in range(3)]
    workflow.revoke_links(refs[0], now=NOTIFIED)  # one of them needs a new link, the others not
    before = link_count(signed)
    workflow.sweep(now=FIRST_REMINDER)
    reminders = [body for kind, _, body in emails(signed) if kind == "plan_reminder"]
    assert len(reminders) == 3 and link_count(signed) == before + 1
    opened = {workflow.open_link(t, now=FIRST_REMINDER).finding_ref
              for body in reminders for t in tokens(body)}  # fmt: skip
    assert opened == set(refs)
    assert not any("cap-new-link-" in body for _, _, body in emails(signed))
