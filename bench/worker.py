"""End-to-end worker benchmark: from a due deadline to the message accepted by the SMTP server.

Run ``python bench/worker.py [--quick] [--workers 1,2,4]``. For N due findings (10,000;
``--quick`` 1,000) it runs 1, 2 and 4 ``cap worker`` processes (the real entry point,
``--sweep-every 5 --deliver-every 1``) against PostgreSQL (``CAP_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/cap_bench``; a schema of its own, recreated and
migrated for each run). It prints one table in which each figure stands beside what it is
compared with, measured in the same run, with the target and PASS/FAIL. It is a report, not a
test: the exit code is always 0.

Each run logs N open findings (nothing due) and starts the workers; once each has finished its
first sweep and delivery pass, one bulk UPDATE (the *release*) gives every finding a plan
deadline whose 7-day reminder (``R-plan-7d``, to the supplier's one contact) is due and whose
next step is days away: each owes exactly one message. A message's *delay* is its arrival at the
server minus its due moment (the release). Throughput: messages from the release to the last
arrival. Checks: every outbox row ``sent``, the server received exactly the outbox's N
Message-IDs with no duplicate, every worker exits 0 on SIGTERM.

Targets: throughput grows with workers (>= 1.1x the run with half as many) until the SMTP
server is the limit (>= 0.8x its capacity, measured in the same run: pre-built messages of the
same kind and size pushed by 4 aiosmtplib connections, no database). The p99 delay is within
one sweep interval, plus the time the server needs for N messages at its capacity (a burst of N
cannot arrive sooner however it is sent), plus a few seconds. Beside each delay, the *floor*:
the wait for the first sweep that saw the work plus the CPU seconds the workers, the SMTP
server and PostgreSQL spent on it divided by the CPUs; no schedule beats it on this machine.

The SMTP server is aiosmtpd in a child process that accepts every message and records its
arrival time and Message-ID. CPU times come from ``/proc``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import os
import re
import signal
import subprocess
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
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
from cap.domain.model import Area, DeadlineKind, Severity, State
from cap.notify.message import build_message, message_id_for
from cap.notify.render import Renderer
from cap.notify.samples import sample_context
from cap.store.db import Database
from cap.store.models import Finding, OutboxMessage, OutboxStatus
from cap.workflow import Workflow

from common import (
    BUYER,
    HOST,
    Row,
    ServerProcess,
    SharedInt,
    describe,
    error_row,
    info,
    log_findings,
    migrated,
    parser,
    percentile,
    postgres_url,
    prepare_postgres,
    print_report,
    progress,
    rate,
    ratio,
    run_report,
    safe_url,
    secs,
    serve_until_sigterm,
    verdict,
)

SENDER = "cap@region-stockholm.example"
BUYER_NAME = "Region Stockholm"
SCHEMA = "bench_worker"
STEP = "R-plan-7d"  # the one reminder each finding owes
KIND = "plan_reminder"  # its template

SWEEP_EVERY = 5.0
DELIVER_EVERY = 1.0
FEW_SECONDS = 3.0  # p99 delay <= sweep interval + N / SMTP capacity + this
GROWTH = 1.1  # throughput with 2k workers >= this x the run with k workers ...
AT_LIMIT = 0.8  # ... or >= this x the SMTP server's capacity
CAPACITY_CONNECTIONS = 4
CAPACITY_ROUNDS = 2  # one before the runs, the others after
#: The processes whose CPU time is the work of delivering the N messages.
WORK = ("workers", "smtp server", "postgres")


@dataclass(frozen=True)
class Sizes:
    findings: int
    capacity: int  # messages per capacity round


DEFAULT = Sizes(findings=10_000, capacity=5_000)
QUICK = Sizes(findings=1_000, capacity=1_000)

# -- the SMTP server (a separate process) ----------------------------------------------------

Arrival = tuple[float, str]  # time.time() at acceptance, Message-ID ("" when none)

_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class RecordingHandler:
    """Accept every message; record its arrival time and Message-ID, count it."""

    def __init__(self, count: SharedInt) -> None:
        self.count = count
        self.arrivals: list[Arrival] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = (envelope.original_content or b"").split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(head)
        message_id = found.group(1).decode("ascii", "replace") if found else ""
        self.arrivals.append((time.time(), message_id))
        self.count.value += 1
        return "250 2.0.0 OK"


def serve(port_conn: Connection, control: Connection, count: SharedInt) -> None:
    """The server process: aiosmtpd on :data:`HOST` until SIGTERM. On ``control``, ``"take"``
    answers with the arrivals recorded so far and forgets them."""
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
            control.recv()  # "take"
        except EOFError:  # the parent is gone
            loop.remove_reader(control.fileno())
            stop.set()
            return
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
        exitcode = super().stop()
        self._control.close()
        return exitcode


# -- CPU accounting (/proc) ------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_cpu(stat: str) -> float:
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def cpu_sample(groups: dict[str, Sequence[int | None]]) -> dict[str, float]:
    """CPU seconds so far: of each group of processes, of each ``postgres`` process on this
    machine (``pg <pid>``: backends come and go, so they are compared pid by pid), and the
    machine's ``busy`` and ``total`` (all CPUs); ``wall`` is ``time.time()``."""
    sample = {"wall": time.time()}
    for name, pids in groups.items():
        sample[name] = 0.0
        for pid in pids:
            with contextlib.suppress(OSError):  # not started, or gone
                sample[name] += _stat_cpu(Path(f"/proc/{pid}/stat").read_text())
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat[stat.find("(") + 1 : stat.rfind(")")] == "postgres":
            sample[f"pg {entry.name}"] = _stat_cpu(stat)
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    sample["total"] = sum(ticks) / _TICK
    sample["busy"] = sample["total"] - (ticks[3] + ticks[4]) / _TICK  # less idle and iowait
    return sample


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The CPU seconds spent between two samples (PostgreSQL's by the processes alive at the
    second), and ``other processes``: the rest of the machine's busy time."""
    spent = {key: value - before.get(key, 0.0) for key, value in after.items()}
    used = {name: spent[name] for name in ("workers", "smtp server", "bench")}
    used["postgres"] = sum(v for k, v in spent.items() if k.startswith("pg "))
    used["other processes"] = max(0.0, spent["busy"] - sum(used.values()))
    return used | {key: spent[key] for key in ("wall", "busy", "total")}


