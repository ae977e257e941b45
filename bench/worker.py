"""End-to-end worker benchmark: from a due deadline to the message accepted by the SMTP server.

Run ``python bench/worker.py [--findings N] [--quick]``. For N due findings (default 10,000;
``--quick`` 1,000) it runs 1, 2 and 4 ``cap worker`` processes (separate OS processes, the real
entry point, ``--sweep-every 5 --deliver-every 1``) against PostgreSQL
(``CAP_TEST_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/cap_bench``,
created when missing; a schema of its own, ``bench_worker``, dropped, recreated and migrated for
each run). It prints one table in which each figure stands beside what it is compared with,
measured in the same run, with the target and PASS/FAIL. It is a report, not a test: the exit
code is always 0.

Each run:

- N findings are logged (``Workflow.log_findings``, state ``open``: nothing due) and the
  workers are started; once every worker has finished its first sweep and delivery pass (start-up
  is not measured), one bulk UPDATE moves every finding to ``awaiting_plan`` with a plan deadline
  whose 7-day reminder (``R-plan-7d``, to the supplier's one contact) is already due and whose
  next step is days away: each finding owes exactly one message. The moment that UPDATE is
  committed is the *release*; a message's *due moment* is the later of its step's due instant
  and the release (here always the release), its *delay* the server's arrival time minus the
  due moment. The workers, started together, sweep in step; the release comes about a second
  after their first pass, so the first sweep that can see the work begins about 4 s later
  (shown in the table): close to the worst case of one whole sweep interval.
- throughput: messages accepted per second from the release to the last arrival.
- checks: every outbox row ``sent``, the server received exactly the outbox's N Message-IDs,
  no duplicates (reported when any), and every worker exits 0 on SIGTERM.

Targets (from the issue): p99 delay within one sweep interval plus a few seconds; throughput
growing with workers (>= 1.1x the run with half as many) until the SMTP server is the limit
(>= 0.8x its capacity). The limit is measured in the same run: pre-built messages of the same
kind and size pushed by 4 parallel ``aiosmtplib.SMTP`` connections from this process, no
database. Read literally, the delay target contradicts the throughput one for a burst of N
messages: a server that takes C messages a second needs N / C seconds for them however they
are sent (10,000 / ~1,000/s here: 10 s, not a few). So the delay target is the sweep interval,
plus the time the SMTP server needs to take the N messages at its measured capacity, plus
``FEW_SECONDS``: the messages wait for nothing but the sweep and the server.

Beside each delay, the *floor*: the wait until the first sweep that saw the work, plus the CPU
seconds the workers, the SMTP server and PostgreSQL spent on it divided by the CPUs. However the
work is scheduled, the last message cannot arrive sooner on this machine; when the floor is
above the target, only less CPU per message (or more CPUs) can meet it.

The SMTP server is aiosmtpd in a separate process on 127.0.0.1 that accepts every message and
records its Message-ID and arrival time (``time.time()``), sent back to this process at the end
of each measurement through a pipe. CPU time of the workers, the SMTP server and PostgreSQL, and
the machine's CPU use, are read from ``/proc`` to show which part is the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiosmtplib
import sqlalchemy
from sqlalchemy import func, select, update
from sqlmodel import col

from cap.config import Settings
from cap.domain import engine
from cap.domain.inputs import ContractInput, FindingInput, SupplierInput
from cap.domain.model import Area, DeadlineKind, Language, Severity, Source, State
from cap.notify.message import build_message, message_id_for
from cap.notify.render import Renderer
from cap.notify.samples import sample_context
from cap.store.db import Database
from cap.store.models import Finding, OutboxMessage, OutboxStatus
from cap.workflow import Workflow

from common import (
    HOST,
    ServerProcess,
    SharedInt,
    describe,
    format_table,
    postgres_url,
    prepare_postgres,
    progress,
    reset_schema,
    safe_url,
    schema_url,
    serve_until_sigterm,
    verdict,
)

# -- the scenario ----------------------------------------------------------------------------

SENDER = "cap@region-stockholm.example"
BUYER_NAME = "Region Stockholm"
ACTOR = "anna.manager@region-stockholm.example"
SUPPLIER_CONTACT = "li.wei@nordic-supply.example"
CONTRACT = "RS-2019-ICT-01"
ORG_NUMBER = "556000-1234"
SCHEMA = "bench_worker"
STEP = "R-plan-7d"  # the one reminder each finding owes
KIND = "plan_reminder"  # its template

SWEEP_EVERY = 5.0
DELIVER_EVERY = 1.0
FEW_SECONDS = 3.0  # p99 delay <= sweep interval + N / SMTP capacity + this (see above)
GROWTH = 1.1  # throughput with 2k workers >= this x the run with k workers ...
AT_LIMIT = 0.8  # ... or >= this x the SMTP server's capacity
CAPACITY_CONNECTIONS = 4
WORKER_COUNTS = (1, 2, 4)


@dataclass(frozen=True)
class Sizes:
    findings: int
    capacity: int  # messages per capacity round
    capacity_rounds: int
    #: The whole run should end within this many seconds; N is reduced (with a note) when the
    #: runs done so far say it would not.
    budget: float


DEFAULT = Sizes(findings=10_000, capacity=5_000, capacity_rounds=2, budget=225.0)
QUICK = Sizes(findings=1_000, capacity=1_000, capacity_rounds=2, budget=57.0)


# -- the SMTP server (a separate process) ----------------------------------------------------


Arrival = tuple[float, str]  # time.time() at acceptance, Message-ID ("" when none)

_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


def message_id_of(data: bytes) -> str:
    head = data.split(b"\r\n\r\n", 1)[0]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace") if found else ""


class RecordingHandler:
    """Accept every message; record its arrival time and Message-ID, count it."""

    def __init__(self, count: SharedInt) -> None:
        self.count = count
        self.arrivals: list[Arrival] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrivals.append((time.time(), message_id_of(envelope.original_content or b"")))
        self.count.value += 1
        return "250 2.0.0 OK"


def serve(port_conn: Connection, control: Connection, count: SharedInt) -> None:
    """The server process: aiosmtpd on 127.0.0.1 (port sent on ``port_conn``) until SIGTERM.
    On ``control``, ``"take"`` answers with the arrivals recorded so far and forgets them."""
    logging.getLogger("mail.log").disabled = True  # no per-connection logging work
    asyncio.run(_serve(port_conn, control, count))


async def _serve(port_conn: Connection, control: Connection, count: SharedInt) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    handler = RecordingHandler(count)
    # An explicit hostname: aiosmtpd would otherwise call socket.getfqdn() per connection.
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.bench.example", ident="bench"), HOST, 0
    )
    stop = asyncio.Event()

    def on_control() -> None:
        try:
            request = control.recv()
        except EOFError:  # the parent is gone
            loop.remove_reader(control.fileno())
            stop.set()
            return
        if request == "take":
            arrivals, handler.arrivals = handler.arrivals, []
            control.send(arrivals)

    loop.add_reader(control.fileno(), on_control)
    await serve_until_sigterm(server, port_conn, stop)


class SMTPServerProcess(ServerProcess):
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._count: SharedInt = ctx.Value("q", 0, lock=False)
        parent, child = ctx.Pipe(duplex=False)
        self._control, control_child = ctx.Pipe(duplex=True)
        process = ctx.Process(target=serve, args=(child, control_child, self._count), daemon=True)
        super().__init__(process, parent, child, control_child)
        self.take()  # the banner check sent no message, but start from an empty record

    @property
    def count(self) -> int:
        """Messages accepted since the server started."""
        return self._count.value

    def take(self) -> list[Arrival]:
        """The arrivals recorded since the last ``take``."""
        self._control.send("take")
        if not self._control.poll(30):
            raise RuntimeError("the SMTP server did not hand over its arrivals within 30 s")
        arrivals: list[Arrival] = self._control.recv()
        return arrivals

    def stop(self) -> int | None:
        """The server stopped (see :meth:`ServerProcess.stop`), then the control pipe closed."""
        exitcode = super().stop()
        self._control.close()
        return exitcode


# -- CPU accounting (/proc) ------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of one process so far (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of each process named ``postgres`` on this machine (the local server), by
    pid: backends come and go, so a difference is taken pid by pid (:func:`cpu_since`)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat[stat.find("(") + 1 : stat.rfind(")")] == "postgres":
            fields = stat.rpartition(")")[2].split()
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICK
    return found


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two samples by the processes alive at the second (those that
    exited in between are not counted)."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    ticks = [int(v) for v in first[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / _TICK, sum(ticks) / _TICK


# -- the database ----------------------------------------------------------------------------


@contextmanager
def fresh_database(url: str) -> Iterator[Database]:
    """The schema :data:`SCHEMA` dropped, recreated and migrated; dropped again afterwards."""
    reset_schema(url, SCHEMA, create=True)
    db = Database(schema_url(url, SCHEMA))
    db.upgrade()
    try:
        yield db
    finally:
        db.engine.dispose()
        reset_schema(url, SCHEMA, create=False)


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, mail_from=SENDER, buyer_name=BUYER_NAME)


def log_findings(workflow: Workflow, n: int, now: datetime) -> list[str]:
    """A supplier (one contact, English), a contract, and ``n`` open findings (nothing due)."""
    workflow.add_supplier(
        SupplierInput(
            name="Nordic IT Supply AB",
            org_number=ORG_NUMBER,
            country="SE",
            email=SUPPLIER_CONTACT,
            contact_name="Li Wei",
            language=Language.EN,
        ),
        now=now,
    )
    workflow.add_contract(
        ContractInput(
            reference=CONTRACT,
            supplier=ORG_NUMBER,
            category="Personal computers",
            manager=ACTOR,
            start=date(2019, 5, 1),
        ),
        now=now,
    )
    rows = [
        FindingInput(
            contract=CONTRACT,
            severity=Severity.MAJOR,
            area=Area.WORKING_HOURS,
            source=Source.MONITORING_REPORT,
            title=f"Excessive overtime, line {i + 1}",
            description="Workers report 80-hour weeks in peak season.",
            site="Final assembly, Dongguan",
            site_country="CN",
        )
        for i in range(n)
    ]
    return workflow.log_findings(rows, actor=ACTOR, now=now).refs


@dataclass(frozen=True)
class Plan:
    """Deadlines for the release: ``step`` (R-plan-7d) is due, nothing else is for days."""

    plan_due: date
    remediation_due: date
    step_due_at: datetime  # the instant R-plan-7d fell due
    next_due_at: datetime  # the earliest other step of either ladder


def plan_deadlines(settings: Settings, now: datetime) -> Plan:
    """Choose the plan deadline with the engine's own arithmetic: the 7-day reminder must be
    due at ``now`` and every other step (the 1-day reminder after rolling back off closed
    days, the remediation ladder) at least a day later."""
    rules = settings.rule_set
    today = settings.calendar.local_date(now)
    remediation_due = today + timedelta(days=150)

    def due_at(kind: DeadlineKind, deadline: date) -> dict[str, datetime]:
        return {
            rule.id: engine.step_due_at(rule, deadline, rules)
            for rule in rules.ladder(kind, Severity.MAJOR, Area.WORKING_HOURS)
        }

    remediation = due_at(DeadlineKind.REMEDIATION, remediation_due)
    for days in range(2, 30):
        plan_due = today + timedelta(days=days)
        plan = due_at(DeadlineKind.PLAN, plan_due)
        if STEP not in plan or plan[STEP] > now:
            continue
        others = [at for rule_id, at in plan.items() if rule_id != STEP] + list(
            remediation.values()
        )
        if min(others) > now + timedelta(days=1):
            return Plan(plan_due, remediation_due, plan[STEP], min(others))
    raise RuntimeError(f"no plan deadline makes {STEP} the only step due at {now.isoformat()}")


def release(db: Database, plan: Plan, notified_at: datetime) -> float:
    """Make every finding due in one committed UPDATE; returns ``time.time()`` just before the
    COMMIT (the work may become visible to the workers from then on)."""
    with db.engine.connect() as conn:
        with conn.begin():
            conn.execute(
                update(Finding).values(
                    state=State.AWAITING_PLAN,
                    notified_at=notified_at,
                    plan_due=plan.plan_due,
                    remediation_due=plan.remediation_due,
                    next_check_at=notified_at,
                )
            )
            released = time.time()
        return released


def outbox_counts(db: Database) -> Counter[str]:
    with db.read() as session:
        rows = session.execute(
            select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
        ).all()
    return Counter({str(status): int(n) for status, n in rows})


def outbox_message_ids(db: Database) -> tuple[list[str], Counter[str]]:
    """Every outbox row's Message-ID, and the rows by kind."""
    with db.read() as session:
        rows = session.execute(select(col(OutboxMessage.message_id), col(OutboxMessage.kind))).all()
    return [str(r[0]) for r in rows], Counter(str(r[1]) for r in rows)


