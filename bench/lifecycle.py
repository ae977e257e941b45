"""Lifecycle benchmark: the shared state machine, committed actions on SQLite, memory.

Run ``python bench/lifecycle.py [--quick]``. It prints one table in which every figure stands
beside the peer or limit it is compared with, both measured in this run, with the target and
PASS/FAIL. It is a report, not a test: the exit code is always 0.

1. Triggers per second on the shared ``MACHINE`` beside a machine built per finding (the naive
   design; its construction is counted, that is the point). Target: shared >= 3x per-finding.
2. Committed ``Workflow.act`` calls per second on a migrated SQLite file beside raw ``sqlite3``
   doing the same writes per action on the same schema and pragmas. Target: cap >= raw / 10.
3. Resident memory (VmRSS) per finding with the shared machine and with per-finding machines,
   and RSS across batches of findings that are created, triggered and dropped. Each memory
   figure comes from a fresh child process, so that memory freed earlier cannot hide growth.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import transitions

from cap.domain.calendar import BusinessCalendar
from cap.domain.lifecycle import (
    MACHINE,
    Action,
    ActionRequest,
    DeadlinePolicy,
    build_machine,
    perform,
)
from cap.domain.model import Area, Case, Severity, State

from common import describe, format_table, progress, run_report, verdict

# -- the scenario ----------------------------------------------------------------------------

BUYER = "anna.manager@region.example"
SUPPLIER = "li.wei@nordic-supply.example"
FOUND_ON = date(2026, 1, 20)
#: When the findings are logged (after FOUND_ON).
LOGGED_AT = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
#: First action; every later action of a finding happens later (``at`` is non-decreasing).
FIRST_AT = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
#: ``now`` of each call: the action is recorded this long after it happened (``now >= at``).
RECORD_DELAY = timedelta(minutes=2)


@dataclass(frozen=True)
class Step:
    action: Action
    actor: str
    after: timedelta  # since FIRST_AT
    note: str | None = None

    @property
    def at(self) -> datetime:
        return FIRST_AT + self.after

    @property
    def now(self) -> datetime:
        return self.at + RECORD_DELAY

    def request(self) -> ActionRequest:
        return ActionRequest(self.action, self.actor, self.at, note=self.note)


#: The realistic path of a finding: notified, plan submitted and accepted, fixed, verified.
SEQUENCE: tuple[Step, ...] = (
    Step(Action.NOTIFY, BUYER, timedelta(0)),
    Step(Action.SUBMIT_PLAN, SUPPLIER, timedelta(days=3)),
    Step(Action.ACCEPT_PLAN, BUYER, timedelta(days=5)),
    Step(Action.REPORT_REMEDIATION, SUPPLIER, timedelta(days=15)),
    Step(Action.VERIFY, BUYER, timedelta(days=20), note="Re-audit on site: overtime within limits"),
)
TRIGGERS = tuple(step.action.value for step in SEQUENCE)


@dataclass(frozen=True)
class Sizes:
    triggers: int  # findings through the 5-step sequence, section 1
    sqlite: int  # findings acted on through Workflow.act, section 2
    warmup_findings: int  # extra findings used to warm up section 2
    rss: int  # findings held at once, section 3
    rss_peer: int  # per-finding machines held at once (capped, extrapolated to ``rss``)
    batch: int  # findings per batch, section 3
    batches: int = 10


DEFAULT = Sizes(
    triggers=20_000, sqlite=1_000, warmup_findings=30, rss=100_000, rss_peer=10_000, batch=10_000
)
QUICK = Sizes(
    triggers=2_000, sqlite=200, warmup_findings=10, rss=20_000, rss_peer=1_000, batch=2_000
)

# Targets from the issue.
SPEEDUP_TARGET = 3.0
SQLITE_FRACTION_TARGET = 0.1
#: "Memory flat": the shared machine may add at most this much per finding (RSS resolution).
SHARED_BYTES_PER_FINDING_LIMIT = 8.0
BATCH_GROWTH_LIMIT = 5 * 1024 * 1024
#: Findings per turn when cap and raw sqlite3 alternate (section 2).
CHUNK = 50


def new_cases(n: int) -> list[Case]:
    return [
        Case(state=State.OPEN, severity=Severity.MAJOR, area=Area.WORKING_HOURS, found_on=FOUND_ON)
        for _ in range(n)
    ]


def best_of(runs: int, measure: Callable[[], float]) -> float:
    """The shortest of ``runs`` timings (seconds), after a full collection before each."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        best = min(best, measure())
    return best