# -- the database and the workers ------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Deadlines for the release: ``STEP`` is due, nothing else is for days."""

    plan_due: date
    remediation_due: date
    step_due_at: datetime


def plan_deadlines(settings: Settings, now: datetime) -> Plan:
    """The plan deadline, by the engine's own arithmetic, that makes the 7-day reminder due at
    ``now`` and every other step of either ladder at least a day later."""
    rules = settings.rule_set
    today = settings.calendar.local_date(now)
    remediation_due = today + timedelta(days=150)

    def due_at(kind: DeadlineKind, deadline: date) -> dict[str, datetime]:
        return {
            rule.id: engine.step_due_at(rule, deadline, rules)
            for rule in rules.ladder(kind, Severity.MAJOR, Area.WORKING_HOURS)
        }

    remediation = list(due_at(DeadlineKind.REMEDIATION, remediation_due).values())
    for days in range(2, 30):
        plan_due = today + timedelta(days=days)
        plan = due_at(DeadlineKind.PLAN, plan_due)
        if STEP not in plan or plan[STEP] > now:
            continue
        others = [at for rule_id, at in plan.items() if rule_id != STEP] + remediation
        if min(others) > now + timedelta(days=1):
            return Plan(plan_due, remediation_due, plan[STEP])
    raise RuntimeError(f"no plan deadline makes {STEP} the only step due at {now.isoformat()}")


