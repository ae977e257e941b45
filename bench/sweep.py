"""Sweep benchmark: the rules engine's sweep over a large database, beside APScheduler.

Run ``python bench/sweep.py [--quick]``. It prints one table in which every figure stands
beside the peer or limit it is compared with, measured in this run, with the target and
PASS/FAIL. It is a report, not a test: the exit code is always 0.

The database: a migrated SQLite file, one supplier and one contract added through ``Workflow``,
then N findings (1,000,000; ``--quick`` 100,000) written with raw ``sqlite3`` ``executemany``, M
of them (100,000; quick 10,000) open: ``awaiting_plan`` or ``remediating``, their deadlines,
ladder marks and ``next_check_at`` what ``perform`` and ``engine.next_check_at`` give for a
notification 1-150 days ago (every next check still to come); the others closed. The same on
PostgreSQL when reachable (``CAP_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/cap_bench``; a schema of its own), by ``COPY``.

1. A sweep with nothing due: median and p95 of ``Workflow.sweep(now=T)`` beside the sweep's two
   queries with the raw driver (the limit). Target: p95 under 10 ms.
2. A sweep with D due (10,000; quick 2,000): one bulk UPDATE makes D open findings owe exactly
   one reminder (``R-plan-7d`` to the supplier's contact), then one sweep; checked: D examined,
   queued, outbox rows and ``reminder`` events, nothing due after. Target: 2,000 findings a
   second. Beside it, the sweep's CPU stages called alone (``engine.evaluate``, rendering).
3. The peer a user would otherwise pick: APScheduler 3.x, a ``date`` job per reminder in a
   ``SQLAlchemyJobStore`` on SQLite with cap's pragmas. Scheduling M reminders beside cap's
   ``refresh_schedule`` after a rules change (which reschedules M findings); running D due jobs
   beside cap's sweep of D due findings.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import apscheduler
import sqlalchemy
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, create_engine, event, func, select, text, update
from sqlmodel import col

from cap.config import Settings, default_rules_path
from cap.domain import engine as rules_engine
from cap.domain.lifecycle import Action, ActionRequest, perform
from cap.domain.model import Area, Case, Severity, Source, State
from cap.domain.rules import Rules
from cap.notify.outbox import renderer_for
from cap.notify.samples import sample_context
from cap.store.db import Database
from cap.store.models import Event, Finding, OutboxMessage, Setting
from cap.workflow import RULES_DIGEST, Workflow, decode_ladder, encode_ladder

from common import (
    BUYER,
    SUPPLIER_EMAIL,
    Row,
    add_supplier_and_contract,
    describe,
    error_row,
    info,
    measured,
    migrated,
    ms,
    parser,
    percentile,
    postgres_url,
    print_report,
    probe_postgres,
    progress,
    run_report,
    safe_url,
    secs,
    verdict,
)

#: The instant every sweep runs at: a Tuesday, 09:30 in Stockholm (after the 09:00 send time).
T = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
PG_SCHEMA = "bench_sweep"
NOTHING_DUE_TARGET_S = 0.010
DUE_RATE_TARGET = 2_000.0  # findings a second, evaluated and queued
LOAD_CHUNK = 100_000  # rows per transaction when loading findings
MAKE_DUE_CHUNK = 5_000  # ids per UPDATE statement
KIND = "plan_reminder"  # the email of R-plan-7d


@dataclass(frozen=True)
class Sizes:
    findings: int
    open: int
    due: int
    idle_runs: int  # sweeps with nothing due, timed one by one
    peer_defaults: int  # add_job calls timed with SQLite's default pragmas (info)


DEFAULT = Sizes(findings=1_000_000, open=100_000, due=10_000, idle_runs=50, peer_defaults=1_000)
QUICK = Sizes(findings=100_000, open=10_000, due=2_000, idle_runs=30, peer_defaults=300)

# -- the findings ----------------------------------------------------------------------------

#: The finding table's columns written by the loader, in order (every NOT NULL column).
COLUMNS = (
    "ref", "supplier_id", "contract_id", "site", "site_country", "source", "area", "severity",
    "title", "description", "found_on", "state", "notified_at", "plan_due", "remediation_due",
    "review_due", "verification_due", "ladder", "escalation_level", "return_state",
    "termination_proposed_by", "deadline_version", "extensions", "next_check_at",
    "last_event_at", "created_at", "created_by", "version",
)  # fmt: skip

AREAS = (Area.WORKING_HOURS, Area.WAGES, Area.HEALTH_AND_SAFETY, Area.ANTI_CORRUPTION)


@dataclass(frozen=True)
class OpenTemplate:
    case: Case
    ladder: str  # JSON, as cap stores it
    next_check_at: datetime


def open_templates(rules: Rules) -> list[OpenTemplate]:
    """Open findings notified 1-150 days before T whose next check is still to come: awaiting
    a plan (notified up to 3 weeks ago) or remediating (plan submitted after 3 days and
    accepted after 5)."""
    templates = []
    for severity, days_ago in itertools.product((Severity.MAJOR, Severity.MINOR), range(1, 151)):
        notified = T - timedelta(days=days_ago, hours=1)
        case = Case(
            state=State.OPEN,
            severity=severity,
            area=AREAS[days_ago % len(AREAS)],
            found_on=rules.calendar.local_date(notified) - timedelta(days=14),
        )
        steps = [(Action.NOTIFY, BUYER, 0)]
        if days_ago > 21:
            steps += [(Action.SUBMIT_PLAN, SUPPLIER_EMAIL, 3), (Action.ACCEPT_PLAN, BUYER, 5)]
        for action, actor, after in steps:
            at = notified + timedelta(days=after)
            case = perform(
                case,
                ActionRequest(action, actor, at),
                now=at,
                calendar=rules.calendar,
                policy=rules,
            ).case
        case = replace(case, last_event_at=at)
        due = rules_engine.next_check_at(case, rules)
        if due is not None and due > T:
            templates.append(OpenTemplate(case, json.dumps(encode_ladder(case.ladder)), due))
    return templates


def finding_rows(
    n: int, m: int, templates: Sequence[OpenTemplate], ids: tuple[Any, Any], *, sqlite: bool
) -> Iterator[tuple[Any, ...]]:
    """``n`` findings, ``m`` of them open (spread evenly through the ids), in COLUMNS order.
    ``sqlite``: instants and dates as SQLAlchemy stores them there; else Python values."""

    def instant(value: datetime | None) -> Any:
        if value is None or not sqlite:
            return value
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def day(value: date | None) -> Any:
        return value.isoformat() if value is not None and sqlite else value

    created = instant(T - timedelta(days=400))
    every = max(n // max(m, 1), 1)
    opened = 0
    for i in range(1, n + 1):
        shared = (
            f"NC-2026-{i:07d}", *ids, "Final assembly, Dongguan", "CN",
            Source.MONITORING_REPORT.value,
        )  # fmt: skip
        if opened < m and i % every == 0:
            tpl = templates[opened % len(templates)]
            c = tpl.case
            opened += 1
            yield (
                *shared, c.area.value, c.severity.value, f"Excessive overtime, line {i}",
                "Workers report 80-hour weeks in peak season.", day(c.found_on), c.state.value,
                instant(c.notified_at), day(c.plan_due), day(c.remediation_due),
                day(c.review_due), day(c.verification_due), tpl.ladder, 0, None, None, 0, 0,
                instant(tpl.next_check_at), instant(c.last_event_at), created, BUYER, 3,
            )  # fmt: skip
        else:
            notified = T - timedelta(days=300 + i % 400)
            yield (
                *shared, AREAS[i % len(AREAS)].value,
                Severity.MINOR.value if i % 2 else Severity.MAJOR.value,
                f"Closed finding, line {i}", "Verified on site.",
                day((notified - timedelta(days=20)).date()), State.CLOSED.value,
                instant(notified), day((notified + timedelta(days=30)).date()),
                day((notified + timedelta(days=182)).date()), None, None, "{}", 0, None, None,
                0, 0, None, instant(notified + timedelta(days=200)), created, BUYER, 6,
            )  # fmt: skip


def load(db: Database, rows: Iterator[tuple[Any, ...]]) -> None:
    """SQLite: ``executemany``, LOAD_CHUNK rows a transaction. PostgreSQL: ``COPY``, then
    ANALYZE (as autovacuum would)."""
    raw = db.engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if db.dialect == "sqlite":
            marks = ", ".join("?" * len(COLUMNS))
            sql = f"INSERT INTO finding ({', '.join(COLUMNS)}) VALUES ({marks})"
            while batch := list(itertools.islice(rows, LOAD_CHUNK)):
                driver.execute("BEGIN IMMEDIATE")
                driver.executemany(sql, batch)
                driver.execute("COMMIT")
            return
        with driver.cursor() as cur:
            with cur.copy(f"COPY finding ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute("ANALYZE finding")
        driver.commit()
    finally:
        raw.close()


# -- cap's measurements ----------------------------------------------------------------------


def settings_for(url: str, tmp: Path, rules: Path | None = None) -> Settings:
    return Settings(
        database_url=url,
        rules=rules,
        mail_dir=tmp / "mail",
        mail_from="cap@region.example",
        secret_key="bench-sweep-not-a-secret-but-long-enough-4",
    )


def changed_rules(tmp: Path) -> Path:
    """The shipped rules with emails sent at 08:00 instead of 09:00: every open finding's next
    check moves by an hour (a rules change as an administrator makes one; nothing falls due)."""
    changed = (
        default_rules_path()
        .read_text(encoding="utf-8")
        .replace('send_at = "09:00"', 'send_at = "08:00"')
    )
    if changed.count('send_at = "08:00"') != 1:
        raise RuntimeError("could not derive the changed rules from rules/default.toml")
    path = tmp / "changed-rules.toml"
    path.write_text(changed, encoding="utf-8")
    return path


def count_rows(db: Database, query: Any) -> int:
    with db.read() as session:
        return int(session.execute(query).scalar_one())


def next_checks(db: Database) -> dict[int, datetime | None]:
    with db.read() as session:
        query = select(col(Finding.id), col(Finding.next_check_at))
        rows = session.execute(query.where(col(Finding.next_check_at).is_not(None))).all()
    return {int(i): at for i, at in rows}


def idle_limit(db: Database, runs: int) -> tuple[list[float], str]:
    """The nothing-due sweep's database work with the raw driver, a transaction each as the
    sweep has them: the rules digest read, the due query. Returns the timings and its plan."""
    sqlite = db.dialect == "sqlite"
    mark = "?" if sqlite else "%s"
    due = (
        f"SELECT * FROM finding WHERE next_check_at <= {mark} ORDER BY next_check_at, id "
        f"LIMIT 200{'' if sqlite else ' FOR UPDATE SKIP LOCKED'}"
    )
    digest = f"SELECT value FROM cap_setting WHERE key = {mark}"
    at = T.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else T
    raw = db.engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        cur = driver.cursor()
        explained = cur.execute(f"EXPLAIN{' QUERY PLAN' if sqlite else ''} {due}", (at,))
        plan = " / ".join(r[3] if sqlite else r[0].split("  (cost")[0].strip() for r in explained)
        driver.commit()
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            for begin, sql, value in (("DEFERRED", digest, RULES_DIGEST), ("IMMEDIATE", due, at)):
                if sqlite:
                    cur.execute(f"BEGIN {begin}")
                found = cur.execute(sql, (value,)).fetchall()
                driver.commit()
            timings.append(time.perf_counter() - started)
            if found:
                raise RuntimeError(f"raw driver: {len(found)} rows due, expected none")
    finally:
        raw.close()
    return timings, plan


def due_case(rules: Rules) -> tuple[Case, dict[str, Any]]:
    """A finding awaiting a plan due in 3 days, notified 27 days before T: ``R-plan-7d`` is
    due (once), ``R-plan-1d`` still to come; and its ladder as cap stores it."""
    today = rules.calendar.local_date(T)
    notified = T - timedelta(days=27)
    since = {"since": notified.isoformat(), "done_until": None}
    ladder = {
        "plan": {"due": (today + timedelta(days=3)).isoformat(), **since},
        "remediation": {"due": (today + timedelta(days=150)).isoformat(), **since},
    }
    case = Case(
        state=State.AWAITING_PLAN,
        severity=Severity.MAJOR,
        area=Area.WORKING_HOURS,
        notified_at=notified,
        plan_due=today + timedelta(days=3),
        remediation_due=today + timedelta(days=150),
        ladder=decode_ladder(ladder),
    )
    evaluation = rules_engine.evaluate(case, rules, T)  # the scenario's promise, checked
    if [s.id for s in evaluation.due] != ["R-plan-7d"] or evaluation.skipped:
        raise RuntimeError(f"due scenario: expected R-plan-7d alone, got {evaluation}")
    return case, ladder


def make_due(db: Database, rules: Rules, count: int) -> list[int]:
    """Bulk UPDATE the first ``count`` open findings to :func:`due_case`; returns their ids."""
    case, ladder = due_case(rules)
    with db.write() as session:
        query = select(col(Finding.id)).where(col(Finding.next_check_at) > T)
        ids = list(session.execute(query.order_by(col(Finding.id)).limit(count)).scalars())
        for start in range(0, len(ids), MAKE_DUE_CHUNK):
            session.execute(
                update(Finding)
                .where(col(Finding.id).in_(ids[start : start + MAKE_DUE_CHUNK]))
                .values(
                    state=case.state,
                    severity=case.severity,
                    notified_at=case.notified_at,
                    plan_due=case.plan_due,
                    remediation_due=case.remediation_due,
                    review_due=None,
                    verification_due=None,
                    ladder=ladder,
                    escalation_level=0,
                    next_check_at=T - timedelta(minutes=1),
                )
                .execution_options(synchronize_session=False)
            )
    return [int(i) for i in ids]


def stage_costs(settings: Settings, d: int) -> tuple[float, float]:
    """Seconds per finding of the sweep's two CPU stages, called alone through the public API:
    ``engine.evaluate`` of :func:`due_case`, and rendering its email (the shipped plan
    reminder with its sample context)."""
    rules = settings.rule_set
    case, _ = due_case(rules)
    renderer, context = renderer_for(settings.templates_dir), sample_context(KIND, "en")
    timings = []
    for stage in (
        lambda: rules_engine.evaluate(case, rules, T),
        lambda: renderer.render(KIND, "en", context),
    ):
        stage()  # warm-up
        started = time.perf_counter()
        for _ in range(d):
            stage()
        timings.append((time.perf_counter() - started) / d)
    return timings[0], timings[1]


@dataclass
class Outcome:
    """Cap on one database: its rows, and the figures the peer is compared with."""

    rows: list[Row]
    checks: list[str]
    change_s: float  # refresh_schedule after a rules change, the faster of two
    due_s: float  # the sweep of D due findings


def bench_cap(kind: str, sizes: Sizes, tmp: Path, pg_url: str) -> Outcome:
    n, m, d = sizes.findings, sizes.open, sizes.due
    sqlite = kind == "sqlite"
    name = "SQLite" if sqlite else "PostgreSQL"
    checks: list[str] = []
    url, schema = (f"sqlite:///{tmp / 'cap.db'}", None) if sqlite else (pg_url, PG_SCHEMA)
    with migrated(url, schema) as db:
        settings = settings_for(db.url, tmp)
        wf = Workflow(db, settings)
        rules = settings.rule_set
        add_supplier_and_contract(wf, T - timedelta(days=500))
        with db.read() as session:
            ids = (
                session.scalar(text("SELECT id FROM supplier")),
                session.scalar(text("SELECT id FROM contract")),
            )
        progress(f"  {kind}: loading {n:,} findings ({m:,} open) ...")
        started = time.perf_counter()
        load(db, finding_rows(n, m, open_templates(rules), ids, sqlite=sqlite))
        load_s = time.perf_counter() - started
        loaded_open = count_rows(db, select(func.count()).where(col(Finding.next_check_at) > T))
        if loaded_open != m or count_rows(db, select(func.count()).select_from(Finding)) != n:
            checks.append(f"loaded {loaded_open:,} open findings, expected {m:,}")

        # The first sweep on a database records the digest of its rules: refresh_schedule reads
        # every open finding (and finds their next checks right).
        progress(f"  {kind}: first refresh_schedule, {sizes.idle_runs} sweeps with nothing due")
        before = next_checks(db)
        started = time.perf_counter()
        first = wf.refresh_schedule(T)
        first_s = time.perf_counter() - started
        if first != m or next_checks(db) != before:
            checks.append(f"the first refresh read {first:,} of {m:,}, or moved next checks")

        # 1. Nothing due.
        wf.sweep(now=T)  # warm-up
        idle = []
        for _ in range(sizes.idle_runs):
            started = time.perf_counter()
            if wf.sweep(now=T).examined:
                checks.append("an idle sweep examined findings")
            idle.append(time.perf_counter() - started)
        limit, plan = idle_limit(db, sizes.idle_runs)
        if "next_check_at" not in plan:
            checks.append(f"the due query does not use the index: {plan}")

        # A rules change moves every open finding's next check; then the change back.
        progress(f"  {kind}: rules change (refresh_schedule over {m:,} open findings), twice")
        changed = Workflow(db, settings_for(db.url, tmp, changed_rules(tmp)))
        change_s = []
        for target in (changed, wf):
            before = next_checks(db)
            started = time.perf_counter()
            count = target.refresh_schedule(T)
            change_s.append(time.perf_counter() - started)
            moved = sum(1 for k, v in next_checks(db).items() if before.get(k) != v)
            if count != m or moved != m:
                checks.append(f"rules change: {count:,} rescheduled, {moved:,} moved")
        if wf.sweep(now=T).examined:
            checks.append("a sweep after the change back examined findings")

        # 2. D due.
        progress(f"  {kind}: making {d:,} findings due, one sweep")
        due_ids = make_due(db, rules, d)
        if wf.count_due(now=T) != d:
            checks.append(f"count_due(T) = {wf.count_due(now=T):,} after making {d:,} due")
        outbox_rows = select(func.count()).select_from(OutboxMessage)
        reminders = select(func.count()).where(col(Event.kind) == "reminder")
        written = count_rows(db, outbox_rows), count_rows(db, reminders)
        started, cpu = time.perf_counter(), time.process_time()
        report = wf.sweep(now=T)
        due_s = time.perf_counter() - started
        due_cpu_s = time.process_time() - cpu
        added = count_rows(db, outbox_rows) - written[0], count_rows(db, reminders) - written[1]
        got = (report.examined, report.steps, report.queued, report.skipped, report.escalated)
        if got != (d, d, d, 0, 0) or report.errors:
            checks.append(
                f"due sweep examined/steps/queued/skipped/escalated {got}, "
                f"errors {report.errors[:2]}"
            )
        if added != (d, d):
            checks.append(f"due sweep wrote {added[0]:,} outbox rows, {added[1]:,} events")
        if {a.rule for a in report.actions} != {"R-plan-7d"}:
            checks.append(f"due sweep applied {sorted({a.rule for a in report.actions})}")
        if wf.count_due(now=T) or wf.sweep(now=T).examined:
            checks.append("findings still due after the sweep")
        swept = next_checks(db)
        if any((at := swept.get(i)) is None or at <= T for i in due_ids):
            checks.append("a swept finding has no next check after T")
        with db.read() as session:
            if session.get(Setting, RULES_DIGEST) is None:
                checks.append("no rules digest recorded")
        evaluate_s, render_s = stage_costs(settings, d)

    ok = not checks
    per = due_s / d
    rows: list[Row] = [
        info(f"{name}: load {n:,} findings ({m:,} open)", secs(load_s),
             f"{n / load_s:,.0f} rows/s ({'sqlite3 executemany' if sqlite else 'psycopg COPY'})"),
        info(f"{name}: first refresh_schedule (no digest yet)", secs(first_s),
             f"{first:,} open findings read"),
        (f"1{'a' if kind == 'sqlite' else 'b'}", f"{name}: sweep, nothing due, {n:,} findings",
         f"{ms(statistics.median(idle))} (p95 {ms(percentile(idle, 95))})",
         f"raw driver, same 2 queries: {ms(statistics.median(limit))} "
         f"(p95 {ms(percentile(limit, 95))})",
         f"{statistics.median(idle) / statistics.median(limit):.1f}x",
         f"< {ms(NOTHING_DUE_TARGET_S)} (p95)",
         verdict(percentile(idle, 95) < NOTHING_DUE_TARGET_S and ok)),
        (f"2{'a' if kind == 'sqlite' else 'b'}", f"{name}: sweep, {d:,} due of {n:,}",
         f"{d / due_s:,.0f} findings/s",
         f"{report.examined:,} examined, {report.steps:,} steps, {report.queued:,} queued in "
         f"{secs(due_s)}", "", f">= {DUE_RATE_TARGET:,.0f}/s",
         verdict(d / due_s >= DUE_RATE_TARGET and ok)),
        info("  per finding (evaluate, render, write)", ms(per),
             f"of which CPU of this process {ms(due_cpu_s / d)}"),
        info("  engine.evaluate, called alone", ms(evaluate_s), f"{evaluate_s / per:.0%}"),
        info("  rendering the email, called alone", ms(render_s), f"{render_s / per:.0%}"),
        info("  the rest: reading, parties, writing, commits", ms(per - evaluate_s - render_s),
             f"{(per - evaluate_s - render_s) / per:.0%}"),
        info(f"{name}: rules change, refresh_schedule of {m:,} open",
             " / ".join(secs(s) for s in change_s),
             f"{m:,} next checks moved; {ms(min(change_s) / m)} per finding"),
    ]  # fmt: skip
    return Outcome(rows, checks, min(change_s), due_s)


# -- the peer: APScheduler -------------------------------------------------------------------


RAN: list[int] = []  # the peer's jobs' record


def remind(i: int) -> None:
    """The peer's job: a trivial amount of work (``list.append`` is atomic)."""
    RAN.append(i)