# -- the workers -----------------------------------------------------------------------------


def worker_env(url: str, port: int) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAP_")},
        "CAP_DATABASE_URL": url,
        "CAP_SMTP_HOST": HOST,
        "CAP_SMTP_PORT": str(port),
        "CAP_SMTP_TLS": "none",
        "CAP_MAIL_FROM": SENDER,
        "CAP_BUYER_NAME": BUYER_NAME,
    }


def worker_command() -> list[str]:
    return [
        "cap",
        "worker",
        "--sweep-every",
        f"{SWEEP_EVERY:g}",
        "--deliver-every",
        f"{DELIVER_EVERY:g}",
    ]


_FIELD = re.compile(r"(\w+)=(\S+)")


@dataclass
class WorkerLog:
    """What one worker's log says: its passes that did something."""

    steps: int = 0  # reminders the worker's sweeps applied
    sent: int = 0  # messages its deliveries sent
    sweep_seconds: float = 0.0  # in sweeps that applied steps
    deliver_seconds: float = 0.0  # in deliveries that sent messages
    tracebacks: int = 0
    warnings: list[str] = field(default_factory=list)  # WARNING and ERROR lines, as logged

    @classmethod
    def read(cls, path: Path) -> WorkerLog:
        result = cls()
        for line in path.read_text(errors="replace").splitlines():
            if "Traceback" in line:
                result.tracebacks += 1
            if " WARNING " in line or " ERROR " in line:
                result.warnings.append(line.split(" ", 2)[-1])
            if "event=" not in line:
                continue
            fields = dict(_FIELD.findall(line))
            if fields.get("event") == "sweep" and int(fields.get("steps", "0")):
                result.steps += int(fields["steps"])
                result.sweep_seconds += float(fields.get("seconds", "0"))
            elif fields.get("event") == "deliver" and int(fields.get("sent", "0")):
                result.sent += int(fields["sent"])
                result.deliver_seconds += float(fields.get("seconds", "0"))
        return result