def release(db: Database, plan: Plan) -> float:
    """Make every finding due in one committed UPDATE; returns ``time.time()`` just before the
    COMMIT (the work may become visible to the workers from then on)."""
    notified_at = datetime.now(UTC) - timedelta(days=20)
    with db.engine.connect() as conn, conn.begin():
        conn.execute(
            update(Finding).values(
                state=State.AWAITING_PLAN,
                notified_at=notified_at,
                plan_due=plan.plan_due,
                remediation_due=plan.remediation_due,
                next_check_at=notified_at,
            )
        )
        return time.time()


def outbox_counts(db: Database) -> Counter[str]:
    with db.read() as session:
        query = select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
        return Counter({str(status): int(n) for status, n in session.execute(query).all()})


_FIELD = re.compile(r"(\w+)=(\S+)")


@dataclass
class WorkerLog:
    """What one worker's log says about its passes that did something."""

    steps: int = 0  # reminders its sweeps applied
    sent: int = 0  # messages its deliveries sent
    sweep_seconds: float = 0.0  # in sweeps that applied steps
    deliver_seconds: float = 0.0  # in deliveries that sent messages
    tracebacks: int = 0
    warnings: list[str] = field(default_factory=list)  # WARNING and ERROR lines

    @classmethod
    def read(cls, path: Path) -> WorkerLog:
        log = cls()
        for line in path.read_text(errors="replace").splitlines():
            log.tracebacks += "Traceback" in line
            if " WARNING " in line or " ERROR " in line:
                log.warnings.append(line.split(" ", 2)[-1])
            fields = dict(_FIELD.findall(line))
            if fields.get("event") == "sweep" and int(fields.get("steps", "0")):
                log.steps += int(fields["steps"])
                log.sweep_seconds += float(fields.get("seconds", "0"))
            elif fields.get("event") == "deliver" and int(fields.get("sent", "0")):
                log.sent += int(fields["sent"])
                log.deliver_seconds += float(fields.get("seconds", "0"))
        return log


def ready(log: Path) -> bool:
    """The worker finished its first sweep and its first delivery pass."""
    content = log.read_text(errors="replace") if log.exists() else ""
    return "event=sweep" in content and "event=deliver" in content


# -- one measurement -------------------------------------------------------------------------


@dataclass
class Run:
    workers: int
    findings: int
    released: float = math.nan  # time.time() of the due moment of every message
    arrivals: list[Arrival] = field(default_factory=list)
    all_queued: float = math.nan  # time.time() when the outbox first held N rows (polled)
    #: time.time() of the first and last sweep passes that queued a message (their ``now``).
    sweeps: tuple[float, float] = (math.nan, math.nan)
    codes: list[int | None] = field(default_factory=list)
    logs: list[WorkerLog] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    duplicates: int = 0
    error: str | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # release to last arrival

    @property
    def delays(self) -> list[float]:
        return sorted(at - self.released for at, _ in self.arrivals)

    @property
    def window(self) -> float:
        return max(at for at, _ in self.arrivals) - self.released if self.arrivals else math.nan

    @property
    def throughput(self) -> float:
        return len(self.arrivals) / self.window if self.arrivals and self.window > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.checks


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


def stop_workers(processes: Sequence[subprocess.Popen[bytes]], run: Run) -> None:
    """SIGTERM each worker still running, wait for it; record the exit codes (once)."""
    if run.codes:
        return
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            run.codes.append(process.wait(timeout=60))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            run.codes.append(None)
    if any(code != 0 for code in run.codes):
        run.checks.append(f"worker exit codes {run.codes} (expected 0 after SIGTERM)")