def all_closed(cases: Sequence[Case]) -> bool:
    return all(case.state is State.CLOSED for case in cases)


# -- section 1: triggers per second ----------------------------------------------------------


def time_shared(cases: Sequence[Case]) -> float:
    events = MACHINE.events
    start = time.perf_counter()
    for case in cases:
        for name in TRIGGERS:
            events[name].trigger(case)
    return time.perf_counter() - start


def time_per_finding(cases: Sequence[Case]) -> float:
    """The naive design: each finding gets its own machine (kept with it, as a model would)."""
    start = time.perf_counter()
    for case in cases:
        machine = build_machine(model=case)
        for name in TRIGGERS:
            machine.events[name].trigger(case)
    return time.perf_counter() - start


def time_per_finding_triggers_only(cases: Sequence[Case]) -> float:
    machines = [build_machine(model=case) for case in cases]
    gc.collect()
    start = time.perf_counter()
    for case, machine in zip(cases, machines, strict=True):
        for name in TRIGGERS:
            machine.events[name].trigger(case)
    return time.perf_counter() - start


def time_perform(cases: Sequence[Case], calendar: BusinessCalendar) -> tuple[float, bool]:
    policy = DeadlinePolicy()
    steps = [(step.request(), step.now) for step in SEQUENCE]
    start = time.perf_counter()
    last: list[Case] = []
    for case in cases:
        current = case
        for request, now in steps:
            current = perform(current, request, now=now, calendar=calendar, policy=policy).case
        last.append(current)
    elapsed = time.perf_counter() - start
    return elapsed, all_closed(last)


@dataclass
class TriggerResult:
    n: int
    shared_s: float
    peer_s: float
    peer_triggers_only_s: float
    peer_only_n: int
    perform_s: float
    ok: bool