def ready(log: Path) -> bool:
    """The worker finished its first sweep and its first delivery pass."""
    try:
        content = log.read_text(errors="replace")
    except OSError:
        return False
    return "event=sweep" in content and "event=deliver" in content


# -- one measurement -------------------------------------------------------------------------


@dataclass
class Run:
    workers: int
    findings: int
    released: float = 0.0  # time.time() of the release (the due moment of every message)
    step_due_at: datetime | None = None
    arrivals: list[Arrival] = field(default_factory=list)
    all_queued: float | None = None  # time.time() when the outbox first held N rows (polled)
    #: The ``now`` of the first and last sweep passes that queued a message (outbox
    #: ``created_at``: when the pass began), as time.time().
    sweeps: tuple[float, float] | None = None
    codes: list[int | None] = field(default_factory=list)
    logs: list[WorkerLog] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # problems found by the verification
    duplicates: int = 0
    error: str | None = None
    seconds: float = 0.0  # the whole run, setup included
    setup: float = 0.0  # schema, migration, findings
    startup: float = 0.0  # workers started until all finished their first passes
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds, release to last arrival
    machine_busy: float = 0.0  # fraction of all CPUs busy, release to last arrival
    cpu_wall: float = 0.0  # the wall-clock seconds the CPU figures cover

    @property
    def delays(self) -> list[float]:
        return sorted(at - self.released for at, _ in self.arrivals)

    @property
    def last(self) -> float:
        return max(at for at, _ in self.arrivals) if self.arrivals else math.nan

    @property
    def window(self) -> float:
        return self.last - self.released

    @property
    def throughput(self) -> float:
        return len(self.arrivals) / self.window if self.arrivals and self.window > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.checks


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def run_workers(
    pg_url: str, server: SMTPServerProcess, k: int, n: int, tmp: Path, timeout: float
) -> Run:
    """One measurement with ``k`` workers and ``n`` findings on a fresh schema."""
    run = Run(workers=k, findings=n)
    started = time.perf_counter()
    processes: list[subprocess.Popen[bytes]] = []
    logs = [tmp / f"k{k}-worker{i + 1}.log" for i in range(k)]
    try:
        with fresh_database(pg_url) as db:
            settings = settings_for(db.url)
            workflow = Workflow(db=db, settings=settings)
            now = datetime.now(UTC)
            refs = log_findings(workflow, n, now)
            if len(refs) != n:
                raise RuntimeError(f"logged {len(refs)} findings, expected {n}")
            run.setup = time.perf_counter() - started
            progress(f"  {n:,} open findings logged ({run.setup:.1f} s); starting {k} worker(s)")

            env = worker_env(db.url, server.port)
            boot = time.perf_counter()
            try:
                for log in logs:
                    with log.open("wb") as out:
                        processes.append(
                            subprocess.Popen(
                                worker_command(), env=env, stdout=out, stderr=subprocess.STDOUT
                            )
                        )
                measure_workers(run, db, settings, server, processes, logs, n, boot, timeout)
            finally:  # never leave a worker running on a schema about to be dropped
                stop_workers(processes, run)
    except Exception as exc:
        traceback.print_exc()
        run.error = describe(exc)
        stop_workers(processes, run)
        run.arrivals = run.arrivals or server.take()
    finally:
        if not run.logs:
            run.logs = [WorkerLog.read(log) for log in logs if log.exists()]
    run.seconds = time.perf_counter() - started
    return run