def run_workers(pg_url: str, server: SMTPServerProcess, k: int, n: int, tmp: Path) -> Run:
    """One measurement with ``k`` workers and ``n`` findings on a fresh schema."""
    run = Run(workers=k, findings=n)
    processes: list[subprocess.Popen[bytes]] = []
    logs = [tmp / f"k{k}-worker{i + 1}.log" for i in range(k)]
    try:
        with migrated(pg_url, SCHEMA) as db:
            settings = Settings(database_url=db.url, mail_from=SENDER, buyer_name=BUYER_NAME)
            workflow = Workflow(db=db, settings=settings)
            log_findings(workflow, n, datetime.now(UTC))
            progress(f"  {n:,} open findings logged; starting {k} worker(s)")
            env = {key: v for key, v in os.environ.items() if not key.startswith("CAP_")} | {
                "CAP_DATABASE_URL": db.url,
                "CAP_SMTP_HOST": HOST,
                "CAP_SMTP_PORT": str(server.port),
                "CAP_SMTP_TLS": "none",
                "CAP_MAIL_FROM": SENDER,
                "CAP_BUYER_NAME": BUYER_NAME,
            }
            command = [
                "cap",
                "worker",
                "--sweep-every",
                f"{SWEEP_EVERY:g}",
                "--deliver-every",
                f"{DELIVER_EVERY:g}",
            ]
            try:
                for log in logs:
                    with log.open("wb") as out:
                        processes.append(
                            subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
                        )
                measure(run, db, settings, server, processes, logs)
            finally:  # never leave a worker running on a schema about to be dropped
                stop_workers(processes, run)
    except Exception as exc:
        traceback.print_exc()
        run.error = describe(exc)
        stop_workers(processes, run)
        run.arrivals = run.arrivals or server.take()
        kept = Path(tempfile.mkdtemp(prefix="cap-bench-worker-logs-"))
        for log in logs:
            if log.exists():
                (kept / log.name).write_bytes(log.read_bytes())
        run.checks.append(f"worker logs kept in {kept}")
    run.logs = [WorkerLog.read(log) for log in logs if log.exists()]
    tracebacks = sum(log.tracebacks for log in run.logs)
    if tracebacks:
        run.checks.append(f"{tracebacks} traceback(s) in the worker logs")
    applied = sum(log.steps for log in run.logs)
    if applied not in (0, n):
        run.checks.append(f"worker logs report {applied:,} steps applied, expected {n:,}")
    return run


def measure(
    run: Run,
    db: Database,
    settings: Settings,
    server: SMTPServerProcess,
    processes: Sequence[subprocess.Popen[bytes]],
    logs: Sequence[Path],
) -> None:
    """With the workers started: wait until they are ready, release, measure, verify."""
    n = run.findings
    boot = time.perf_counter()
    wait_for(lambda: all(ready(log) for log in logs), 60, "the workers' first passes", processes)
    early = server.take()  # nothing is due yet: nothing may have arrived
    if early:
        run.checks.append(f"{len(early):,} message(s) arrived before the release")
    before = server.count
    plan = plan_deadlines(settings, datetime.now(UTC))
    groups: dict[str, Sequence[int | None]] = {
        "workers": [p.pid for p in processes],
        "smtp server": [server.pid],
        "bench": [os.getpid()],
    }
    cpu_before = cpu_sample(groups)
    # The due moment: the later of the step's due instant and the release.
    run.released = max(release(db, plan), plan.step_due_at.timestamp())
    progress(f"  ready after {time.perf_counter() - boot:.1f} s; released {n:,} findings")

    def arrived() -> bool:
        if math.isnan(run.all_queued) and sum(outbox_counts(db).values()) >= n:
            run.all_queued = time.time()
        return server.count - before >= n

    wait_for(arrived, 60 + n / 20, f"{n:,} messages at the SMTP server", processes)
    run.cpu = cpu_used(cpu_before, cpu_sample(groups))
    wait_for(
        lambda: outbox_counts(db)[OutboxStatus.SENT.value] >= n,
        30,
        "every outbox row to be marked sent",
        processes,
    )
    stop_workers(processes, run)
    run.arrivals = server.take()

    if outbox_counts(db) != Counter({OutboxStatus.SENT.value: n}):
        run.checks.append(f"outbox rows by status {dict(outbox_counts(db))}, not {n:,} sent")
    with db.read() as session:
        rows = session.execute(
            select(
                col(OutboxMessage.message_id),
                col(OutboxMessage.kind),
                col(OutboxMessage.created_at),
            )
        ).all()
    if rows:
        run.sweeps = (min(r[2] for r in rows).timestamp(), max(r[2] for r in rows).timestamp())
    if Counter(str(r[1]) for r in rows) != Counter({KIND: n}):
        run.checks.append(f"outbox rows by kind {Counter(str(r[1]) for r in rows)}, not {KIND}")
    received = Counter(message_id for _, message_id in run.arrivals)
    run.duplicates = sum(received.values()) - len(received)
    if run.duplicates:
        twice = [m for m, c in received.items() if c > 1]
        run.checks.append(
            f"{run.duplicates:,} duplicate deliveries ({len(twice):,} "
            f"Message-IDs more than once, e.g. {twice[0]})"
        )
    expected = {str(r[0]) for r in rows}
    if set(received) != expected or len(received) != n:
        run.checks.append(
            f"server received {len(received):,} distinct Message-IDs of {n:,}: "
            f"{len(expected - set(received)):,} missing, {len(set(received) - expected):,} unknown"
        )