def peer_scheduler(path: Path, tuned: bool) -> tuple[BackgroundScheduler, Engine]:
    """A paused scheduler with its job store on a SQLite file; ``tuned``: cap's pragmas (WAL,
    synchronous=NORMAL), else SQLite's defaults."""
    engine = create_engine(f"sqlite:///{path}")
    if tuned:

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

        event.listen(engine, "connect", on_connect)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        executors={"default": ThreadPoolExecutor(10)},
        # A reminder late by more than a second would otherwise be dropped ("missed").
        job_defaults={"misfire_grace_time": None, "coalesce": True},
        timezone=UTC,
    )
    scheduler.start(paused=True)
    return scheduler, engine


def add_jobs(scheduler: BackgroundScheduler, run_dates: Sequence[datetime], prefix: str) -> float:
    started = time.perf_counter()
    for i, run_date in enumerate(run_dates):
        scheduler.add_job(remind, "date", run_date=run_date, id=f"{prefix}{i:07d}", args=(i,))
    return time.perf_counter() - started


@dataclass
class Peer:
    schedule_s: float = 0.0  # add_job x M
    run_s: float = 0.0  # resume -> every due job function has run
    settle_s: float = 0.0  # resume -> the due jobs are gone from the store
    defaults_s: float = 0.0  # one add_job with SQLite's defaults
    checks: list[str] = field(default_factory=list)


