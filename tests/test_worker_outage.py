"""The worker rides out its database going away: one log line per failed pass, no traceback,
no crash, and the next pass after the database is back does the work."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url, select, text
from sqlmodel import col

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.store.db import Database
from cap.store.models import OutboxMessage, OutboxStatus
from cap.worker import Worker, check_health
from cap.workflow import Workflow
from tests.conftest import ANNA, NOW, empty_pg, make_world

JOBS = ("sweep", "deliver", "digest")


def run_every_job(worker: Worker) -> None:
    worker.sweep_job()
    worker.deliver_job()
    worker.digest_job()


def test_a_missing_database_costs_one_line_per_pass_until_it_is_back(
    sqlite_template: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "not-mounted-yet"
    settings = Settings(database_url=f"sqlite:///{home / 'cap.db'}", mail_dir=tmp_path / "mail")
    worker = Worker(settings, clock=lambda: NOW, owner="patient")
    with caplog.at_level(logging.INFO, logger="cap.worker"):
        run_every_job(worker)  # raises nothing: the scheduler would log a traceback per pass
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage().split()[0] for r in failed] == [f"event={job}" for job in JOBS]
    assert all("database-unavailable" in r.getMessage() for r in failed)
    assert all(r.exc_info is None for r in failed)
    assert worker.passes == {job: 0 for job in JOBS}

    home.mkdir()  # the volume is mounted again
    shutil.copy(sqlite_template, home / "cap.db")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="cap.worker"):
        run_every_job(worker)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert worker.passes == {job: 1 for job in JOBS}
    health = check_health(worker.db, now=datetime.now(UTC), max_age=timedelta(minutes=1))
    assert health.healthy and health.workers[0]["worker"] == "patient"


@pytest.mark.slow  # waits out a PostgreSQL restart
def test_a_restarted_postgresql_is_reconnected_to_without_a_failed_pass(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty_pg(pg_url)
    # A name of its own, so that only this worker's connections are cut below.
    url = make_url(pg_url).update_query_dict({"application_name": "cap-outage-test"})
    settings = Settings(
        database_url=url.render_as_string(hide_password=False), mail_dir=tmp_path / "mail"
    )
    world = make_world(Workflow(Database(settings.database_url), settings))
    ref = world.finding()
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    later = NOW + timedelta(days=40)  # the plan is overdue: the sweep has notices to queue
    worker = Worker(settings, clock=lambda: later, owner="survivor")
    worker.deliver_job()  # the CAP request goes out; the pool now holds open connections

    admin = Database(pg_url)
    with admin.engine.begin() as connection:  # what a PostgreSQL restart does to them
        cut = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'cap-outage-test'"
            )
        ).scalar_one()
    admin.engine.dispose()
    assert cut >= 1

    with caplog.at_level(logging.INFO, logger="cap.worker"):
        worker.sweep_job()
        worker.deliver_job()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    with world.workflow.db.read() as session:
        rows = session.execute(select(col(OutboxMessage.kind), col(OutboxMessage.status))).all()
    assert {kind for kind, _ in rows} > {"cap_requested"}  # the sweep queued its notices
    assert {status for _, status in rows} == {OutboxStatus.SENT}
    worker.db.engine.dispose()
    world.workflow.db.engine.dispose()