def bench_triggers(sizes: Sizes) -> TriggerResult:
    n = sizes.triggers
    warm = new_cases(min(500, n))
    time_shared(warm)
    time_per_finding(new_cases(min(200, n)))
    calendar = BusinessCalendar()
    time_perform(new_cases(min(200, n)), calendar)

    shared_cases: list[list[Case]] = []

    def shared() -> float:
        cases = new_cases(n)
        shared_cases.append(cases)
        return time_shared(cases)

    shared_s = best_of(3, shared)
    ok = all(all_closed(c) for c in shared_cases)
    shared_cases.clear()

    # Not cheap (a machine costs far more than its triggers): one run.
    peer_cases = new_cases(n)
    gc.collect()
    peer_s = time_per_finding(peer_cases)
    ok = ok and all_closed(peer_cases)
    del peer_cases
    gc.collect()

    # Info only, and each run builds the machines again: one run on at most 1,000 findings.
    peer_only_n = min(n // 4, 1_000)
    peer_only_s = best_of(1, lambda: time_per_finding_triggers_only(new_cases(peer_only_n)))

    perform_ok: list[bool] = []

    def domain() -> float:
        elapsed, closed = time_perform(new_cases(n), calendar)
        perform_ok.append(closed)
        return elapsed

    perform_s = best_of(3, domain)
    return TriggerResult(
        n=n,
        shared_s=shared_s,
        peer_s=peer_s,
        peer_triggers_only_s=peer_only_s,
        peer_only_n=peer_only_n,
        perform_s=perform_s,
        ok=ok and all(perform_ok),
    )


# -- section 2: committed actions per second on SQLite ---------------------------------------

PLAN_ROOT_CAUSE = "Peak-season orders planned without capacity; overtime not capped."
PLAN_ACTIONS = (
    ("Cap weekly hours at 60 including overtime", "HR manager", date(2026, 4, 30)),
    ("Hire 40 seasonal workers before peak", "Plant manager", date(2026, 6, 30)),
)

Row = dict[str, Any]


@dataclass(frozen=True)
class Write:
    """One statement of a replayed action. Text parameters naming the template finding's ref
    are rewritten for the finding acted on (refs all have the same length: same sizes)."""

    sql: str
    params: Row
    with_ref: tuple[str, ...]  # parameters whose text contains the template ref

    def bind(self, template_ref: str, ref: str, finding_id: int) -> Row:
        params = {**self.params, "_finding_id": finding_id}
        for name in self.with_ref:
            params[name] = params[name].replace(template_ref, ref)
        return params


@dataclass(frozen=True)
class Replay:
    """The rows cap wrote for one step on a template finding, to write again with sqlite3."""

    step: Step
    finding_sql: str  # UPDATE finding ... WHERE id = :_finding_id AND version = :_version
    finding_params: Row
    writes: tuple[Write, ...]  # rows of the finding's child tables: inserts, updates, deletes

    @property
    def rows(self) -> int:
        return 1 + len(self.writes)


def _write(sql: str, params: Row, template_ref: str) -> Write:
    with_ref = tuple(k for k, v in params.items() if isinstance(v, str) and template_ref in v)
    return Write(sql, params, with_ref)


def child_tables(conn: sqlite3.Connection) -> list[str]:
    """Tables whose rows belong to a finding (a ``finding_id`` column)."""
    names = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return [
        name
        for name in names
        if any(col[1] == "finding_id" for col in conn.execute(f'PRAGMA table_info("{name}")'))
    ]


Snapshot = dict[str, list[Row]]


def snapshot(conn: sqlite3.Connection, finding_id: int, tables: Sequence[str]) -> Snapshot:
    """The finding's row and its rows in every child table, in id order."""

    def rows(table: str, where: str) -> list[Row]:
        cur = conn.execute(f'SELECT * FROM "{table}" WHERE {where} = ? ORDER BY id', (finding_id,))
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, values, strict=True)) for values in cur.fetchall()]

    shot = {table: rows(table, "finding_id") for table in tables}
    shot["finding"] = rows("finding", "id")
    return shot


def _nth_row(table: str, n: int) -> str:
    return (
        f'(SELECT id FROM "{table}" WHERE finding_id = :_finding_id ORDER BY id LIMIT 1 OFFSET {n})'
    )


def build_replays(
    shots: Sequence[Snapshot], tables: Sequence[str], template_ref: str
) -> list[Replay]:
    """From snapshots of the template finding before and after each step, the writes."""
    # The finding's UPDATE sets the lifecycle columns (every column any step changed), as
    # cap's own UPDATE sets a fixed list of them whether they changed or not.
    findings = [shot["finding"][0] for shot in shots]
    lifecycle = sorted(
        {
            column
            for before, after in itertools.pairwise(findings)
            for column in after
            if column not in ("id", "version") and after[column] != before[column]
        }
        | {"state"}
    )
    finding_sql = (
        "UPDATE finding SET "
        + ", ".join(f'"{c}" = :{c}' for c in lifecycle)
        + ", version = version + 1 WHERE id = :_finding_id AND version = :_version"
    )
    replays: list[Replay] = []
    for step, (before, after) in zip(SEQUENCE, itertools.pairwise(shots), strict=True):
        writes: list[Write] = []
        for table in tables:
            old = {row["id"]: n for n, row in enumerate(before[table])}
            old_rows = {row["id"]: row for row in before[table]}
            new_ids = {row["id"] for row in after[table]}
            for n, row in enumerate(after[table]):
                if row["id"] not in old:
                    params = {k: v for k, v in row.items() if k not in ("id", "finding_id")}
                    columns = ", ".join(f'"{k}"' for k in (*params, "finding_id"))
                    values = ", ".join(f":{k}" for k in (*params, "_finding_id"))
                    sql = f'INSERT INTO "{table}" ({columns}) VALUES ({values})'
                    writes.append(_write(sql, params, template_ref))
                elif row != old_rows[row["id"]]:
                    changed = {k: v for k, v in row.items() if v != old_rows[row["id"]][k]}
                    sets = ", ".join(f'"{k}" = :{k}' for k in changed)
                    sql = f'UPDATE "{table}" SET {sets} WHERE id = {_nth_row(table, n)}'
                    writes.append(_write(sql, changed, template_ref))
            for row_id, n in sorted(old.items(), key=lambda item: -item[1]):
                if row_id not in new_ids:
                    sql = f'DELETE FROM "{table}" WHERE id = {_nth_row(table, n)}'
                    writes.append(Write(sql, {}, ()))
        params = {c: findings[len(replays) + 1][c] for c in lifecycle}
        replays.append(Replay(step, finding_sql, params, tuple(writes)))
    return replays