def bench_peer(sizes: Sizes, tmp: Path) -> Peer:
    """M date jobs, D of them (spread through) a second overdue, the others at next-check-like
    offsets from now; then resume and wait for the D to run."""
    m, d = sizes.open, sizes.due
    peer = Peer()
    wall = datetime.now(UTC)
    offsets = [timedelta(days=1 + i % 150, minutes=i % 600) for i in range(997)]
    every = m // d
    run_dates = [
        wall - timedelta(seconds=1)
        if i % every == 0 and i // every < d
        else wall + offsets[i % len(offsets)]
        for i in range(m)
    ]

    scheduler, engine = peer_scheduler(tmp / "peer-jobs.db", tuned=True)

    def stored() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar_one())

    try:
        progress(f"  peer: scheduling {m:,} date jobs (add_job, scheduler paused)")
        peer.schedule_s = add_jobs(scheduler, run_dates, "NC-")
        if stored() != m:
            peer.checks.append(f"{stored():,} jobs stored, expected {m:,}")
        started = time.perf_counter()
        scheduler.resume()
        while len(RAN) < d and time.perf_counter() - started < max(300.0, d / 20):
            time.sleep(0.001)
        peer.run_s = time.perf_counter() - started
        while stored() > m - d and time.perf_counter() - started < 120:
            time.sleep(0.01)
        peer.settle_s = time.perf_counter() - started
        time.sleep(0.2)  # any run beyond the D would show now
        if len(RAN) != d or len(set(RAN)) != d:
            peer.checks.append(f"{len(RAN):,} runs of {len(set(RAN)):,} jobs, not {d:,}")
        if stored() != m - d:
            peer.checks.append(f"{stored():,} jobs left, expected {m - d:,}")
    finally:
        scheduler.shutdown(wait=True)
        engine.dispose()
    defaults, defaults_engine = peer_scheduler(tmp / "peer-defaults.db", tuned=False)
    try:
        k = min(sizes.peer_defaults, m)
        future = [wall + offsets[i % len(offsets)] for i in range(k)]
        peer.defaults_s = add_jobs(defaults, future, "D-") / k
    finally:
        defaults.shutdown(wait=True)
        defaults_engine.dispose()
    return peer