def measure_workers(
    run: Run,
    db: Database,
    settings: Settings,
    server: SMTPServerProcess,
    processes: Sequence[subprocess.Popen[bytes]],
    logs: Sequence[Path],
    n: int,
    boot: float,
    timeout: float,
) -> None:
    """With the workers started: wait until they are ready, release, measure, verify."""
    k = run.workers
    wait_for(
        lambda: all(ready(log) for log in logs),
        60,
        "every worker's first sweep and delivery",
        processes,
    )
    run.startup = time.perf_counter() - boot
    early = server.take()  # nothing is due yet: nothing may have arrived
    if early:
        run.checks.append(f"{len(early):,} message(s) arrived before the release")
    before = server.count

    plan = plan_deadlines(settings, datetime.now(UTC))
    run.step_due_at = plan.step_due_at
    cpu_before = CpuSample.take(processes, server)
    notified_at = datetime.now(UTC) - timedelta(days=20)
    run.released = release(db, plan, notified_at)
    # The due moment: the later of the step's due instant and the release.
    run.released = max(run.released, plan.step_due_at.timestamp())
    progress(
        f"  {k} worker(s) ready after {run.startup:.1f} s; released {n:,} findings "
        f"({STEP} due since {plan.step_due_at:%Y-%m-%d %H:%M} UTC)"
    )

    def arrived() -> bool:
        if run.all_queued is None and sum(outbox_counts(db).values()) >= n:
            run.all_queued = time.time()
        return server.count - before >= n

    wait_for(arrived, timeout, f"{n:,} messages at the SMTP server", processes)
    cpu_after = CpuSample.take(processes, server)
    wait_for(
        lambda: outbox_counts(db)[OutboxStatus.SENT.value] >= n,
        30,
        "every outbox row to be marked sent",
        processes,
    )
    stop_workers(processes, run)
    run.arrivals = server.take()
    run.logs = [WorkerLog.read(log) for log in logs]
    verify(run, db, n)
    cpu_before.until(cpu_after, run)


@dataclass(frozen=True)
class CpuSample:
    wall: float
    workers: float
    server: float
    postgres: dict[int, float]
    bench: float
    busy: float  # the machine, all CPUs
    total: float

    @classmethod
    def take(
        cls, processes: Sequence[subprocess.Popen[bytes]], server: SMTPServerProcess
    ) -> CpuSample:
        busy, total = machine_cpu()
        return cls(
            wall=time.time(),
            workers=sum(process_cpu(p.pid) for p in processes),
            server=process_cpu(server.pid),
            postgres=postgres_cpu(),
            bench=process_cpu(os.getpid()),
            busy=busy,
            total=total,
        )

    def until(self, after: CpuSample, run: Run) -> None:
        """Record in ``run`` the CPU used from this sample to ``after``."""
        run.cpu = {
            "workers": after.workers - self.workers,
            "smtp server": after.server - self.server,
            "postgres": cpu_since(self.postgres, after.postgres),
            "bench": after.bench - self.bench,
        }
        busy = after.busy - self.busy
        # Everything else on the machine (other people's jobs included).
        run.cpu["other processes"] = max(0.0, busy - sum(run.cpu.values()))
        run.cpu_wall = after.wall - self.wall
        machine = after.total - self.total
        run.machine_busy = busy / machine if machine > 0 else math.nan