def raw_act(
    cur: sqlite3.Cursor, replay: Replay, template_ref: str, ref: str, finding_id: int, version: int
) -> None:
    """One action with plain sqlite3: the rows cap writes (``version``: before the action)."""
    cur.execute("BEGIN IMMEDIATE")
    try:
        cur.execute(
            replay.finding_sql,
            {**replay.finding_params, "_finding_id": finding_id, "_version": version},
        )
        if cur.rowcount != 1:
            raise RuntimeError(f"raw: finding {ref} is not at version {version}")
        for write in replay.writes:
            cur.execute(write.sql, write.bind(template_ref, ref, finding_id))
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise


def written_rows(path: Path) -> dict[str, int]:
    """What a file holds after the run, to check that cap and raw wrote the same."""
    conn = sqlite3.connect(path)
    try:
        counts = {
            f"finding {state}": n
            for state, n in conn.execute("SELECT state, count(*) FROM finding GROUP BY state")
        }
        for table in child_tables(conn):
            counts[f"{table} rows"] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        if "outbox" in child_tables(conn):
            query = "SELECT sum(length(text_body) + length(html_body)) FROM outbox"
            size = conn.execute(query).fetchone()[0]
            counts["outbox bytes"] = size or 0
        return counts
    finally:
        conn.close()


