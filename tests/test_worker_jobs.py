"""The worker's scheduled jobs, run in-process: each does its work and leaves a heartbeat."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.store.db import Database
from cap.store.models import OutboxMessage, OutboxStatus
from cap.worker import Worker, check_health, configure_logging
from cap.workflow import Workflow
from tests.conftest import ANNA, NOW, World, make_world


@pytest.fixture
def staffed(settings: Settings) -> World:
    configured = settings.model_copy(update={"decision_makers": "cecilia@region.example"})
    return make_world(Workflow(Database(configured.database_url), configured))


def notified(world: World, count: int) -> list[str]:
    refs = []
    for i in range(count):
        ref = world.finding(title=f"Finding {i}")
        world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
        refs.append(ref)
    return refs


def outbox(world: World) -> list[OutboxMessage]:
    with world.workflow.db.read() as session:
        return list(session.execute(select(OutboxMessage)).scalars())


@pytest.mark.slow  # waits for the scheduler's real timers
def test_every_scheduled_job_runs_once(staffed: World) -> None:
    notified(staffed, 2)
    moment = datetime(2026, 4, 9, 5, 0, tzinfo=UTC)  # both plans overdue since 7 April
    worker = Worker(staffed.workflow.settings, clock=lambda: moment, owner="test-worker")
    scheduler = worker.scheduler(background=True)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"sweep", "deliver", "digest"}
        for job in jobs.values():
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time is None  # a late run is never dropped
        for name in ("sweep", "deliver", "digest"):
            jobs[name].func()
    finally:
        scheduler.shutdown(wait=False)
    assert worker.passes == {"sweep": 1, "deliver": 1, "digest": 1}
    kinds = Counter(m.kind for m in outbox(staffed))
    assert kinds["plan_overdue"] == 4  # supplier and contract manager, two findings
    assert kinds["daily_digest"] == 1
    sent = [m for m in outbox(staffed) if m.status is OutboxStatus.SENT]
    assert len(sent) == 6  # two CAP requests and four notices, written as .eml files
    assert len(list(staffed.workflow.settings.mail_dir.glob("*.eml"))) == 6
    health = check_health(staffed.workflow.db, now=datetime.now(UTC), max_age=timedelta(60))
    assert health.healthy and health.workers[0]["worker"] == "test-worker"


def test_a_sixty_day_gap_is_caught_up_in_one_pass(
    staffed: World, caplog: pytest.LogCaptureFixture
) -> None:
    refs = notified(staffed, 3)
    back = NOW + timedelta(days=60)
    worker = Worker(staffed.workflow.settings, clock=lambda: back, owner="returning")
    with caplog.at_level(logging.INFO, logger="cap.worker"):
        worker.sweep_job()
    after = [m for m in outbox(staffed) if m.kind != "cap_requested"]
    per_recipient = Counter((m.finding_id, m.recipient) for m in after)
    assert len({m.finding_id for m in after}) == len(refs)
    assert max(per_recipient.values()) == 1  # no burst of stale reminders
    assert "caught up: applied 3 step(s)" in caplog.text
    worker.sweep_job()
    assert len([m for m in outbox(staffed) if m.kind != "cap_requested"]) == len(after)


def test_no_heartbeat_means_unhealthy(staffed: World) -> None:
    health = check_health(staffed.workflow.db, now=NOW, max_age=timedelta(minutes=5))
    assert not health.healthy and "no worker has ever run" in health.message
    worker = Worker(staffed.workflow.settings, owner="old")
    worker.heartbeat("sweep", {})
    later = datetime.now(UTC) + timedelta(minutes=10)
    stale = check_health(staffed.workflow.db, now=later, max_age=timedelta(minutes=5))
    assert not stale.healthy and "no heartbeat for" in stale.message


def test_the_worker_log_holds_its_passes_not_library_chatter(
    staffed: World, caplog: pytest.LogCaptureFixture
) -> None:
    notified(staffed, 1)
    worker = Worker(
        staffed.workflow.settings, clock=lambda: NOW + timedelta(days=70), owner="quiet"
    )
    names = ("cap", "apscheduler", "apscheduler.scheduler", "transitions")
    saved = {name: logging.getLogger(name).level for name in names}
    try:
        configure_logging()  # the levels `cap worker` and `cap serve` run with
        with caplog.at_level(logging.INFO):
            worker.sweep_job()  # escalates the finding: a state change in transitions
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    assert any(r.name == "cap.worker" and "escalated=1" in r.getMessage() for r in caplog.records)
    assert [r.name for r in caplog.records if not r.name.startswith("cap")] == []
