"""The worker: APScheduler triggers the sweep, delivery and the digest on a timer.

The database holds all the truth (what is due, what was sent); the scheduler holds nothing
that matters, so any number of workers can run side by side on PostgreSQL and a restart loses
nothing. Jobs coalesce, run one instance at a time, and have no misfire limit: a late run is
never dropped. (A run that comes due while the previous pass of the same job is still going
is skipped: that pass takes everything due anyway.) Each pass logs one structured line and
writes a heartbeat row that ``cap worker --check`` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from cap.clock import utcnow
from cap.config import Settings
from cap.notify.delivery import Delivery
from cap.store.db import Database, unavailable_reason
from cap.store.models import Setting
from cap.workflow import Workflow, to_json

log = logging.getLogger("cap.worker")

HEARTBEAT_PREFIX = "worker:"


@dataclass
class Worker:
    """Runs the periodic jobs of one process. ``clock`` is the time the jobs see (the real
    clock, or a fast one for the demo)."""

    settings: Settings
    sweep_every: float = 300.0
    deliver_every: float = 10.0
    clock: Callable[[], datetime] = utcnow
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    digest_at: str = "07:00"

    def __post_init__(self) -> None:
        self.db = Database(self.settings.database_url)
        self.workflow = Workflow(db=self.db, settings=self.settings)
        # A pass that found work keeps polling until a whole interval (at most a minute, so
        # that idle SMTP connections are not held for long) passes without any: what this or
        # another worker's sweep queues meanwhile goes out at once.
        self.delivery = Delivery(
            self.db, self.settings, owner=self.owner, linger=min(self.deliver_every, 60.0)
        )
        self._stopping = threading.Event()
        self._scheduler: BaseScheduler | None = None
        self.passes: dict[str, int] = {"sweep": 0, "deliver": 0, "digest": 0}

    # -- jobs ----------------------------------------------------------------------------

    def sweep_job(self) -> None:
        if self._stopping.is_set():
            return
        with self._outage("sweep"):
            self._sweep()

    def _sweep(self) -> None:
        report = self.workflow.sweep(now=self.clock(), stop=self._stopping.is_set)
        self.passes["sweep"] += 1
        _line(
            "sweep",
            examined=report.examined,
            steps=report.steps,
            skipped=report.skipped,
            escalated=report.escalated,
            queued=report.queued,
            unreached=len(report.unreached),
            errors=len(report.errors),
            seconds=report.seconds,
        )
        for case in report.unreached:  # each names the setting to fix
            log.warning("%s", case)
        if report.skipped:
            log.info(
                "caught up: applied %d step(s), skipped %d older one(s) (see the audit trail)",
                report.steps,
                report.skipped,
            )
        counts = {"actions": len(report.actions), "unreached": len(report.unreached)}
        self.heartbeat("sweep", to_json(report) | counts)

    def deliver_job(self) -> None:
        if self._stopping.is_set():
            return
        with self._outage("deliver"):
            self._deliver()

    def _deliver(self) -> None:
        report = asyncio.run(self.delivery.run_pass(self.clock))
        self.passes["deliver"] += 1
        _line("deliver", **report.as_dict())
        self.heartbeat("deliver", report.as_dict())

    def digest_job(self) -> None:
        with self._outage("digest"):
            self._digest()

    def _digest(self) -> None:
        queued = self.workflow.queue_digests(now=self.clock())
        self.passes["digest"] += 1
        _line("digest", queued=len(queued))
        self.heartbeat("digest", {"queued": len(queued)})

    @contextlib.contextmanager
    def _outage(self, job: str) -> Iterator[None]:
        """A database that is down or unreachable fails the pass with one log line, not a
        traceback per pass; the next pass tries again, and nothing is lost (what a pass had
        claimed waits for its lease). No heartbeat is written, so ``--check`` reports it."""
        try:
            yield
        except OperationalError as exc:
            log.error("event=%s error=database-unavailable (%s); the next pass retries",
                      job, unavailable_reason(exc))  # fmt: skip

    def heartbeat(self, job: str, data: dict[str, Any]) -> None:
        """Record that this worker is alive and what its last pass did."""
        now = utcnow()
        value = json.dumps({"job": job, "at": now.isoformat(), "pid": os.getpid(), **data})
        with self.db.write() as session:
            row = session.get(Setting, HEARTBEAT_PREFIX + self.owner)
            if row is None:
                session.add(Setting(key=HEARTBEAT_PREFIX + self.owner, value=value, updated_at=now))
            else:
                row.value, row.updated_at = value, now

    # -- running ----------------------------------------------------------------------

    def scheduler(self, *, background: bool) -> BaseScheduler:
        """A scheduler with the three jobs; sweep and delivery run at once on start, so a
        worker started after downtime catches up in its first pass."""
        scheduler_class = BackgroundScheduler if background else BlockingScheduler
        scheduler = scheduler_class(
            timezone="UTC",
            executors={"default": ThreadPoolExecutor(max_workers=3)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        start = datetime.now(tz=scheduler.timezone)
        scheduler.add_job(
            self.sweep_job,
            "interval",
            seconds=self.sweep_every,
            # Workers started together would sweep in step; jitter spreads them over the interval.
            jitter=self.sweep_every / 4,
            id="sweep",
            next_run_time=start,
        )
        scheduler.add_job(
            self.deliver_job,
            "interval",
            seconds=self.deliver_every,
            id="deliver",
            next_run_time=start + timedelta(seconds=1),
        )
        hour, minute = (int(part) for part in self.digest_at.split(":"))
        scheduler.add_job(
            self.digest_job,
            "cron",
            hour=hour,
            minute=minute,
            timezone=self.settings.calendar.tz,
            id="digest",
        )
        self._scheduler = scheduler
        return scheduler

    def run(self) -> None:
        """Run until SIGTERM or SIGINT, then finish the message in flight and stop."""
        scheduler = self.scheduler(background=False)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        log.info(
            "worker %s started: sweep every %gs, delivery every %gs",
            self.owner,
            self.sweep_every,
            self.deliver_every,
        )
        scheduler.start()  # blocks until shutdown
        log.info("worker %s stopped", self.owner)

    def start_background(self) -> None:
        self.scheduler(background=True).start()

    def stop(self) -> None:
        """Stop taking work: the delivery in progress finishes its current message and hands
        the rest of its batch back; running jobs are waited for."""
        self._stopping.set()
        self.delivery.stopping = True
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: finishing the work in progress", signal.Signals(signum).name)
        # Shut down from another thread: the blocking scheduler's loop runs in this one.
        threading.Thread(target=self.stop, name="cap-shutdown").start()


def _line(event: str, **fields: Any) -> None:
    """One structured log line: ``event=sweep examined=3 steps=1 ...``."""
    log.info(" ".join([f"event={event}", *(f"{k}={v}" for k, v in fields.items())]))


@dataclass(frozen=True)
class Health:
    healthy: bool
    message: str
    workers: list[dict[str, Any]]


def check_health(db: Database, *, now: datetime, max_age: timedelta) -> Health:
    """Is some worker alive? The newest heartbeat must be younger than ``max_age``."""
    with db.read() as session:
        rows = session.execute(
            select(Setting).where(col(Setting.key).startswith(HEARTBEAT_PREFIX))
        ).scalars()
        workers = [
            {
                "worker": row.key.removeprefix(HEARTBEAT_PREFIX),
                "age_seconds": round((now - row.updated_at).total_seconds(), 1),
                **json.loads(row.value),
            }
            for row in rows
        ]
    if not workers:
        return Health(False, "no worker has ever run against this database", [])
    workers.sort(key=lambda w: w["age_seconds"])
    newest = workers[0]
    age = timedelta(seconds=newest["age_seconds"])
    if age > max_age:
        seconds, limit = int(age.total_seconds()), int(max_age.total_seconds())
        message = f"no heartbeat for {seconds}s (limit {limit}s); last from {newest['worker']}"
        return Health(False, message, workers)
    return Health(
        True,
        f"{newest['worker']} alive: last {newest['job']} {int(age.total_seconds())}s ago",
        workers,
    )


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("cap").setLevel(logging.NOTSET)  # the CLI silences it for other commands
    # APScheduler says "Running job ..." at INFO for every run: keep the log about our passes.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # "skipped: maximum number of running instances reached" is the design, not a problem.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    # transitions says "Finished processing state ... callbacks" at INFO on every state change:
    # the audit trail and our sweep lines already tell what changed.
    logging.getLogger("transitions").setLevel(logging.WARNING)