def sqlite_connect(path: Path) -> sqlite3.Connection:
    """A connection set up as cap.store.db sets up its own (WAL, NORMAL sync, foreign keys)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA busy_timeout=30000",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
    ):
        conn.execute(pragma)
    return conn


@dataclass
class SqliteResult:
    n_findings: int
    cap_s: float
    raw_s: float
    cap_step_s: dict[str, float]
    raw_step_s: dict[str, float]
    rows_per_step: dict[str, int]
    check: str
    ok: bool

    @property
    def actions(self) -> int:
        return self.n_findings * len(SEQUENCE)


def bench_sqlite(sizes: Sizes, tmp: Path) -> SqliteResult:
    from cap.config import Settings
    from cap.domain.inputs import (
        ContractInput,
        FindingInput,
        PlanAction,
        PlanInput,
        SupplierInput,
    )
    from cap.domain.model import Source
    from cap.store.db import Database
    from cap.workflow import Workflow

    cap_path = tmp / "cap.db"
    raw_path = tmp / "raw.db"
    url = f"sqlite:///{cap_path}"
    Database(url).upgrade()
    settings = Settings(database_url=url, mail_dir=tmp / "mail")
    wf = Workflow(db=Database(url), settings=settings)
    wf.add_supplier(
        SupplierInput(
            name="Nordic IT Supply AB",
            org_number="556000-1234",
            country="SE",
            email=SUPPLIER,
            contact_name="Li Wei",
        ),
        now=LOGGED_AT,
    )
    wf.add_contract(
        ContractInput(
            reference="RS-2019-ICT-01",
            supplier="556000-1234",
            category="Personal computers",
            manager=BUYER,
            start=date(2019, 5, 1),
        ),
        now=LOGGED_AT,
    )
    total = sizes.warmup_findings + sizes.sqlite
    rows = [
        FindingInput(
            contract="RS-2019-ICT-01",
            severity=Severity.MAJOR,
            area=Area.WORKING_HOURS,
            source=Source.MONITORING_REPORT,
            title=f"Forced overtime at final assembly #{i}",
            description="Workers report 80-hour weeks in peak season.",
            site="Final assembly, Dongguan",
            site_country="CN",
            found_on=FOUND_ON,
        )
        for i in range(total)
    ]
    refs = wf.log_findings(rows, actor=BUYER, now=LOGGED_AT).refs
    if len({len(ref) for ref in refs}) != 1:
        raise RuntimeError("refs of different lengths: the raw replay would change row sizes")
    # Same starting point for raw sqlite3: a copy of the file with the same findings.
    wf.db.engine.dispose()
    source, target = sqlite3.connect(cap_path), sqlite3.connect(raw_path)
    source.backup(target)  # a consistent copy, WAL content included
    source.close()
    target.close()

    plan = PlanInput(
        root_cause=PLAN_ROOT_CAUSE,
        actions=[PlanAction(description=d, owner=o, due=due) for d, o, due in PLAN_ACTIONS],
    )

    def cap_act(ref: str, step: Step) -> None:
        # view=False: the use case as the CLI runs it; showing the finding is a separate read.
        wf.act(
            ref,
            step.request(),
            now=step.now,
            plan=plan if step.action is Action.SUBMIT_PLAN else None,
            view=False,
        )

    # Warm up cap and record what it writes for the first warm-up finding, step by step.
    warm, timed = refs[: sizes.warmup_findings], refs[sizes.warmup_findings :]
    template = warm[0]
    reader = sqlite3.connect(cap_path)
    ids = dict(reader.execute("SELECT ref, id FROM finding").fetchall())
    tables = child_tables(reader)
    shots = [snapshot(reader, ids[template], tables)]
    for step in SEQUENCE:
        for ref in warm:
            cap_act(ref, step)
        shots.append(snapshot(reader, ids[template], tables))
    reader.close()
    replays = build_replays(shots, tables, template)

    conn = sqlite_connect(raw_path)
    cur = conn.cursor()
    for version, replay in enumerate(replays, start=1):
        for ref in warm:
            raw_act(cur, replay, template, ref, ids[ref], version)

    # cap and raw take turns, a chunk of findings each, so that both see the same load on a
    # machine shared with other work; each side's time is the sum of its own chunks.
    cap_step_s: dict[str, float] = {}
    raw_step_s: dict[str, float] = {}
    for version, replay in enumerate(replays, start=1):
        gc.collect()
        cap_s = raw_s = 0.0
        for i, first in enumerate(range(0, len(timed), CHUNK)):
            chunk = timed[first : first + CHUNK]
            for side in ("cap", "raw") if i % 2 == 0 else ("raw", "cap"):
                start = time.perf_counter()
                if side == "cap":
                    for ref in chunk:
                        cap_act(ref, replay.step)
                    cap_s += time.perf_counter() - start
                else:
                    for ref in chunk:
                        raw_act(cur, replay, template, ref, ids[ref], version)
                    raw_s += time.perf_counter() - start
        cap_step_s[replay.step.action.value] = cap_s
        raw_step_s[replay.step.action.value] = raw_s
    conn.close()
    wf.db.engine.dispose()

    # Both files must now say the same thing.
    cap_rows, raw_rows = written_rows(cap_path), written_rows(raw_path)
    # Messages differ by a few bytes per finding (signed link, encoding): sizes ~equal.
    cap_bytes, raw_bytes = cap_rows.pop("outbox bytes", 0), raw_rows.pop("outbox bytes", 0)
    ok = (
        cap_rows == raw_rows
        and cap_rows.get(f"finding {State.CLOSED.value}") == total
        and abs(cap_bytes - raw_bytes) <= 0.01 * max(cap_bytes, 1)
    )
    shown = ", ".join(f"{v:,} {k}" for k, v in cap_rows.items())
    if cap_bytes:
        shown += f"; outbox messages {mib(cap_bytes)} (raw {mib(raw_bytes)})"
    check_text = f"both files: {shown}" if ok else f"MISMATCH cap: {cap_rows} raw: {raw_rows}"
    return SqliteResult(
        n_findings=len(timed),
        cap_s=sum(cap_step_s.values()),
        raw_s=sum(raw_step_s.values()),
        cap_step_s=cap_step_s,
        raw_step_s=raw_step_s,
        rows_per_step={r.step.action.value: r.rows for r in replays},
        check=check_text,
        ok=ok,
    )


# -- section 3: resident memory, measured in fresh child processes ---------------------------


def rss_bytes() -> int:
    """Current resident set size (VmRSS); the peak from ``resource`` where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def settled_rss() -> int:
    gc.collect()
    return rss_bytes()


