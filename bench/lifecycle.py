"""Lifecycle benchmark: the shared state machine, committed actions on SQLite, memory.

Run ``python bench/lifecycle.py [--quick]``. It prints one table in which every figure stands
beside the peer or limit it is compared with, both measured in this run, with the target and
PASS/FAIL. It is a report, not a test: the exit code is always 0.

1. Triggers per second on the shared ``MACHINE`` beside a machine built per finding (the naive
   design; its construction is counted, that is the point). Target: shared >= 3x per-finding.
2. Committed ``Workflow.act`` calls per second on a migrated SQLite file beside raw ``sqlite3``
   writing, per action, the rows cap wrote for a warm-up finding, on a copy of the same file
   with the same pragmas. Target: cap >= raw / 10.
3. Resident memory (VmRSS) per finding with the shared machine and with per-finding machines,
   and RSS across batches of findings that are created, triggered and dropped. Each memory
   figure comes from a fresh child process, so that memory freed earlier cannot hide growth.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
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

from common import (
    BUYER,
    SUPPLIER_EMAIL,
    Row,
    info,
    log_findings,
    measured,
    migrated,
    parser,
    print_report,
    progress,
    rate,
    run_report,
    verdict,
)

FOUND_ON = date(2026, 1, 20)
LOGGED_AT = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
FIRST_AT = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Step:
    action: Action
    actor: str
    after: timedelta  # since FIRST_AT
    note: str | None = None

    @property
    def now(self) -> datetime:
        """When the action is recorded: a little after it happened."""
        return FIRST_AT + self.after + timedelta(minutes=2)

    def request(self) -> ActionRequest:
        return ActionRequest(self.action, self.actor, FIRST_AT + self.after, note=self.note)


#: The realistic path of a finding: notified, plan submitted and accepted, fixed, verified.
SEQUENCE = (
    Step(Action.NOTIFY, BUYER, timedelta(0)),
    Step(Action.SUBMIT_PLAN, SUPPLIER_EMAIL, timedelta(days=3)),
    Step(Action.ACCEPT_PLAN, BUYER, timedelta(days=5)),
    Step(Action.REPORT_REMEDIATION, SUPPLIER_EMAIL, timedelta(days=15)),
    Step(Action.VERIFY, BUYER, timedelta(days=20), note="Re-audit on site: overtime within limits"),
)
TRIGGERS = tuple(step.action.value for step in SEQUENCE)


@dataclass(frozen=True)
class Sizes:
    triggers: int  # findings through the sequence, section 1
    sqlite: int  # findings acted on through Workflow.act, section 2
    warmup: int  # findings acted on before timing section 2
    rss: int  # findings held at once, section 3
    rss_peer: int  # per-finding machines held at once (extrapolated to ``rss``)
    batch: int  # findings per batch, section 3
    batches: int = 10


DEFAULT = Sizes(
    triggers=20_000, sqlite=1_000, warmup=30, rss=100_000, rss_peer=10_000, batch=10_000
)
QUICK = Sizes(triggers=2_000, sqlite=200, warmup=10, rss=20_000, rss_peer=1_000, batch=2_000)

SPEEDUP_TARGET = 3.0
SQLITE_FRACTION_TARGET = 0.1
#: "Memory flat": the shared machine may add at most this much per finding (RSS resolution).
SHARED_BYTES_PER_FINDING_LIMIT = 8.0
BATCH_GROWTH_LIMIT = 5 * 1024 * 1024
#: Findings per turn when cap and raw sqlite3 alternate, so that both see the same load.
CHUNK = 50


def new_cases(n: int) -> list[Case]:
    return [
        Case(state=State.OPEN, severity=Severity.MAJOR, area=Area.WORKING_HOURS, found_on=FOUND_ON)
        for _ in range(n)
    ]


def mib(value: float) -> str:
    return f"{value / (1024 * 1024):,.1f} MiB"


# -- section 1: triggers per second ----------------------------------------------------------


def shared(cases: list[Case]) -> list[Case]:
    events = MACHINE.events
    for case in cases:
        for name in TRIGGERS:
            events[name].trigger(case)
    return cases


def per_finding(cases: list[Case]) -> list[Case]:
    """The naive design: each finding gets its own machine (kept with it, as a model would)."""
    for case in cases:
        machine = build_machine(model=case)
        for name in TRIGGERS:
            machine.events[name].trigger(case)
    return cases


def through_perform(cases: list[Case]) -> list[Case]:
    calendar, policy = BusinessCalendar(), DeadlinePolicy()
    steps = [(step.request(), step.now) for step in SEQUENCE]
    done = []
    for case in cases:
        for request, now in steps:
            case = perform(case, request, now=now, calendar=calendar, policy=policy).case
        done.append(case)
    return done


def best_time(work: Callable[[list[Case]], list[Case]], n: int, runs: int) -> float:
    """The shortest of ``runs`` timings of ``work`` on ``n`` new findings; raises unless it
    closes them all."""
    best = float("inf")
    for _ in range(runs):
        cases = new_cases(n)
        gc.collect()
        started = time.perf_counter()
        done = work(cases)
        best = min(best, time.perf_counter() - started)
        if not all(case.state is State.CLOSED for case in done):
            raise RuntimeError(f"{work.__name__}: a finding did not reach closed")
    return best


def bench_triggers(n: int) -> list[Row]:
    for work in (shared, per_finding, through_perform):
        best_time(work, 200, 1)  # warm-up
    count = n * len(TRIGGERS)
    shared_s = best_time(shared, n, 3)
    peer_s = best_time(per_finding, n, 1)  # a machine costs far more than its triggers
    perform_s = best_time(through_perform, n, 3)
    # The machines' triggers alone, prebuilt: what the construction in peer_s costs.
    prebuilt = [(case, build_machine(model=case)) for case in new_cases(min(n // 4, 1_000))]
    gc.collect()
    started = time.perf_counter()
    for case, machine in prebuilt:
        for name in TRIGGERS:
            machine.events[name].trigger(case)
    prebuilt_s = time.perf_counter() - started
    prebuilt_rate = len(prebuilt) * len(TRIGGERS) / prebuilt_s
    speedup = peer_s / shared_s
    return [
        ("1", f"triggers/s, shared MACHINE, {n:,} findings x {len(TRIGGERS)}",
         rate(count, shared_s), f"{rate(count, peer_s)} machine per finding (built+triggered)",
         f"{speedup:.1f}x", f">= {SPEEDUP_TARGET:.0f}x", verdict(speedup >= SPEEDUP_TARGET)),
        info("  per-finding machine, triggers only", "",
             f"{rate(prebuilt_rate)} ({len(prebuilt):,} prebuilt machines), "
             f"{prebuilt_rate * shared_s / count:.2f}x shared"),
        info("  perform() (validate, deadlines, trigger)", rate(count, perform_s),
             f"{rate(count, shared_s)} bare shared trigger, {shared_s / perform_s:.2f}x"),
    ]  # fmt: skip


# -- section 2: committed actions per second on SQLite ---------------------------------------

Params = dict[str, Any]
Snapshot = dict[str, list[Params]]  # table -> the finding's rows, in id order


@dataclass(frozen=True)
class Write:
    """One statement of a replayed action. Text parameters naming the template finding's ref
    are rewritten for the finding acted on (refs all have the same length: same sizes)."""

    sql: str
    params: Params
    with_ref: tuple[str, ...]  # the parameters whose text names the template finding

    def bind(self, template: str, ref: str, finding_id: int, version: int) -> Params:
        params = {**self.params, "_finding_id": finding_id, "_version": version}
        for name in self.with_ref:
            params[name] = params[name].replace(template, ref)
        return params


def write(sql: str, params: Params, template: str) -> Write:
    return Write(sql, params, tuple(k for k, v in params.items() if template in str(v)))


def child_tables(conn: sqlite3.Connection) -> list[str]:
    """Tables whose rows belong to a finding (a ``finding_id`` column)."""
    tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [
        name
        for (name,) in tables.fetchall()
        if any(c[1] == "finding_id" for c in conn.execute(f"PRAGMA table_info({name})"))
    ]


def snapshot(conn: sqlite3.Connection, finding_id: int, tables: Sequence[str]) -> Snapshot:
    def rows(table: str, key: str) -> list[Params]:
        cur = conn.execute(f'SELECT * FROM "{table}" WHERE {key} = ? ORDER BY id', (finding_id,))
        return [dict(zip([d[0] for d in cur.description], v, strict=True)) for v in cur]

    return {"finding": rows("finding", "id")} | {t: rows(t, "finding_id") for t in tables}


def replays(shots: Sequence[Snapshot], tables: Sequence[str], template: str) -> list[list[Write]]:
    """Per step, from the template finding's snapshots before and after it: the UPDATE of the
    finding (cap's sets a fixed list of lifecycle columns: here every column a step changes)
    and the rows added or changed in its tables (no step deletes any)."""
    findings = [shot["finding"][0] for shot in shots]
    lifecycle = sorted(
        {c for a, b in itertools.pairwise(findings) for c in b if b[c] != a[c]} - {"id", "version"}
    )
    sets = ", ".join(f'"{c}" = :{c}' for c in lifecycle)
    update = (
        f"UPDATE finding SET {sets}, "
        "version = version + 1 WHERE id = :_finding_id AND version = :_version"
    )
    steps = []
    for before, after in itertools.pairwise(shots):
        writes = [write(update, {c: after["finding"][0][c] for c in lifecycle}, template)]
        for table in tables:
            old = {row["id"]: row for row in before[table]}
            for n, row in enumerate(after[table]):
                fields = {k: v for k, v in row.items() if k not in ("id", "finding_id")}
                if row["id"] not in old:
                    columns = ", ".join(f'"{k}"' for k in [*fields, "finding_id"])
                    values = ", ".join([*(f":{k}" for k in fields), ":_finding_id"])
                    sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"
                    writes.append(write(sql, fields, template))
                elif row != old[row["id"]]:
                    changed = {k: v for k, v in fields.items() if v != old[row["id"]][k]}
                    nth = f"SELECT id FROM {table} WHERE finding_id = :_finding_id ORDER BY id"
                    sets = ", ".join(f'"{k}" = :{k}' for k in changed)
                    sql = f"UPDATE {table} SET {sets} WHERE id = ({nth} LIMIT 1 OFFSET {n})"
                    writes.append(write(sql, changed, template))
        steps.append(writes)
    return steps


def raw_act(
    cur: sqlite3.Cursor,
    writes: Sequence[Write],
    template: str,
    ref: str,
    finding_id: int,
    version: int,
) -> None:
    """One action with plain sqlite3 (``version``: the finding's before it)."""
    cur.execute("BEGIN IMMEDIATE")
    try:
        for i, write in enumerate(writes):
            cur.execute(write.sql, write.bind(template, ref, finding_id, version))
            if i == 0 and cur.rowcount != 1:
                raise RuntimeError(f"raw: finding {ref} is not at version {version}")
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise


def written_rows(path: Path) -> dict[str, int]:
    """What a file holds, to check that cap and raw wrote the same."""
    conn = sqlite3.connect(path)
    try:
        counts = dict(conn.execute("SELECT 'finding ' || state, count(*) FROM finding GROUP BY 1"))
        for table in child_tables(conn):
            counts[f"{table} rows"] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        size = "SELECT coalesce(sum(length(text_body) + length(html_body)), 0) FROM outbox"
        counts["outbox bytes"] = conn.execute(size).fetchone()[0]
        return counts
    finally:
        conn.close()


def bench_sqlite(sizes: Sizes, tmp: Path) -> tuple[list[Row], str]:
    from cap.config import Settings
    from cap.domain.inputs import PlanAction, PlanInput
    from cap.workflow import Workflow

    cap_path, raw_path = tmp / "cap.db", tmp / "raw.db"
    url = f"sqlite:///{cap_path}"
    with migrated(url) as db:
        wf = Workflow(db=db, settings=Settings(database_url=url, mail_dir=tmp / "mail"))
        refs = log_findings(wf, sizes.warmup + sizes.sqlite, LOGGED_AT, found_on=FOUND_ON)
        if len({len(ref) for ref in refs}) != 1:
            raise RuntimeError("refs of different lengths: the raw replay would change row sizes")
        db.engine.dispose()
        source, target = sqlite3.connect(cap_path), sqlite3.connect(raw_path)
        source.backup(target)  # the same starting point for raw sqlite3, WAL included
        source.close()
        target.close()
        plan = PlanInput(
            root_cause="Peak-season orders planned without capacity; overtime not capped.",
            actions=[
                PlanAction(
                    description="Cap weekly hours at 60 including overtime",
                    owner="HR manager",
                    due=date(2026, 4, 30),
                ),
                PlanAction(
                    description="Hire 40 seasonal workers before peak",
                    owner="Plant manager",
                    due=date(2026, 6, 30),
                ),
            ],
        )

        def cap_act(ref: str, step: Step) -> None:
            # view=False: the use case as the CLI runs it; showing the finding is another read.
            wf.act(
                ref,
                step.request(),
                now=step.now,
                view=False,
                plan=plan if step.action is Action.SUBMIT_PLAN else None,
            )

        # Warm up cap and record what it writes for the first warm-up finding, step by step.
        warm, timed = refs[: sizes.warmup], refs[sizes.warmup :]
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
        steps = replays(shots, tables, template)

        conn = sqlite3.connect(raw_path, isolation_level=None, timeout=30)
        for pragma in (
            "journal_mode=WAL",
            "busy_timeout=30000",
            "foreign_keys=ON",
            "synchronous=NORMAL",
        ):
            conn.execute(f"PRAGMA {pragma}")  # as cap.store.db sets up its connections
        cur = conn.cursor()
        for version, writes in enumerate(steps, start=1):
            for ref in warm:
                raw_act(cur, writes, template, ref, ids[ref], version)
        # cap and raw take turns, a chunk of findings each; each side's time is its chunks'.
        cap_s: dict[Step, float] = dict.fromkeys(SEQUENCE, 0.0)
        raw_s = cap_s.copy()
        for version, (step, writes) in enumerate(zip(SEQUENCE, steps, strict=True), start=1):
            gc.collect()
            for i, first in enumerate(range(0, len(timed), CHUNK)):
                chunk = timed[first : first + CHUNK]
                for side in ("cap", "raw") if i % 2 == 0 else ("raw", "cap"):
                    started = time.perf_counter()
                    if side == "cap":
                        for ref in chunk:
                            cap_act(ref, step)
                        cap_s[step] += time.perf_counter() - started
                    else:
                        for ref in chunk:
                            raw_act(cur, writes, template, ref, ids[ref], version)
                        raw_s[step] += time.perf_counter() - started
        conn.close()

    cap_rows, raw_rows = written_rows(cap_path), written_rows(raw_path)
    # Messages differ by a few bytes per finding (signed link, encoding): sizes ~equal.
    cap_bytes, raw_bytes = cap_rows.pop("outbox bytes"), raw_rows.pop("outbox bytes")
    ok = (
        cap_rows == raw_rows
        and cap_rows.get(f"finding {State.CLOSED.value}") == len(refs)
        and abs(cap_bytes - raw_bytes) <= 0.01 * max(cap_bytes, 1)
    )
    shown = ", ".join(f"{v:,} {k}" for k, v in cap_rows.items())
    check = (
        f"both files: {shown}; outbox messages {mib(cap_bytes)} (raw {mib(raw_bytes)})"
        if ok
        else f"MISMATCH cap: {cap_rows} raw: {raw_rows}"
    )
    n, actions = len(timed), len(timed) * len(SEQUENCE)
    cap_total, raw_total = sum(cap_s.values()), sum(raw_s.values())
    fraction = raw_total / cap_total
    table: list[Row] = [
        ("2", f"committed actions/s on SQLite, {actions:,} acts", rate(actions, cap_total),
         f"{rate(actions, raw_total)} raw sqlite3, same writes", f"1/{1 / fraction:.1f}",
         f">= 1/{1 / SQLITE_FRACTION_TARGET:.0f}",
         verdict(fraction >= SQLITE_FRACTION_TARGET and ok)),
    ]  # fmt: skip
    for step, writes in zip(SEQUENCE, steps, strict=True):
        c, r = cap_s[step], raw_s[step]
        table.append(
            info(
                f"  {step.action.value} ({n:,} acts, {len(writes)} rows each)",
                f"{rate(n, c)} {c / n * 1e3:.2f} ms",
                f"{rate(n, r)} {r / n * 1e3:.3f} ms raw, 1/{c / r:.1f}",
            )
        )
    return table, check


# -- section 3: resident memory, measured in fresh child processes ---------------------------


def settled_rss() -> int:
    """VmRSS after a full collection (the peak from ``resource`` where /proc is missing)."""
    gc.collect()
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def probe(kind: str, n: int, batches: int) -> dict[str, Any]:
    """In a child process: RSS before, with ``n`` cases, and after triggering them; or, for
    ``batches``, after each batch of ``n`` cases created, triggered and dropped."""
    notify = MACHINE.events[Action.NOTIFY.value]
    for case in new_cases(10):  # the code paths' one-off allocations go into the baseline
        notify.trigger(case)
        build_machine(model=new_cases(1)[0])
    before = settled_rss()
    if kind == "batches":
        after = []
        for _ in range(batches):
            cases = new_cases(n)
            for case in cases:
                notify.trigger(case)
            if any(case.state is not State.AWAITING_PLAN for case in cases):
                raise RuntimeError("a case did not reach awaiting_plan")
            del cases
            after.append(settled_rss())
        return {"before": before, "after_batch": after}
    cases = new_cases(n)
    with_cases = settled_rss()
    machines = []
    for case in cases:
        if kind == "shared":
            notify.trigger(case)
        else:
            machines.append(build_machine(model=case))
            machines[-1].events[Action.NOTIFY.value].trigger(case)
    triggered = settled_rss()
    if any(case.state is not State.AWAITING_PLAN for case in cases):
        raise RuntimeError("a case did not reach awaiting_plan")
    return {"before": before, "with_cases": with_cases, "triggered": triggered}


def run_probe(kind: str, n: int, batches: int = 0) -> dict[str, Any]:
    command = [sys.executable, __file__, "--probe", kind, str(n), str(batches)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"probe {kind} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def bench_memory(sizes: Sizes) -> list[Row]:
    shared_probe = run_probe("shared", sizes.rss)
    peer = run_probe("per_finding", sizes.rss_peer)
    batches: list[int] = run_probe("batches", sizes.batch, sizes.batches)["after_batch"]
    case_b = (shared_probe["with_cases"] - shared_probe["before"]) / sizes.rss
    shared_b = (shared_probe["triggered"] - shared_probe["with_cases"]) / sizes.rss
    peer_b = (peer["triggered"] - peer["with_cases"]) / sizes.rss_peer
    n = sizes.rss
    shown = [batches[i - 1] for i in (1, 5, 10) if i <= len(batches)]
    growth = shown[-1] - shown[0]
    return [
        ("3", f"RSS added per finding by the machine, {n:,}", f"{shared_b:,.1f} B",
         f"{peer_b:,.0f} B machine per finding", f"{shared_b / peer_b:.4f}" if peer_b else "n/a",
         f"<= {SHARED_BYTES_PER_FINDING_LIMIT:.0f} B (flat)",
         verdict(shared_b <= SHARED_BYTES_PER_FINDING_LIMIT)),
        info(f"  total RSS added, {n:,} findings", mib((case_b + shared_b) * n),
             f"{mib((case_b + peer_b) * n)} x{n:,} (extrapolated from {sizes.rss_peer:,})"),
        info("  the Case objects themselves, per finding", f"{case_b:,.0f} B",
             f"a machine per finding costs as much as {peer_b / case_b:,.0f} Cases"
             if case_b > 0 else "n/a"),
        ("3", f"RSS growth, batches 1->10 of {sizes.batch:,} (drop each)", mib(growth),
         "RSS after batch 1/5/10: " + " / ".join(mib(v) for v in shown), "",
         f"< {mib(BATCH_GROWTH_LIMIT)}", verdict(growth < BATCH_GROWTH_LIMIT)),
    ]  # fmt: skip


def main() -> int:
    arguments = parser(__doc__, "smaller sizes (under ~20 s)")
    arguments.add_argument("--probe", nargs=3, help=argparse.SUPPRESS)  # a memory probe child
    args = arguments.parse_args()
    if args.probe:
        kind, n, batches = args.probe
        print(json.dumps(probe(kind, int(n), int(batches))))
        return 0
    sizes = QUICK if args.quick else DEFAULT
    progress(f"1/3 triggers ({sizes.triggers:,} findings) ...")
    rows = measured("1", "triggers/s", lambda: bench_triggers(sizes.triggers))
    progress(f"2/3 SQLite ({sizes.sqlite:,} findings x {len(SEQUENCE)} actions) ...")
    checks: list[str] = []

    def sqlite_section() -> list[Row]:
        with tempfile.TemporaryDirectory(prefix="cap-bench-") as tmp:
            section, check = bench_sqlite(sizes, Path(tmp))
        checks.append(check)
        return section

    rows += measured("2", "committed actions/s on SQLite", sqlite_section)
    progress(f"3/3 memory ({sizes.rss:,} findings, child processes) ...")
    rows += measured("3", "RSS per finding", lambda: bench_memory(sizes))
    print_report(
        f"cap lifecycle benchmark ({'quick' if args.quick else 'default'} run); sequence per "
        f"finding: {' -> '.join(TRIGGERS)}",
        [f"SQLite {sqlite3.sqlite_version}", f"transitions {transitions.__version__}"],
        rows,
        [
            "1: best of 3 for the shared machine and perform(); one run for the machine per "
            "finding (build_machine(model=case), construction counted).",
            "2: one run after a warm-up; cap = Workflow.act(view=False): read, perform, write. "
            "raw = plain sqlite3: BEGIN IMMEDIATE; UPDATE finding SET <lifecycle columns>, "
            "version = version + 1 WHERE id AND version; the rows cap wrote in the finding's "
            "tables for a warm-up finding; COMMIT. Same schema (a copy of the migrated file), "
            f"WAL, synchronous=NORMAL, foreign_keys=ON; chunks of {CHUNK} findings in turn.",
            *(f"   check: {check}" for check in checks),
            "3: VmRSS in fresh child processes after gc.collect(); bytes per finding = RSS "
            "delta / findings held, one trigger (notify) each. The machine per finding is "
            f"measured on {sizes.rss_peer:,} findings and multiplied up (each is independent).",
        ],
    )
    return 0


if __name__ == "__main__":
    if "--probe" in sys.argv:
        sys.exit(main())  # a child process: let its failure show
    run_report(main)