def stop_workers(processes: Sequence[subprocess.Popen[bytes]], run: Run) -> None:
    """SIGTERM each worker still running, wait for it; record the exit codes."""
    if run.codes:
        return
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=60))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            codes.append(None)
    run.codes = codes
    if any(code != 0 for code in codes):
        run.checks.append(f"worker exit codes {codes} (expected 0 after SIGTERM)")


def verify(run: Run, db: Database, n: int) -> None:
    counts = outbox_counts(db)
    if counts != Counter({OutboxStatus.SENT.value: n}):
        run.checks.append(f"outbox rows by status {dict(counts)}, expected {n:,} sent")
    expected, kinds = outbox_message_ids(db)
    with db.read() as session:
        first, last = session.execute(
            select(func.min(col(OutboxMessage.created_at)), func.max(col(OutboxMessage.created_at)))
        ).one()
    if first is not None and last is not None:
        run.sweeps = (first.timestamp(), last.timestamp())
    if kinds != Counter({KIND: n}):
        run.checks.append(f"outbox rows by kind {dict(kinds)}, expected {n:,} {KIND}")
    received = Counter(message_id for _, message_id in run.arrivals)
    run.duplicates = sum(received.values()) - len(received)
    if run.duplicates:
        twice = [m for m, c in received.items() if c > 1]
        run.checks.append(
            f"{run.duplicates:,} duplicate deliveries ({len(twice):,} Message-IDs more than "
            f"once, e.g. {twice[0]})"
        )
    if set(received) != set(expected):
        missing = len(set(expected) - set(received))
        unknown = len(set(received) - set(expected))
        run.checks.append(
            f"server Message-IDs differ from the outbox: {missing:,} missing, {unknown:,} unknown"
        )
    if len(received) != n:
        run.checks.append(f"server received {len(received):,} distinct Message-IDs of {n:,}")
    tracebacks = sum(log.tracebacks for log in run.logs)
    if tracebacks:
        run.checks.append(f"{tracebacks} traceback(s) in the worker logs")
    applied = sum(log.steps for log in run.logs) if run.logs else None
    if applied is not None and applied not in (0, n):
        run.checks.append(f"worker logs report {applied:,} steps applied, expected {n:,}")


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    processes: Sequence[subprocess.Popen[bytes]],
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        dead = [p.pid for p in processes if p.poll() is not None]
        if dead:
            raise RuntimeError(f"worker(s) {dead} exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


# -- the limit: the SMTP server's own capacity -----------------------------------------------


def build_capacity_mails(count: int, round_: int) -> list[tuple[str, bytes]]:
    """``count`` distinct messages like the workers send: the plan reminder in English,
    rendered once with the shipped template, each with its own Message-ID."""
    context = sample_context(KIND, "en")
    rendered = Renderer().render(KIND, "en", context)
    person = context["recipient"]
    date_ = datetime.now(UTC)
    mails = []
    for i in range(count):
        key = f"capacity/{round_}/{i}"
        data = build_message(
            rendered=rendered,
            sender=SENDER,
            sender_name=BUYER_NAME,
            recipient=person["email"],
            recipient_name=person["name"],
            message_id=message_id_for(key, SENDER),
            date=date_,
            reply_to=ACTOR,
            headers={"X-Cap-Kind": KIND, "X-Cap-Finding": f"NC-2026-{i + 1:05d}"},
        )
        mails.append((person["email"], data))
    return mails


async def push(mails: Sequence[tuple[str, bytes]], port: int, connections: int) -> None:
    """Send ``mails`` over ``connections`` parallel connections, each taking the next."""
    queue = list(reversed(mails))

    async def one() -> None:
        smtp = aiosmtplib.SMTP(hostname=HOST, port=port, start_tls=False, use_tls=False)
        await smtp.connect()
        try:
            while queue:
                recipient, data = queue.pop()
                errors, _ = await smtp.sendmail(SENDER, [recipient], data)
                if errors:
                    raise RuntimeError(f"refused: {errors}")
        finally:
            await smtp.quit()

    await asyncio.gather(*(one() for _ in range(connections)))


@dataclass
class Capacity:
    rates: list[float] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)  # server CPU s per wall s
    error: str | None = None
    size: int = 0  # bytes per message
    seconds: float = 0.0  # the last round, wall clock

    @property
    def best(self) -> float:
        return max(self.rates, default=0.0)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.rates) and not self.checks