def probe(kind: str, n: int, batches: int) -> dict[str, Any]:
    """Run in a child process: RSS before, with ``n`` cases, and after triggering them."""
    notify = MACHINE.events[Action.NOTIFY.value]
    # Exercise the code paths once so their one-off allocations are in the baseline.
    for case in new_cases(10):
        notify.trigger(case)
        build_machine(model=new_cases(1)[0])
    before = settled_rss()
    if kind == "batches":
        after: dict[str, int] = {}
        for i in range(1, batches + 1):
            cases = new_cases(n)
            for case in cases:
                notify.trigger(case)
            ok = all(case.state is State.AWAITING_PLAN for case in cases)
            del cases
            after[str(i)] = settled_rss()
            if not ok:
                return {"error": f"batch {i}: a case did not reach awaiting_plan"}
        return {"before": before, "after_batch": after}
    cases = new_cases(n)
    with_cases = settled_rss()
    if kind == "shared":
        for case in cases:
            notify.trigger(case)
    else:
        machines = []
        for case in cases:
            machine = build_machine(model=case)
            machine.events[Action.NOTIFY.value].trigger(case)
            machines.append(machine)
    triggered = settled_rss()
    ok = all(case.state is State.AWAITING_PLAN for case in cases)
    return {"before": before, "with_cases": with_cases, "triggered": triggered, "ok": ok}


def run_probe(kind: str, n: int, batches: int = 0) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--probe", kind, str(n), str(batches)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"probe {kind} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    if "error" in result:
        raise RuntimeError(f"probe {kind}: {result['error']}")
    return result


@dataclass
class MemoryResult:
    n: int
    peer_n: int
    case_bytes: float  # per finding, the Case objects themselves
    shared_bytes: float  # per finding, added by triggering through the shared machine
    peer_bytes: float  # per finding, added by building a machine and triggering
    batch: int
    batch_rss: dict[str, int]
    batch_before: int
    ok: bool


def bench_memory(sizes: Sizes) -> MemoryResult:
    shared = run_probe("shared", sizes.rss)
    peer = run_probe("per_finding", sizes.rss_peer)
    batches = run_probe("batches", sizes.batch, sizes.batches)
    return MemoryResult(
        n=sizes.rss,
        peer_n=sizes.rss_peer,
        case_bytes=(shared["with_cases"] - shared["before"]) / sizes.rss,
        shared_bytes=(shared["triggered"] - shared["with_cases"]) / sizes.rss,
        peer_bytes=(peer["triggered"] - peer["with_cases"]) / sizes.rss_peer,
        batch=sizes.batch,
        batch_rss=batches["after_batch"],
        batch_before=batches["before"],
        ok=bool(shared["ok"] and peer["ok"]),
    )


# -- the report ------------------------------------------------------------------------------

HEADER = ("#", "measure", "cap", "compared with (same run)", "ratio", "target", "result")
NUMERIC_COLUMNS = {2, 4}  # right-aligned: cap, ratio


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "n/a"


def mib(value: float) -> str:
    return f"{value / (1024 * 1024):,.1f} MiB"