# -- the limit: the SMTP server's own capacity -----------------------------------------------


def capacity_mails(count: int, round_: int) -> list[tuple[str, bytes]]:
    """``count`` distinct messages like the workers send: the plan reminder in English,
    rendered once with the shipped template, each with its own Message-ID."""
    context = sample_context(KIND, "en")
    rendered = Renderer().render(KIND, "en", context)
    person = context["recipient"]
    now = datetime.now(UTC)
    return [
        (
            person["email"],
            build_message(
                rendered=rendered,
                sender=SENDER,
                sender_name=BUYER_NAME,
                recipient=person["email"],
                recipient_name=person["name"],
                message_id=message_id_for(f"capacity/{round_}/{i}", SENDER),
                date=now,
                reply_to=BUYER,
                headers={"X-Cap-Kind": KIND, "X-Cap-Finding": f"NC-2026-{i + 1:05d}"},
            ),
        )
        for i in range(count)
    ]


async def push(mails: Sequence[tuple[str, bytes]], port: int) -> None:
    """Send ``mails`` over parallel connections, each taking the next."""
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

    await asyncio.gather(*(one() for _ in range(CAPACITY_CONNECTIONS)))


@dataclass
class Capacity:
    rates: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)  # server CPU s per wall s
    checks: list[str] = field(default_factory=list)
    size: int = 0  # bytes per message


def measure_capacity(server: SMTPServerProcess, count: int, round_: int, result: Capacity) -> None:
    """One round: ``count`` pre-built messages, from the first connection to the last
    acceptance (as the server recorded it)."""
    mails = capacity_mails(count, round_)
    result.size = len(mails[0][1])
    asyncio.run(push(capacity_mails(100, -round_), server.port))  # warm-up, not timed
    server.take()
    cpu_before = cpu_sample({"smtp server": [server.pid]})["smtp server"]
    started = time.time()
    asyncio.run(push(mails, server.port))
    arrivals = server.take()
    elapsed = max((at for at, _ in arrivals), default=time.time()) - started
    ids = Counter(message_id for _, message_id in arrivals)
    if len(ids) != count or sum(ids.values()) != count:
        result.checks.append(
            f"round {round_}: {sum(ids.values()):,} messages, {len(ids):,} distinct, of {count:,}"
        )
    result.rates.append(count / elapsed)
    cpu = cpu_sample({"smtp server": [server.pid]})["smtp server"] - cpu_before
    result.server_cpu.append(cpu / elapsed)
    progress(
        f"  capacity round {round_}: {result.rates[-1]:,.0f}/s "
        f"(server CPU {result.server_cpu[-1]:.0%} of one core)"
    )