def measure_capacity(server: SMTPServerProcess, count: int, round_: int, result: Capacity) -> None:
    """One round: ``count`` pre-built messages over 4 connections, timed from the first
    connection to the last acceptance (as the server recorded it)."""
    try:
        mails = build_capacity_mails(count, round_)
        result.size = len(mails[0][1])
        # Warm up (first connections, the client's code paths), not timed.
        asyncio.run(push(build_capacity_mails(100, -round_), server.port, CAPACITY_CONNECTIONS))
        server.take()
        cpu_before = process_cpu(server.pid)
        started = time.time()
        asyncio.run(push(mails, server.port, CAPACITY_CONNECTIONS))
        arrivals = server.take()
        ended = max((at for at, _ in arrivals), default=time.time())
        cpu = process_cpu(server.pid) - cpu_before
        ids = Counter(message_id for _, message_id in arrivals)
        if len(ids) != count or sum(ids.values()) != count:
            result.checks.append(
                f"round {round_}: server recorded {sum(ids.values()):,} messages, "
                f"{len(ids):,} distinct, of {count:,}"
            )
        result.seconds = time.time() - started
        result.rates.append(count / (ended - started))
        result.server_cpu.append(cpu / (ended - started))
        progress(
            f"  capacity round {round_}: {result.rates[-1]:,.0f}/s "
            f"(server CPU {result.server_cpu[-1]:.0%} of one core)"
        )
    except Exception as exc:
        traceback.print_exc()
        result.error = describe(exc)


# -- the report ------------------------------------------------------------------------------

HEADER = ("#", "measure", "cap", "compared with (same run)", "ratio", "target", "result")
NUMERIC_COLUMNS = {2, 4}  # right-aligned: cap, ratio


def rate(value: float) -> str:
    return f"{value:,.0f}/s" if value else "n/a"


def seconds(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f} s"


def info(measure: str, figure: str, compared: str = "") -> tuple[str, ...]:
    return ("i", measure, figure, compared, "", "", "info")


def report_rows(runs: Sequence[Run], capacity: Capacity) -> list[tuple[str, ...]]:
    limit = capacity.best
    cap_text = f"limit {rate(limit)}"
    rows: list[tuple[str, ...]] = []
    if capacity.error is not None:
        rows.append(("1", "SMTP server capacity", "ERROR", capacity.error[:60], "", "", "FAIL"))
    else:
        rounds = "/".join(f"{r:,.0f}" for r in capacity.rates)
        checks = "; ".join(capacity.checks)
        rows.append(
            (
                "1",
                f"SMTP server capacity: {CAPACITY_CONNECTIONS} aiosmtplib connections, no database",
                rate(limit),
                f"best of {len(capacity.rates)} rounds ({rounds}/s)",
                "",
                "the limit",
                "info" if capacity.ok else f"FAIL: {checks[:60]}",
            )
        )
        load = "/".join(f"{c:.0%}" for c in capacity.server_cpu)
        rows.append(info("  server CPU while measuring it (of one core)", load))
    previous: Run | None = None
    number = 2
    for run in runs:
        k = run.workers
        label = f"{k} worker{'s' if k > 1 else ''}, {run.findings:,} findings"
        if run.error is not None:
            rows.append((str(number), label, "ERROR", run.error[:70], "", "", "FAIL"))
            number += 1
            previous = None
            continue
        tp = run.throughput
        if previous is None:
            compared, ratio_text, target = cap_text, _ratio(tp, limit), "baseline"
            result = "info"
        else:
            compared = f"{previous.workers} worker(s) {rate(previous.throughput)}; {cap_text}"
            ratio_text = f"{_ratio(tp, previous.throughput)}; {_ratio(tp, limit)}"
            target = f">= {GROWTH:g}x or >= {AT_LIMIT:g}x limit"
            grows = tp >= GROWTH * previous.throughput
            at_limit = limit > 0 and tp >= AT_LIMIT * limit
            result = verdict((grows or at_limit) and run.ok)
        measure = f"{label}: throughput, release to last arrival"
        rows.append((str(number), measure, rate(tp), compared, ratio_text, target, result))
        delays = run.delays
        p99 = percentile(delays, 99)
        target_delay = delay_target(run.findings, limit)
        drain = f"N/limit {seconds(run.findings / limit)}" if limit > 0 else "N/limit unknown"
        rows.append(
            (
                str(number + 1),
                "  delay arrival - due moment: p99",
                seconds(p99),
                f"sweep {SWEEP_EVERY:g} s + {drain} + {FEW_SECONDS:g} s",
                _ratio(p99, target_delay),
                f"<= {seconds(target_delay)}",
                verdict(p99 <= target_delay and run.ok),
            )
        )
        if delays:
            spread = f"{seconds(percentile(delays, 50))}, {seconds(delays[-1])}"
            rows.append(info("  delay p50, max; first arrival", f"{spread}; {seconds(delays[0])}"))
        if run.sweeps is not None:
            first, last = (seconds(at - run.released) for at in run.sweeps)
            rows.append(info("  first, last sweep pass queueing began after", f"{first}, {last}"))
        if run.all_queued is not None:
            queued = seconds(run.all_queued - run.released)
            rows.append(info("  all N outbox rows queued after (polled)", queued))
        if run.logs:
            split = " / ".join(f"{log.steps:,}" for log in run.logs)
            sent = " / ".join(f"{log.sent:,}" for log in run.logs)
            rows.append(info("  steps applied; messages sent, per worker", f"{split}; {sent}"))
            sweep = " / ".join(_per_second(log.steps, log.sweep_seconds) for log in run.logs)
            deliver = " / ".join(_per_second(log.sent, log.deliver_seconds) for log in run.logs)
            rows.append(
                info(
                    "  sweep rate; delivery rate, per worker",
                    f"{sweep}; {deliver}",
                    "worker logs, busy passes (delivery fed by the sweep)",
                )
            )
        if run.cpu and run.cpu_wall > 0:
            parts = ", ".join(
                f"{name} {value / run.cpu_wall:.2f}" for name, value in run.cpu.items()
            )
            busy = f"machine {run.machine_busy:.0%} busy of {os.cpu_count()} CPUs"
            rows.append(info("  CPU cores used, release to last arrival", parts, busy))
            per_message = ", ".join(
                f"{name} {value / run.findings * 1e3:.2f} ms"
                for name, value in run.cpu.items()
                if name in WORK
            )
            rows.append(info("  CPU per message", per_message))
            floor = cpu_floor(run)
            if floor is not None:
                wait, work = floor
                rows.append(
                    info(
                        "  floor: sweep wait + this run's CPU work / CPUs",
                        f"{seconds(wait)} + {seconds(work)} = {seconds(wait + work)}",
                        "no p99 below this on this machine, however the work is scheduled",
                    )
                )
        checks = "; ".join(run.checks)
        warnings = sum(len(log.warnings) for log in run.logs)
        figure = f"{len(run.arrivals):,} msgs, {run.duplicates} dup, exit {_codes(run.codes)}"
        rows.append(
            (
                str(number + 2),
                "  checks: all sent, N distinct Message-IDs, no duplicate, exit 0",
                figure,
                checks[:90] or f"{warnings} warning(s) in the worker logs",
                "",
                "all hold",
                verdict(run.ok),
            )
        )
        number += 3
        previous = run
    return rows