def triggers_rows(r: TriggerResult) -> list[tuple[str, ...]]:
    count = r.n * len(TRIGGERS)
    speedup = r.peer_s / r.shared_s
    peer_only_rate = r.peer_only_n * len(TRIGGERS) / r.peer_triggers_only_s
    return [
        (
            "1",
            f"triggers/s, shared MACHINE, {r.n:,} findings x {len(TRIGGERS)}",
            rate(count, r.shared_s),
            f"{rate(count, r.peer_s)} machine per finding (built+triggered)",
            f"{speedup:.1f}x",
            f">= {SPEEDUP_TARGET:.0f}x",
            verdict(speedup >= SPEEDUP_TARGET and r.ok),
        ),
        (
            "1i",
            "  per-finding machine, triggers only",
            "",
            f"{peer_only_rate:,.0f}/s ({r.peer_only_n:,} prebuilt machines)",
            f"{peer_only_rate / (count / r.shared_s):.2f}x",
            "",
            "info",
        ),
        (
            "1i",
            "  per-finding machine, construction",
            "",
            f"{r.n / r.peer_s:,.0f} findings/s, {r.peer_s / r.n * 1e6:,.0f} us each",
            "",
            "",
            "info",
        ),
        (
            "1i",
            "  perform() (validate, deadlines, trigger)",
            rate(count, r.perform_s),
            f"{rate(count, r.shared_s)} bare shared trigger",
            f"{r.shared_s / r.perform_s:.2f}x",
            "",
            "info",
        ),
    ]


def sqlite_rows(r: SqliteResult) -> list[tuple[str, ...]]:
    fraction = (r.actions / r.cap_s) / (r.actions / r.raw_s)
    rows: list[tuple[str, ...]] = [
        (
            "2",
            f"committed actions/s on SQLite, {r.actions:,} acts",
            rate(r.actions, r.cap_s),
            f"{rate(r.actions, r.raw_s)} raw sqlite3, same writes",
            f"1/{1 / fraction:.1f}",
            f">= 1/{1 / SQLITE_FRACTION_TARGET:.0f}",
            verdict(fraction >= SQLITE_FRACTION_TARGET and r.ok),
        )
    ]
    for name, cap_s in r.cap_step_s.items():
        raw_s = r.raw_step_s[name]
        rows.append(
            (
                "2i",
                f"  {name} ({r.n_findings:,} acts, {r.rows_per_step[name]} rows each)",
                f"{rate(r.n_findings, cap_s)} {cap_s / r.n_findings * 1e3:.2f} ms",
                f"{rate(r.n_findings, raw_s)} {raw_s / r.n_findings * 1e3:.3f} ms",
                f"1/{cap_s / raw_s:.1f}",
                "",
                "info",
            )
        )
    return rows


def memory_rows(r: MemoryResult) -> list[tuple[str, ...]]:
    extrapolated = r.peer_n < r.n
    peer_note = f"x{r.n:,}" + (f" (extrapolated from {r.peer_n:,})" if extrapolated else "")
    values = [r.batch_rss[str(i)] for i in (1, 5, 10) if str(i) in r.batch_rss]
    growth = values[-1] - values[0]
    return [
        (
            "3",
            f"RSS added per finding by the machine, {r.n:,}",
            f"{r.shared_bytes:,.1f} B",
            f"{r.peer_bytes:,.0f} B machine per finding",
            f"{r.shared_bytes / r.peer_bytes:.4f}" if r.peer_bytes else "n/a",
            f"<= {SHARED_BYTES_PER_FINDING_LIMIT:.0f} B (flat)",
            verdict(r.shared_bytes <= SHARED_BYTES_PER_FINDING_LIMIT and r.ok),
        ),
        (
            "3i",
            f"  total RSS added, {r.n:,} findings",
            mib((r.case_bytes + r.shared_bytes) * r.n),
            f"{mib((r.case_bytes + r.peer_bytes) * r.n)} {peer_note}",
            "",
            "",
            "info",
        ),
        (
            "3i",
            "  the Case objects themselves, per finding",
            f"{r.case_bytes:,.0f} B",
            f"a machine per finding costs as much as {r.peer_bytes / r.case_bytes:,.0f} Cases"
            if r.case_bytes > 0
            else "n/a",
            "",
            "",
            "info",
        ),
        (
            "3",
            f"RSS growth, batches 1->10 of {r.batch:,} (drop each)",
            mib(growth),
            "RSS after batch 1/5/10: " + " / ".join(mib(v) for v in values),
            "",
            f"< {mib(BATCH_GROWTH_LIMIT)}",
            verdict(growth < BATCH_GROWTH_LIMIT),
        ),
    ]


