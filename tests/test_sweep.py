"""Sweeps against real databases: due steps queue their emails once, catch up, never stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlmodel import col

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.store.db import Database
from cap.store.models import Event, Finding, OutboxMessage
from cap.workflow import Workflow
from tests.conftest import ANNA, LI, World, make_world

STOCKHOLM_NOTIFY = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # plan due 7 April 2026
FIRST_REMINDER = datetime(2026, 3, 31, 7, 0, tzinfo=UTC)  # 09:00 CEST
PLAN_ESCALATION = datetime(2026, 5, 7, 7, 0, tzinfo=UTC)  # +30 days, 09:00 CEST


@pytest.fixture
def staffed(settings: Settings) -> World:
    configured = settings.model_copy(
        update={
            "decision_makers": "cecilia@region.example,david@region.example",
            "sustainability_manager": "bo@region.example",
        }
    )
    return make_world(Workflow(Database(configured.database_url), configured))


def notified(world: World, **kwargs: object) -> str:
    ref = world.finding(now=STOCKHOLM_NOTIFY, **kwargs)  # type: ignore[arg-type]
    request = ActionRequest(Action.NOTIFY, ANNA, STOCKHOLM_NOTIFY)
    world.workflow.act(ref, request, now=STOCKHOLM_NOTIFY)
    return ref


def mails(world: World) -> list[tuple[str, str]]:
    with world.workflow.db.read() as session:
        rows = session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id))).scalars()
        return [(r.kind, r.recipient) for r in rows]


def events(world: World, ref: str) -> list[tuple[str, str]]:
    view = world.workflow.show_finding(ref, now=PLAN_ESCALATION)
    return [(e.kind, e.data.get("rule", "")) for e in view.events]


def test_a_reminder_goes_out_when_due_and_only_once(staffed: World) -> None:
    ref = notified(staffed)
    wf = staffed.workflow
    assert wf.sweep(now=FIRST_REMINDER - timedelta(seconds=1)).examined == 0
    report = wf.sweep(now=FIRST_REMINDER)
    assert (report.examined, report.steps, report.queued) == (1, 1, 1)
    assert mails(staffed)[-1] == ("plan_reminder", LI)
    again = wf.sweep(now=FIRST_REMINDER)
    assert (again.examined, again.steps) == (0, 0)
    assert len(mails(staffed)) == 2  # the CAP request and one reminder
    assert ("reminder", "R-plan-7d") in events(staffed, ref)


def test_after_downtime_only_the_most_advanced_step_is_sent(staffed: World) -> None:
    ref = notified(staffed)
    report = staffed.workflow.sweep(now=PLAN_ESCALATION + timedelta(hours=3))
    assert (report.steps, report.skipped, report.escalated) == (1, 4, 1)
    sent = mails(staffed)[1:]
    assert sent == [
        ("sanction_review_opened", "cecilia@region.example"),
        ("sanction_review_opened", "david@region.example"),
    ]
    trail = events(staffed, ref)
    assert [r for k, r in trail if k == "step_skipped"] == [
        "R-plan-7d",
        "R-plan-1d",
        "E-plan-1d",
        "E-plan-14d",
    ]
    assert ("escalate", "E-plan-30d") in trail
    view = staffed.workflow.show_finding(ref, now=PLAN_ESCALATION)
    assert view.state == "sanction_review" and view.escalation_level == 3
    assert view.events[-1].actor == "cap"
    assert staffed.workflow.sweep(now=PLAN_ESCALATION + timedelta(days=90)).steps == 0


def test_each_step_of_the_ladder_reaches_its_recipients(staffed: World) -> None:
    notified(staffed)
    wf = staffed.workflow
    moments = [FIRST_REMINDER + timedelta(days=d) for d in range(0, 40)]
    for now in moments:
        wf.sweep(now=now)
    kinds = [k for k, _ in mails(staffed)]
    assert kinds == [
        "cap_requested",
        "plan_reminder",
        "plan_reminder",
        "plan_overdue",
        "plan_overdue",
        "formal_notice",
        "formal_notice",
        "formal_notice",
        "sanction_review_opened",
        "sanction_review_opened",
    ]


def test_a_dry_run_reports_and_writes_nothing(staffed: World) -> None:
    notified(staffed)
    wf = staffed.workflow
    before = mails(staffed)
    report = wf.sweep(now=PLAN_ESCALATION, dry_run=True)
    assert report.steps == 1 and report.actions[-1].rule == "E-plan-30d"
    assert mails(staffed) == before
    assert wf.sweep(now=PLAN_ESCALATION).steps == 1  # still due for the real sweep


def test_a_finding_that_breaks_is_pushed_back_and_the_others_go_on(staffed: World) -> None:
    broken = notified(staffed, title="Broken")
    fine = notified(staffed, title="Fine")
    with staffed.workflow.db.write() as session:
        session.execute(
            update(Finding)
            .where(col(Finding.ref) == broken)
            .values(ladder={"plan": {"due": "garbage"}})
        )
    report = staffed.workflow.sweep(now=FIRST_REMINDER)
    assert report.steps == 1 and len(report.errors) == 1 and broken in report.errors[0]
    with staffed.workflow.db.read() as session:
        pushed = session.execute(select(Finding).where(col(Finding.ref) == broken)).scalar_one()
    assert pushed.next_check_at == FIRST_REMINDER + timedelta(hours=1)
    assert [k for k, _ in mails(staffed)].count("plan_reminder") == 1
    assert ("reminder", "R-plan-7d") in events(staffed, fine)


def test_a_rules_change_reschedules_open_findings(staffed: World, tmp_path: object) -> None:
    from pathlib import Path

    from cap.config import default_rules_path

    ref = notified(staffed)
    wf = staffed.workflow
    wf.refresh_schedule(STOCKHOLM_NOTIFY)  # the digest of the current rules is recorded
    assert wf.refresh_schedule(STOCKHOLM_NOTIFY) == 0
    changed = Path(str(tmp_path)) / "rules.toml"
    changed.write_text(
        default_rules_path().read_text().replace('offset = "-7 days"', 'offset = "-10 days"', 1)
    )
    other = Workflow(wf.db, wf.settings.model_copy(update={"rules": changed}))
    assert other.refresh_schedule(STOCKHOLM_NOTIFY) == 1
    with wf.db.read() as session:
        row = session.execute(select(Finding).where(col(Finding.ref) == ref)).scalar_one()
    # 7 April - 10 days = 28 March, a Saturday: back to Friday 27 March, 09:00 CET.
    assert row.next_check_at == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert row.plan_due is not None and row.plan_due.isoformat() == "2026-04-07"  # deadlines stay


def test_the_sweep_reads_the_due_findings_through_the_index(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    with db.engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT * FROM finding WHERE next_check_at <= :now "
                "ORDER BY next_check_at, id LIMIT 200"
            ),
            {"now": "2026-01-01"},
        ).all()
    assert any("ix_finding_next_check_at" in str(row) for row in plan), plan


def test_closing_a_finding_stops_its_ladder(staffed: World) -> None:
    ref = notified(staffed)
    wf = staffed.workflow
    at = STOCKHOLM_NOTIFY + timedelta(days=1)
    wf.act(ref, ActionRequest(Action.WITHDRAW, ANNA, at, reason="duplicate"), now=at)
    with wf.db.read() as session:
        row = session.execute(select(Finding).where(col(Finding.ref) == ref)).scalar_one()
        count = session.execute(select(func.count()).select_from(Event)).scalar_one()
    assert row.next_check_at is None
    assert wf.sweep(now=PLAN_ESCALATION).examined == 0
    assert count == 3


def test_a_long_gap_sends_one_message_per_recipient(staffed: World) -> None:
    """Both the plan and the remediation ladders are long past: only the first escalation
    happens (it ends the ladders); nobody gets two emails about the finding."""
    ref = notified(staffed)
    report = staffed.workflow.sweep(now=STOCKHOLM_NOTIFY + timedelta(days=300))
    assert (report.steps, report.escalated) == (1, 1)
    recipients = [to for kind, to in mails(staffed) if kind != "cap_requested"]
    assert sorted(recipients) == ["cecilia@region.example", "david@region.example"]
    trail = events(staffed, ref)
    assert ("escalate", "E-plan-30d") in trail
    assert not any(rule.startswith(("R-remediation", "E-remediation")) for _, rule in trail)