# -- the report ------------------------------------------------------------------------------


def run_rows(run: Run, previous: Run | None, limit: float, number: int) -> list[Row]:
    label = f"{run.workers} worker{'s' if run.workers > 1 else ''}, {run.findings:,} findings"
    if run.error is not None:
        return [error_row(str(number), label, run.error)]
    tp = run.throughput
    if previous is None or previous.error is not None:
        compared, ratios = f"limit {rate(limit)}", ratio(tp, limit)
        target, result = "baseline", "info"
    else:
        compared = f"{previous.workers} worker(s) {rate(previous.throughput)}; limit {rate(limit)}"
        ratios = f"{ratio(tp, previous.throughput)}; {ratio(tp, limit)}"
        target = f">= {GROWTH:g}x or >= {AT_LIMIT:g}x limit"
        grows = tp >= GROWTH * previous.throughput
        result = verdict((grows or (limit > 0 and tp >= AT_LIMIT * limit)) and run.ok)
    p99 = percentile(run.delays, 99)
    target_delay = SWEEP_EVERY + run.findings / limit + FEW_SECONDS if limit > 0 else math.nan
    since = [secs(at - run.released) for at in (*run.sweeps, run.all_queued)]
    delays = run.delays or [math.nan]
    wait = max(0.0, run.sweeps[0] - run.released)
    work = sum(run.cpu.get(name, 0.0) for name in WORK) / (os.cpu_count() or 1)
    wall = run.cpu.get("wall", 0.0)
    per_worker = " / ".join(f"{log.steps:,}" for log in run.logs)
    sent = " / ".join(f"{log.sent:,}" for log in run.logs)
    sweep = " / ".join(rate(log.steps, log.sweep_seconds) for log in run.logs)
    deliver = " / ".join(rate(log.sent, log.deliver_seconds) for log in run.logs)
    warnings = sum(len(log.warnings) for log in run.logs)
    codes = ",".join("?" if c is None else str(c) for c in run.codes) or "n/a"
    rows: list[Row] = [
        (str(number), f"{label}: throughput, release to last arrival", rate(tp), compared,
         ratios, target, result),
        (str(number + 1), "  delay arrival - due moment: p99", secs(p99),
         f"sweep {SWEEP_EVERY:g} s + N/limit {secs(run.findings / limit) if limit else 'n/a'} "
         f"+ {FEW_SECONDS:g} s", ratio(p99, target_delay), f"<= {secs(target_delay)}",
         verdict(p99 <= target_delay and run.ok)),
        info("  first sweep; last; all N queued; after the release", " / ".join(since),
             f"arrivals: first {secs(delays[0])}, p50 {secs(percentile(delays, 50))}, "
             f"max {secs(delays[-1])}"),
        info("  steps applied; messages sent, per worker", f"{per_worker}; {sent}",
             f"sweep {sweep}; delivery {deliver} (busy passes)"),
    ]  # fmt: skip
    if wall > 0:
        rows += [
            info("  CPU cores used, release to last arrival",
                 ", ".join(f"{name} {run.cpu[name] / wall:.2f}" for name in
                           (*WORK, "bench", "other processes")),
                 f"machine {run.cpu['busy'] / run.cpu['total']:.0%} busy of {os.cpu_count()} CPUs"),
            info("  CPU per message",
                 ", ".join(f"{name} {run.cpu[name] / run.findings * 1e3:.2f} ms" for name in WORK)),
            info("  floor: sweep wait + this run's CPU work / CPUs",
                 f"{secs(wait)} + {secs(work)} = {secs(wait + work)}",
                 "no p99 below this on this machine, however the work is scheduled"),
        ]  # fmt: skip
    rows.append(
        (str(number + 2), "  checks: all sent, N distinct Message-IDs, no duplicate, exit 0",
         f"{len(run.arrivals):,} msgs, {run.duplicates} dup, exit {codes}",
         "; ".join(run.checks)[:90] or f"{warnings} warning(s) in the worker logs", "",
         "all hold", verdict(run.ok))
    )  # fmt: skip
    return rows