def error_row(number: str, what: str, exc: BaseException) -> tuple[str, ...]:
    message = describe(exc)[:60]
    return (number, what, "ERROR", message, "", "", "FAIL")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under ~20 s)")
    parser.add_argument("--probe", nargs=3, metavar="X", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        kind, n, batches = args.probe
        print(json.dumps(probe(kind, int(n), int(batches))))
        return 0

    sizes = QUICK if args.quick else DEFAULT
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    rows: list[tuple[str, ...]] = []

    progress(f"1/3 triggers ({sizes.triggers:,} findings) ...")
    try:
        triggers = bench_triggers(sizes)
        rows += triggers_rows(triggers)
    except Exception as exc:
        traceback.print_exc()
        rows.append(error_row("1", "triggers/s", exc))

    progress(f"2/3 SQLite ({sizes.sqlite:,} findings x {len(SEQUENCE)} actions) ...")
    check = ""
    try:
        with tempfile.TemporaryDirectory(prefix="cap-bench-") as tmp:
            result = bench_sqlite(sizes, Path(tmp))
        rows += sqlite_rows(result)
        check = result.check
    except Exception as exc:
        traceback.print_exc()
        rows.append(error_row("2", "committed actions/s on SQLite", exc))

    progress(f"3/3 memory ({sizes.rss:,} findings, child processes) ...")
    try:
        rows += memory_rows(bench_memory(sizes))
    except Exception as exc:
        traceback.print_exc()
        rows.append(error_row("3", "RSS per finding", exc))

    mode = "quick" if args.quick else "default"
    print(f"cap lifecycle benchmark ({mode} run)")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"SQLite {sqlite3.sqlite_version}, transitions {transitions.__version__}, "
        f"{platform.system()} {platform.machine()}"
    )
    print(f"sequence per finding: {' -> '.join(TRIGGERS)}")
    print(
        f"load average (1 min) at start {load_start:.2f}, at end {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} CPUs: other work on the machine slows both sides of a comparison"
    )
    print()
    print(format_table(HEADER, rows, NUMERIC_COLUMNS))
    print()
    print("notes:")
    print(
        "  1: best of 3 for the shared machine and perform(); one run for the machine per\n"
        "     finding (build_machine(model=case), construction counted). Rows 'i' are info."
    )
    print(
        "  2: one run after a warm-up; cap = Workflow.act(view=False): read, perform, write.\n"
        "     raw =\n"
        "     plain sqlite3 writing the same rows per action: BEGIN IMMEDIATE; UPDATE finding\n"
        "     SET <lifecycle columns>, version = version + 1 WHERE id AND version; the rows cap\n"
        "     wrote in the finding's tables (event, plan, outbox...), replayed from what cap\n"
        "     wrote for a warm-up finding; COMMIT. Same schema (a copy of the migrated file),\n"
        "     WAL, synchronous=NORMAL, foreign_keys=ON. cap and raw alternate in chunks of\n"
        f"     {CHUNK} findings so that both run under the same load."
    )
    if check:
        print(
            textwrap.fill(f"check: {check}", 92, initial_indent=" " * 5, subsequent_indent=" " * 7)
        )
    print(
        "  3: VmRSS in fresh child processes after gc.collect(); bytes per finding = RSS delta\n"
        "     / findings held, with one trigger (notify) each. The machine-per-finding peer is\n"
        f"     measured on {sizes.rss_peer:,} findings and its bytes per finding multiplied by\n"
        f"     {sizes.rss:,} (linear: each machine is independent). Batches: create, trigger,\n"
        "     drop."
    )
    print(f"total time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    if "--probe" in sys.argv:
        sys.exit(main())  # a child process: let its failure show
    run_report(main)