#: The processes whose CPU time is the work of delivering the N messages.
WORK = ("workers", "smtp server", "postgres")


def delay_target(findings: int, capacity: float) -> float:
    """The p99 delay target: one sweep interval, the time the SMTP server needs to take
    ``findings`` messages at ``capacity`` a second, and a few seconds (NaN without a capacity:
    nothing to compare with, so FAIL)."""
    if capacity <= 0:
        return math.nan
    return SWEEP_EVERY + findings / capacity + FEW_SECONDS


def cpu_floor(run: Run) -> tuple[float, float] | None:
    """(wait, work): the seconds from the release until the first sweep that saw it, and the
    CPU seconds the workers, the SMTP server and PostgreSQL spent divided by the CPUs: even
    with every CPU busy all the time, the last message cannot arrive sooner than their sum."""
    if not run.cpu or run.sweeps is None:
        return None
    wait = max(0.0, run.sweeps[0] - run.released)
    work = sum(run.cpu.get(name, 0.0) for name in WORK) / (os.cpu_count() or 1)
    return wait, work


def _per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if count and seconds > 0 else "-"


def observations(runs: Sequence[Run], capacity: Capacity) -> list[str]:
    """What limited each run, in words, from the figures above."""
    lines = []
    for run in runs:
        if run.error is not None or not run.arrivals:
            continue
        k = f"{run.workers} worker{'s' if run.workers > 1 else ''}"
        if run.all_queued is not None and run.sweeps is not None:
            wait = max(0.0, run.sweeps[0] - run.released)
            queued = run.all_queued - run.released
            sweeping = queued - wait
            lines.append(
                f"{k}: {wait:.1f} s until a sweep began, {sweeping:.1f} s until the outbox held "
                f"all {run.findings:,} rows ({_per_second(run.findings, sweeping)} in all), "
                f"the last message {run.window - queued:.1f} s after that: "
                + (
                    "the sweep is the slow stage"
                    if sweeping > run.window - queued
                    else "delivery lags"
                )
            )
        floor = cpu_floor(run)
        if floor is not None and run.throughput >= 0.9 * run.findings / sum(floor):
            allowed = run.findings / sum(floor)
            lines.append(
                f"{k}: {rate(run.throughput)} is {run.throughput / allowed:.0%} of the "
                f"{rate(allowed)} the CPUs allow at this CPU per message (N / floor): the limit "
                "reached is the machine's CPUs, shared with the SMTP server and PostgreSQL"
            )
        target = delay_target(run.findings, capacity.best)
        if floor is not None and sum(floor) > target:
            wait, work = floor
            lines.append(
                f"{k}: out of reach here: {wait:.1f} s waiting for a sweep plus {work:.1f} s of "
                f"CPU work spread over all {os.cpu_count()} CPUs is {wait + work:.1f} s, above the "
                f"{target:.1f} s target; only less CPU per message (or more CPUs) gets closer"
            )
        warnings = Counter(
            re.sub(r"\d+(\.\d+)?", "#", re.sub(r" \(trigger:[^)]*\)", "", w))[:200]
            for log in run.logs
            for w in log.warnings
        )
        for warning, count in warnings.most_common(3):
            lines.append(f"{k}: {count} x in the worker logs: {warning}")
        if run.cpu and run.cpu_wall > 0 and capacity.best:
            others = run.cpu.get("other processes", 0.0) / run.cpu_wall
            if run.machine_busy >= 0.9 and run.throughput < AT_LIMIT * capacity.best:
                lines.append(
                    f"{k}: the {os.cpu_count()} CPUs were {run.machine_busy:.0%} busy "
                    f"({others:.2f} cores used by processes outside this benchmark): the limit "
                    f"reached is the CPU, not the SMTP server "
                    f"({run.throughput / capacity.best:.2f}x its capacity)"
                )
    return lines


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if a and b and not (math.isnan(a) or math.isnan(b)) else "n/a"