def main() -> int:
    arguments = parser(__doc__, "1,000 findings")
    arguments.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    args = arguments.parse_args()
    sizes = QUICK if args.quick else DEFAULT
    n = sizes.findings
    counts = [int(part) for part in args.workers.split(",")]
    pg_url = postgres_url()
    try:
        pg_version = prepare_postgres(pg_url)
    except Exception as exc:
        print(f"PostgreSQL not reachable at {safe_url(pg_url)}: {describe(exc)}")
        print("This benchmark needs PostgreSQL (several workers share one database).")
        return 0
    progress(f"{n:,} due findings per run; PostgreSQL {pg_version}, schema {SCHEMA}")
    server = SMTPServerProcess()
    capacity = Capacity()
    runs: list[Run] = []
    try:
        count = min(sizes.capacity, max(n, 500))
        progress(f"SMTP server capacity: {count:,} messages x {CAPACITY_ROUNDS}")
        measure_capacity(server, count, 1, capacity)
        with tempfile.TemporaryDirectory(prefix="cap-bench-worker-") as tmp:
            for k in counts:
                progress(f"run: {k} worker(s), {n:,} findings")
                runs.append(run_workers(pg_url, server, k, n, Path(tmp)))
                run = runs[-1]
                p99 = percentile(run.delays, 99)
                progress(f"  {rate(run.throughput)}, p99 delay {p99:.2f} s {'; '.join(run.checks)}")
        for round_ in range(2, CAPACITY_ROUNDS + 1):
            measure_capacity(server, count, round_, capacity)
    except Exception as exc:
        traceback.print_exc()
        capacity.checks.append(describe(exc))
    finally:
        server.stop()

    limit = max(capacity.rates, default=0.0)
    rows: list[Row] = [
        ("1", f"SMTP server capacity: {CAPACITY_CONNECTIONS} aiosmtplib connections, no database",
         rate(limit), f"best of {len(capacity.rates)} rounds "
         f"({'/'.join(f'{r:,.0f}' for r in capacity.rates)}/s)", "", "the limit",
         "info" if capacity.rates and not capacity.checks else "FAIL"),
        info("  server CPU while measuring it (of one core)",
             "/".join(f"{c:.0%}" for c in capacity.server_cpu)),
    ]  # fmt: skip
    for i, run in enumerate(runs):
        rows += run_rows(run, runs[i - 1] if i else None, limit, 2 + 3 * i)
    warnings = Counter(
        re.sub(r"\d+(\.\d+)?", "#", re.sub(r" \(trigger:[^)]*\)", "", w))[:200]
        for run in runs
        for log in run.logs
        for w in log.warnings
    )
    print_report(
        f"cap worker end to end: {len(counts)} runs, each N due findings owing one {STEP} "
        f"reminder, released at once; `cap worker --sweep-every {SWEEP_EVERY:g} --deliver-every "
        f"{DELIVER_EVERY:g}` x {args.workers} on PostgreSQL {pg_version}",
        [f"SQLAlchemy {sqlalchemy.__version__}", f"aiosmtplib {aiosmtplib.__version__}"],
        rows,
        [
            "delay = arrival at the SMTP server - due moment (the release commit; the step "
            "itself was due earlier); throughput = N / (last arrival - release). 'first sweep; "
            "last': the first and last sweep passes that queued a message began.",
            f"capacity: {capacity.size:,} B per message ({KIND}, en), the size the workers send, "
            "the server alone with the client in this process: with the workers and PostgreSQL "
            "sharing the CPUs, the server gets less.",
            *(f"CHECK FAILED, capacity: {check}" for check in capacity.checks),
            *(f"{c} x in the worker logs: {w}" for w, c in warnings.most_common(3)),
        ],
    )
    return 0


if __name__ == "__main__":
    run_report(main)
