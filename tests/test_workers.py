"""Several `cap worker` processes on one PostgreSQL database, crashes, shutdowns, downtime."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from cap.config import Settings
from cap.domain.inputs import FindingInput
from cap.domain.model import Area, Severity, Source, State
from cap.store.db import Database
from cap.store.models import Finding, OutboxMessage, OutboxStatus
from cap.workflow import Workflow
from tests.conftest import World, empty_pg, make_world
from tests.smtp_server import Handler, Received, smtp_server

pytestmark = pytest.mark.slow  # worker processes, kills and restarts


def _env(url: str, port: int, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAP_")},
        "CAP_DATABASE_URL": url,
        "CAP_SMTP_HOST": "127.0.0.1",
        "CAP_SMTP_PORT": str(port),
        "CAP_SMTP_TLS": "none",
        "CAP_MAIL_FROM": "cap@region.example",
        **extra,
    }


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["cap", "worker", "--sweep-every", "1", "--deliver-every", "0.5", *args],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _due_findings(world: World, count: int) -> list[str]:
    """``count`` findings awaiting a plan due in 3 days: each owes one reminder now."""
    wf = world.workflow
    now = datetime.now(UTC)
    refs = wf.log_findings(
        [world_finding_input(world, i) for i in range(count)], actor="anna@region.example", now=now
    ).refs
    today = wf.settings.calendar.local_date(now)
    with wf.db.write() as session:
        session.execute(
            update(Finding).values(
                state=State.AWAITING_PLAN,
                notified_at=now - timedelta(days=27),
                plan_due=today + timedelta(days=3),
                remediation_due=today + timedelta(days=150),
                next_check_at=now - timedelta(minutes=1),
            )
        )
    return list(refs)


def world_finding_input(world: World, i: int) -> FindingInput:
    return FindingInput(
        contract=world.contract,
        severity=Severity.MAJOR,
        area=Area.WORKING_HOURS,
        source=Source.MONITORING_REPORT,
        title=f"Excessive overtime, line {i}",
    )


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _outbox_counts(db: Database) -> Counter[OutboxStatus]:
    with db.read() as session:
        rows = session.execute(
            select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
        ).all()
    return Counter({status: n for status, n in rows})


@pytest.fixture
def pg_world(pg_url: str) -> Iterator[World]:
    empty_pg(pg_url)
    wf = Workflow(Database(pg_url), Settings(database_url=pg_url))
    yield make_world(wf)
    wf.db.engine.dispose()


def test_three_workers_deliver_every_notification_exactly_once(
    pg_world: World, tmp_path: Path
) -> None:
    refs = _due_findings(pg_world, 1500)
    db = pg_world.workflow.db
    with smtp_server() as (handler, port):
        # Small batches: the three claim from the same queue many times over.
        env = _env(db.url, port, CAP_DELIVERY_BATCH="50")
        workers = [_start(env, tmp_path / f"worker{i}.log") for i in range(3)]
        try:
            _wait_for(
                lambda: (
                    _outbox_counts(db)[OutboxStatus.SENT] == len(refs)
                    and len(handler.received) >= len(refs)
                ),
                timeout=240,
                what="1,500 reminders to be sent",
            )
        finally:
            for process in workers:
                process.send_signal(signal.SIGTERM)
            codes = [process.wait(timeout=60) for process in workers]
    assert codes == [0, 0, 0]
    ids = Counter(r.message["Message-ID"] for r in handler.received)
    assert len(ids) == len(refs) and set(ids.values()) == {1}, "a message went out twice"
    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(3)]
    assert all("event=sweep" in log and "Traceback" not in log for log in logs)


def test_a_worker_killed_mid_pass_loses_nothing(pg_world: World, tmp_path: Path) -> None:
    refs = _due_findings(pg_world, 400)
    db = pg_world.workflow.db
    slow = Handler()
    victim: list[subprocess.Popen[bytes]] = []

    def kill_at_fifty(_: Received) -> None:
        if len(slow.received) == 50 and victim:
            os.kill(victim[0].pid, signal.SIGKILL)

    slow.on_data = kill_at_fifty
    with smtp_server(slow) as (_, port):
        env = _env(db.url, port, CAP_DELIVERY_LEASE_SECONDS="2", CAP_DELIVERY_CONNECTIONS="4")
        victim.append(_start(env, tmp_path / "victim.log"))
        assert victim[0].wait(timeout=120) == -signal.SIGKILL
        stuck = _outbox_counts(db)[OutboxStatus.SENDING]
        assert stuck > 0, "the killed worker held claimed messages"
        survivor = _start(env, tmp_path / "survivor.log")
        try:
            _wait_for(
                lambda: _outbox_counts(db)[OutboxStatus.SENT] == len(refs),
                timeout=120,
                what="the survivor to take over the lease",
            )
        finally:
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(timeout=60)
    ids = Counter(r.message["Message-ID"] for r in slow.received)
    assert len(ids) == len(refs), "a message was lost"
    # A connection sends its next message only once the last is marked: at most one message
    # per connection (4) was sent and not yet marked when the worker died.
    assert max(ids.values()) <= 2 and sum(ids.values()) - len(ids) <= 4


def test_sigterm_during_delivery_leaves_nothing_sending(pg_world: World, tmp_path: Path) -> None:
    refs = _due_findings(pg_world, 60)
    db = pg_world.workflow.db

    def slowly(_: Received) -> None:
        time.sleep(0.1)

    handler = Handler(on_data=slowly)
    with smtp_server(handler) as (_, port):
        process = _start(_env(db.url, port), tmp_path / "worker.log")
        _wait_for(lambda: len(handler.received) >= 10, timeout=60, what="delivery to start")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    counts = _outbox_counts(db)
    assert counts[OutboxStatus.SENDING] == 0
    assert counts[OutboxStatus.SENT] == len(handler.received) < len(refs)
    assert counts[OutboxStatus.QUEUED] == len(refs) - len(handler.received)
    assert "received SIGTERM" in (tmp_path / "worker.log").read_text()