def _codes(codes: Sequence[int | None]) -> str:
    return ",".join("?" if c is None else str(c) for c in codes) or "n/a"


def fit_findings(n: int, done: Sequence[Run], remaining: int, left: float) -> int:
    """N for the remaining runs: unchanged if the runs so far say it fits in ``left`` seconds,
    else scaled down (the runs' fixed costs kept)."""
    if not done or remaining <= 0:
        return n
    last = done[-1]  # the next runs (more workers) are assumed to be no faster
    fixed = last.startup + SWEEP_EVERY + 1.0  # start-up, waiting for a sweep, stopping
    per_finding = max(last.seconds - fixed, 0.5) / last.findings
    projected = remaining * (fixed + per_finding * n)
    if projected <= left:
        return n
    fitted = int((left / remaining - fixed) / per_finding)
    return max(100, min(n, fitted // 100 * 100))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--findings", type=int, help="due findings per run (default 10,000)")
    parser.add_argument("--quick", action="store_true", help="1,000 findings")
    parser.add_argument(
        "--workers",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        default=WORKER_COUNTS,
        help="worker counts to run, comma-separated (default 1,2,4)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else DEFAULT
    n = args.findings if args.findings and args.findings > 0 else sizes.findings
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    notes: list[str] = []

    pg_url = postgres_url()
    pg_safe = safe_url(pg_url)
    try:
        pg_version = prepare_postgres(pg_url)
    except Exception as exc:
        print(f"PostgreSQL not reachable at {pg_safe}: {exc}".splitlines()[0])
        print("This benchmark needs PostgreSQL (several workers share one database).")
        return 0

    progress(
        f"cap worker --sweep-every {SWEEP_EVERY:g} --deliver-every {DELIVER_EVERY:g}; "
        f"{n:,} due findings per run; PostgreSQL {pg_version} at {pg_safe}, schema {SCHEMA}"
    )
    server = SMTPServerProcess()
    progress(f"SMTP server up: pid {server.pid}, {HOST}:{server.port}")
    capacity = Capacity()
    runs: list[Run] = []
    try:
        capacity_n = min(sizes.capacity, max(n, 500))
        progress(f"SMTP server capacity: {capacity_n:,} messages x {sizes.capacity_rounds}")
        measure_capacity(server, capacity_n, 1, capacity)
        with tempfile.TemporaryDirectory(prefix="cap-bench-worker-") as tmp:
            for index, k in enumerate(args.workers):
                # Keep time for the last capacity round.
                left = sizes.budget - (time.perf_counter() - started) - capacity.seconds - 2.0
                fitted = fit_findings(n, runs, len(args.workers) - index, left)
                if fitted != n:
                    note = (
                        f"N reduced from {n:,} to {fitted:,} for the runs with >= {k} workers: "
                        f"the {runs[-1].workers}-worker run took {runs[-1].seconds:.0f} s and "
                        f"the {sizes.budget:.0f} s budget would be passed"
                    )
                    notes.append(note)
                    progress(note)
                    n = fitted
                progress(f"run: {k} worker(s), {n:,} findings")
                timeout = max(60.0, sizes.budget - (time.perf_counter() - started))
                run = run_workers(pg_url, server, k, n, Path(tmp), timeout)
                runs.append(run)
                checks = f"  CHECK: {'; '.join(run.checks)}" if run.checks else ""
                progress(
                    f"  {k} worker(s): {run.throughput:,.0f}/s, p99 delay "
                    f"{percentile(run.delays, 99):.2f} s, run {run.seconds:.1f} s"
                    f"{checks}{'  ERROR: ' + run.error if run.error else ''}"
                )
                if run.error is not None or any(log.tracebacks for log in run.logs):
                    kept = Path(tempfile.mkdtemp(prefix="cap-bench-worker-logs-"))
                    for log in Path(tmp).glob(f"k{k}-*.log"):
                        (kept / log.name).write_bytes(log.read_bytes())
                    notes.append(f"{k}-worker run: worker logs kept in {kept}")
        for round_ in range(2, sizes.capacity_rounds + 1):
            measure_capacity(server, capacity_n, round_, capacity)
    finally:
        server.stop()

    print()
    print(
        f"cap worker end to end: {len(args.workers)} runs, each N due findings owing one "
        f"{STEP} reminder, released at once; `cap worker --sweep-every {SWEEP_EVERY:g} "
        f"--deliver-every {DELIVER_EVERY:g}` x {', '.join(map(str, args.workers))} "
        f"on PostgreSQL {pg_version}"
    )
    print(
        "delay = arrival at the SMTP server - due moment (the release commit; the step itself "
        "was due earlier); throughput = N / (last arrival - release)"
    )
    print()
    print(format_table(HEADER, report_rows(runs, capacity), NUMERIC_COLUMNS))
    print()
    total = time.perf_counter() - started
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, SQLAlchemy {sqlalchemy.__version__}, aiosmtplib "
        f"{getattr(aiosmtplib, '__version__', '?')}; load average {load_start:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at end; {total:.0f} s in all"
    )
    print(
        f"capacity: {capacity.size:,} B per message ({KIND}, en), the size the workers send; "
        "it is the server alone with the client in this process, no database: with the workers, "
        "PostgreSQL and the server sharing the CPUs, the server gets less than that"
    )
    for line in observations(runs, capacity):
        print(f"observed: {line}")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