def peer_rows(cap: Outcome, peer: Peer, sizes: Sizes) -> list[Row]:
    m, d = sizes.open, sizes.due
    result = "info" if not cap.checks and not peer.checks else "CHECK"
    return [
        ("3", f"schedule {m:,} reminders (cap: rules change)", secs(cap.change_s),
         f"APScheduler add_job x {m:,}: {secs(peer.schedule_s)}",
         f"{cap.change_s / peer.schedule_s:.2f}x", "comparison", result),
        info("  peer with SQLite defaults (journal, sync FULL)", "",
             f"{ms(peer.defaults_s)} per add_job: ~{secs(peer.defaults_s * m)} for {m:,}"),
        ("3", f"process {d:,} due reminders (cap: sweep)", secs(cap.due_s),
         f"APScheduler resume -> all ran: {secs(peer.run_s)}",
         f"{cap.due_s / peer.run_s:.2f}x", "comparison", result),
        info("  per reminder", ms(cap.due_s / d),
             f"{ms(peer.run_s / d)}; due jobs gone from the store after {secs(peer.settle_s)}"),
    ]  # fmt: skip


def main() -> int:
    args = parser(__doc__, "100,000 findings, 10,000 open, 2,000 due").parse_args()
    sizes = QUICK if args.quick else DEFAULT
    n, m, d = sizes.findings, sizes.open, sizes.due
    pg_url = postgres_url()
    pg_version, pg_skipped = probe_postgres(pg_url)
    outcomes: dict[str, Outcome] = {}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cap-bench-sweep-") as tmp_name:
        tmp = Path(tmp_name)

        def cap_section(kind: str) -> Callable[[], list[Row]]:
            def run() -> list[Row]:
                progress(f"{kind}: {n:,} findings, {m:,} open, {d:,} due")
                outcomes[kind] = bench_cap(kind, sizes, tmp, pg_url)
                return outcomes[kind].rows

            return run

        rows += measured("1a", "SQLite: sweep benchmark", cap_section("sqlite"))
        progress(f"peer: APScheduler, {m:,} jobs, {d:,} due")
        try:
            peer: Peer | str = bench_peer(sizes, tmp)
        except Exception as exc:
            peer = describe(exc)
        if pg_skipped is None:
            rows += measured("1b", "PostgreSQL: sweep benchmark", cap_section("postgresql"))
        else:
            rows.append(("1b", "PostgreSQL", "skipped", "unreachable, see notes", "", "", "-"))
    if isinstance(peer, str):
        rows.append(error_row("3", "APScheduler peer", peer))
    elif "sqlite" in outcomes:
        rows += peer_rows(outcomes["sqlite"], peer, sizes)
    checks = [f"{kind}: {check}" for kind, o in outcomes.items() for check in o.checks]
    checks += [f"peer: {check}" for check in (peer.checks if isinstance(peer, Peer) else [])]
    print_report(
        f"cap sweep benchmark ({'quick' if args.quick else 'default'} run): {n:,} findings "
        f"({m:,} open: awaiting_plan/remediating, next check 1-150 days ahead; the rest closed); "
        f"{d:,} made due; sweeps at {T.isoformat()}",
        [
            f"SQLite {sqlite3.sqlite_version}",
            f"SQLAlchemy {sqlalchemy.__version__}",
            f"APScheduler {apscheduler.__version__}",
            *([f"PostgreSQL {pg_version}"] if pg_version else []),
        ],
        rows,
        [
            f"1: Workflow.sweep(now=T), {sizes.idle_runs} runs after a warm-up sweep, each timed "
            "alone; PASS when the p95 is under the target. The limit: the rules digest read and "
            "the due query (ORDER BY next_check_at, id LIMIT 200; PostgreSQL: FOR UPDATE SKIP "
            "LOCKED) with the raw driver, a transaction each, as many runs. 'first "
            "refresh_schedule': what the first sweep on a database does (reads every open "
            "finding, writes nothing here). 'rules change': the shipped rules with send_at "
            "08:00 instead of 09:00, then back (two timings): every open finding's next check "
            "moves by an hour.",
            "2: one bulk UPDATE moves D open findings to awaiting_plan, plan due T+3 days, next "
            "check a minute before T; then one Workflow.sweep(now=T). 'called alone': "
            "engine.evaluate of such a finding and Renderer.render of the shipped plan reminder "
            "(sample context), D times each, as a share of the sweep's time per finding. 'CPU "
            "of this process': time.process_time() (on PostgreSQL the server's is not in it).",
            "3: APScheduler BackgroundScheduler, SQLAlchemyJobStore on a SQLite file beside "
            "cap's (WAL, synchronous=NORMAL), ThreadPoolExecutor(10), misfire_grace_time=None "
            "(the default, 1 s, drops a late reminder: cap's catch-up sends it), coalesce; "
            "started paused, add_job(remind, 'date', run_date, id) per reminder, D of them a "
            "second overdue; then resume() until the D-th call of remind. cap's figures: the "
            "rules change (the faster) and section 2's sweep on SQLite, which also renders, "
            "queues and records each reminder: the peer's job does nothing. Ratio = cap / peer.",
            f"PostgreSQL skipped: {safe_url(pg_url)} unreachable: {pg_skipped}"
            if pg_skipped is not None
            else f"PostgreSQL: {safe_url(pg_url)}, schema {PG_SCHEMA} recreated and migrated, "
            "dropped after; findings written with COPY, then ANALYZE finding.",
            *(f"CHECK FAILED, {check}" for check in checks),
        ],
    )
    return 0


if __name__ == "__main__":
    run_report(main)
