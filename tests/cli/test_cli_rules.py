"""``cap rules``, ``cap sweep`` and ``cap finding timeline``, run as the real entry point.

Every test asserts what a user sees (exit code, stdout, stderr, ``--json``) and what the
command left in the database. The findings the commands work on are set up in-process through
the workflow, so each test runs few commands.

The dates follow the shipped rules (rules/default.toml, calendar Europe/Stockholm, Swedish
holidays): a major finding communicated on Tuesday 3 March 2026 at 10:00 has its plan due one
month later, on Friday 3 April, which is Good Friday, so the deadline rolls forward past Easter
to Tuesday 7 April (it passes at midnight that night). Its reminder a week before goes out on
Tuesday 31 March at 09:00 (summer time: +02:00).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from cap.config import default_risk_rules_path, default_rules_path
from cap.domain.inputs import PlanInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.risk import load_risk_rules
from cap.domain.rules import load_rules
from cap.notify.render import KINDS
from cap.store.db import Database
from cap.store.models import Event, Finding, OutboxMessage
from tests.cli.test_cli import PLAN
from tests.cli_runner import Cap, user_error, workflow_for
from tests.conftest import ANNA, LI, NOW, World, make_world

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: When the findings are communicated: Tuesday 3 March 2026, 10:00 in Stockholm (NOW).
NOTIFIED = NOW
#: The first reminder of such a finding's plan deadline (R-plan-7d), as a user types it.
REMINDER_AT = "2026-03-31T09:00:00+02:00"
SIMULATED = "2026-03-03T10:00:00+01:00"  # the same moment as NOTIFIED
PLAN_DUE = "2026-04-07"
REMEDIATION_DUE = "2026-09-03"


# -- helpers ---------------------------------------------------------------------------------


def notified(world: World, title: str = "Forced overtime at final assembly") -> str:
    """A major finding communicated at NOTIFIED (plan due 7 April, remediation 3 September)."""
    ref = world.finding(title=title, now=NOTIFIED)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOTIFIED), now=NOTIFIED)
    return ref


def edited_rules(folder: Path, name: str, old: str, new: str) -> Path:
    """A copy of the shipped rules with ``old`` (which must occur exactly once) replaced."""
    shipped = default_rules_path().read_text(encoding="utf-8")
    assert shipped.count(old) == 1, old
    path = folder / name
    path.write_text(shipped.replace(old, new), encoding="utf-8")
    return path


def broken_rules(folder: Path) -> Path:
    """The shipped rules with one typo: R-plan-7d's offset reads "-7 dayz"."""
    return edited_rules(
        folder,
        "broken.toml",
        'id = "R-plan-7d"\ndeadline = "plan"\noffset = "-7 days"',
        'id = "R-plan-7d"\ndeadline = "plan"\noffset = "-7 dayz"',
    )


@dataclass(frozen=True)
class Snapshot:
    """What a command may write: outbox rows, events, and each finding's version."""

    outbox: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    findings: list[tuple[Any, ...]]


def snapshot(url: str) -> Snapshot:
    db = Database(url)
    try:
        with db.read() as session:
            outbox = session.execute(
                select(
                    col(OutboxMessage.id),
                    col(Finding.ref),
                    col(OutboxMessage.kind),
                    col(OutboxMessage.recipient),
                    col(OutboxMessage.status),
                )
                .outerjoin(Finding, col(Finding.id) == col(OutboxMessage.finding_id))
                .order_by(col(OutboxMessage.id))
            ).all()
            events = session.execute(
                select(col(Finding.ref), col(Event.kind), col(Event.actor), col(Event.data))
                .join(Finding, col(Finding.id) == col(Event.finding_id))
                .order_by(col(Event.id))
            ).all()
            findings = session.execute(
                select(col(Finding.ref), col(Finding.version), col(Finding.plan_due),
                       col(Finding.next_check_at))
                .order_by(col(Finding.id))
            ).all()  # fmt: skip
    finally:
        db.engine.dispose()
    return Snapshot(
        [tuple(r) for r in outbox], [tuple(r) for r in events], [tuple(r) for r in findings]
    )


def table_rows(out: str) -> list[list[str]]:
    """The cells of a table printed by cap (columns are separated by two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if line.strip()]


def local(instant: str) -> datetime:
    return datetime.fromisoformat(instant).astimezone(STOCKHOLM)


# -- rules check -----------------------------------------------------------------------------


def test_rules_check_accepts_the_shipped_rules_and_names_a_broken_field(
    cap: Cap, tmp_path: Path
) -> None:
    broken = broken_rules(tmp_path)
    shipped = load_rules(default_rules_path(), templates=KINDS)

    out, summary, refused = (
        cap.ok("rules", "check"),
        cap.json("rules", "check"),
        cap.run("rules", "check", broken.name),
    )

    assert out.startswith(f"{default_rules_path()}: valid: "), out
    assert f"{len(shipped.steps)} ladder steps" in out
    assert f"(digest {shipped.digest})" in out
    assert summary["valid"] is True
    assert summary["path"] == str(default_rules_path())
    assert summary["digest"] == shipped.digest
    assert summary["steps"] == len(shipped.steps) > 0
    assert summary["timezone"] == "Europe/Stockholm"

    line = user_error(refused, code=2)
    assert line.startswith("error: broken.toml: "), line
    for word in ("R-plan-7d", "offset", "-7 dayz"):
        assert word in line, (word, line)
    assert refused.stdout == ""


def test_rules_check_checks_the_risk_rules_too(cap: Cap, tmp_path: Path) -> None:
    shipped = default_risk_rules_path()
    factors = len(load_risk_rules(shipped).factors)
    assert cap.ok("rules", "check").splitlines()[1] == f"{shipped}: valid: {factors} risk factors"
    assert cap.json("rules", "check")["risk"] == {"path": str(shipped), "factors": factors}
    broken = tmp_path / "risk.toml"
    broken.write_text(shipped.read_text("utf-8").replace("weight = 2", "weight = 'heavy'", 1))
    refused = cap.run("rules", "check", env={"CAP_RISK_RULES": str(broken)})
    line = user_error(refused, code=2)
    assert line.startswith(f"error: {broken}: ") and "weight" in line, line
    # A rules file named on the command line is checked alone.
    assert "risk" not in cap.json("rules", "check", str(default_rules_path()))


@dataclass(frozen=True)
class BrokenSweep:
    result: subprocess.CompletedProcess[str]
    rules: Path
    before: Snapshot
    after: Snapshot


@pytest.fixture(scope="module")
def broken_sweep(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> BrokenSweep:
    """``CAP_RULES=broken.toml cap sweep`` at the moment a finding's first reminder is due,
    run once for the tests that read its outcome."""
    tmp = tmp_path_factory.mktemp("broken-sweep")
    shutil.copy(sqlite_template, tmp / "cap.db")
    url = f"sqlite:///{tmp / 'cap.db'}"
    with workflow_for(url) as wf:
        notified(make_world(wf))
    rules = broken_rules(tmp)
    before = snapshot(url)
    result = Cap(url, tmp).run("sweep", "--now", REMINDER_AT, env={"CAP_RULES": str(rules)})
    return BrokenSweep(result, rules, before, snapshot(url))


def test_sweep_refuses_to_run_on_broken_rules(broken_sweep: BrokenSweep) -> None:
    result = broken_sweep.result
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: {broken_sweep.rules}: "), errors[0]
    for word in ("R-plan-7d", "offset", "-7 dayz"):
        assert word in errors[0], (word, errors[0])
    assert result.stdout == ""
    # The reminder was due: with valid rules the sweep would have written it.
    assert broken_sweep.after == broken_sweep.before


def test_sweep_on_broken_rules_prints_only_the_error(broken_sweep: BrokenSweep) -> None:
    line = user_error(broken_sweep.result, code=2)
    assert "R-plan-7d" in line


# -- rules simulate --------------------------------------------------------------------------


def test_rules_simulate_prints_the_whole_future_of_a_finding(cap: Cap) -> None:
    simulate = ["rules", "simulate", "--area", "forced_labour", "--notified"]
    out, major, critical, naive = (
        cap.ok(*simulate, SIMULATED, "--severity", "major"),
        cap.json(*simulate, SIMULATED, "--severity", "major"),
        cap.json(*simulate, SIMULATED, "--severity", "critical"),
        cap.run(*simulate, "2026-03-03T10:00:00", "--severity", "major"),
    )

    header, *rows = table_rows(out)
    assert header == ["WHEN (LOCAL)", "WHAT", "RULE", "LEVEL", "TO"]
    # (when, what, rule): the CAP request, then the plan ladder. The day before the deadline
    # is Easter Monday, so the last reminder moves back to Maundy Thursday.
    assert [tuple(r[:3]) for r in rows[:7]] == [
        ("2026-03-03 10:00 Tue", "notice: cap_requested", "N-cap-requested"),
        ("2026-03-31 09:00 Tue", "reminder: plan_reminder", "R-plan-7d"),
        ("2026-04-02 09:00 Thu", "reminder: plan_reminder", "R-plan-1d"),
        ("2026-04-07 24:00 Tue", "plan due Tue 7 Apr 2026, end of day", "-"),
        ("2026-04-08 09:00 Wed", "escalation: plan_overdue", "E-plan-1d"),
        ("2026-04-21 09:00 Tue", "escalation: formal_notice", "E-plan-14d"),
        ("2026-05-07 09:00 Thu", "escalation: sanction_review_opened + escalate", "E-plan-30d"),
    ]
    assert rows[0][4] == "supplier"
    assert rows[6][3:] == ["3", "decision_makers"]
    # The escalation ends the ladders: the remediation ladder (from August) never runs.
    assert rows[7:] == []

    assert major["notified"] == SIMULATED
    timeline = major["timeline"]
    instants = [datetime.fromisoformat(e["at"]) for e in timeline]
    assert instants == sorted(instants)
    assert [e["rule"] for e in timeline if e["kind"] != "deadline"] == [
        r[2] for r in rows if r[2] != "-"
    ]
    by_rule = {e["rule"]: e for e in timeline}
    assert by_rule["N-cap-requested"]["kind"] == "notice"
    assert local(by_rule["R-plan-7d"]["at"]) == datetime(2026, 3, 31, 9, 0, tzinfo=STOCKHOLM)
    assert (by_rule["E-plan-30d"]["action"], by_rule["E-plan-30d"]["level"]) == ("escalate", 3)
    deadlines = {e["deadline"]: local(e["at"]) for e in timeline if e["kind"] == "deadline"}
    assert deadlines == {"plan": datetime(2026, 4, 8, tzinfo=STOCKHOLM)}  # the end of 7 April
    # The date a person reads beside the instant it passes; every step names its deadline's.
    assert {e["due"] for e in timeline} == {"2026-04-07"}

    # Critical: a 7-day plan, a 3-month fix, and the compressed ladders.
    timeline = critical["timeline"]
    instants = [datetime.fromisoformat(e["at"]) for e in timeline]
    assert instants == sorted(instants)
    deadlines = {e["deadline"]: local(e["at"]) for e in timeline if e["kind"] == "deadline"}
    # The remediation deadline (3 June) comes after the escalation of 24 March: not listed.
    assert deadlines == {"plan": datetime(2026, 3, 11, tzinfo=STOCKHOLM)}  # the end of 10 March
    rules = [e["rule"] for e in timeline if e["deadline"] in (None, "plan") and e["rule"]]
    assert rules == [
        "N-cap-requested",
        "N-critical-alert",
        "R-plan-1d",
        "E-plan-1d",
        "E-plan-7d-critical",
        "E-plan-14d-critical",
    ]
    by_rule = {e["rule"]: e for e in timeline}
    assert local(by_rule["E-plan-14d-critical"]["at"]) == datetime(
        2026, 3, 24, 9, 0, tzinfo=STOCKHOLM
    )
    assert by_rule["E-plan-14d-critical"]["action"] == "escalate"
    assert by_rule["N-critical-alert"]["to"] == ["sustainability_manager"]
    assert timeline[-1]["rule"] == "E-plan-14d-critical"
    assert not {"R-plan-7d", "E-plan-30d", "R-remediation-7d"} & by_rule.keys()

    line = user_error(naive, code=2)
    assert line.startswith("error: notified: "), line
    assert "no UTC offset" in line


# -- sweep -----------------------------------------------------------------------------------


def test_sweep_dry_run_reports_then_a_sweep_applies_once(
    cap: Cap, world: World, sqlite_url: str
) -> None:
    ref = notified(world)
    before = snapshot(sqlite_url)
    assert [(kind, status) for _, _, kind, _, status in before.outbox] == [
        ("cap_requested", "queued")
    ]

    report = cap.json("sweep", "--now", REMINDER_AT, "--dry-run")
    assert (report["dry_run"], report["examined"], report["steps"]) == (True, 1, 1)
    # What the real sweep below queues, counted without writing it.
    assert (report["skipped"], report["escalated"], report["queued"]) == (0, 0, 1)
    assert report["errors"] == []
    [action] = report["actions"]
    assert (action["ref"], action["rule"], action["deadline"], action["due"]) == (
        ref,
        "R-plan-7d",
        "plan",
        PLAN_DUE,
    )
    assert (action["template"], action["to"], action["outcome"]) == (
        "plan_reminder",
        ["supplier"],
        "applied",
    )
    assert datetime.fromisoformat(action["step_due_at"]) == datetime.fromisoformat(REMINDER_AT)
    assert snapshot(sqlite_url) == before, "a dry run writes nothing"
    text = cap.ok("sweep", "--now", REMINDER_AT, "--dry-run").splitlines()[-1]
    assert text.startswith(
        "would apply 1 step(s) on 1 finding(s) and report(s), would skip 0 by catch-up"
    )
    assert "would queue 1 email(s)" in text
    assert snapshot(sqlite_url) == before

    out = cap.ok("sweep", "--now", REMINDER_AT)
    header, row, summary = out.splitlines()
    assert header.split()[:3] == ["REF", "RULE", "OUTCOME"]
    assert row.split()[:6] == [ref, "R-plan-7d", "applied", "2026-03-31", "09:00", "Tue"]
    assert "plan_reminder" in row
    assert summary.startswith(
        "applied 1 step(s) on 1 finding(s) and report(s), skipped 0 by catch-up, "
    )
    assert "queued 1 email(s)" in summary

    after = snapshot(sqlite_url)
    assert after.outbox == [
        *before.outbox,
        (before.outbox[-1][0] + 1, ref, "plan_reminder", LI, "queued"),
    ]
    [*_, (event_ref, kind, actor, data)] = after.events
    assert (event_ref, kind, actor, data["rule"], data["due"]) == (
        ref,
        "reminder",
        "cap",
        "R-plan-7d",
        PLAN_DUE,
    )
    assert data["notifications"]["queued"] == [
        {"kind": "plan_reminder", "to": LI, "role": "supplier"}
    ]
    assert after.events[: len(before.events)] == before.events

    nothing, summary = cap.ok("sweep", "--now", REMINDER_AT).splitlines()
    assert nothing == "(none)"
    assert summary.startswith("applied 0 step(s) on 0 finding(s) and report(s)"), summary
    assert "queued 0 email(s)" in summary
    assert snapshot(sqlite_url) == after


@dataclass(frozen=True)
class FailingSweep:
    broken: str
    fine: str
    table: subprocess.CompletedProcess[str]
    json_run: subprocess.CompletedProcess[str]
    after: Snapshot


@pytest.fixture(scope="module")
def failing_sweep(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> FailingSweep:
    """Two findings due for their first reminder, one of them with a corrupt ladder: ``cap
    sweep`` when the reminder is due, then ``cap sweep --json`` an hour later, when the broken
    finding is tried again."""
    tmp = tmp_path_factory.mktemp("failing-sweep")
    shutil.copy(sqlite_template, tmp / "cap.db")
    url = f"sqlite:///{tmp / 'cap.db'}"
    with workflow_for(url) as wf:
        world = make_world(wf)
        broken, fine = notified(world, title="Broken"), notified(world, title="Fine")
        with wf.db.write() as session:
            session.execute(
                update(Finding)
                .where(col(Finding.ref) == broken)
                .values(ladder={"plan": {"due": "garbage"}})
            )
    cap = Cap(url, tmp)
    table = cap.run("sweep", "--now", REMINDER_AT)
    an_hour_later = datetime.fromisoformat(REMINDER_AT) + timedelta(hours=1)
    json_run = cap.run("sweep", "--now", an_hour_later.isoformat(), "--json")
    return FailingSweep(broken, fine, table, json_run, snapshot(url))


def test_a_finding_that_breaks_the_sweep_is_reported_and_the_others_go_on(
    failing_sweep: FailingSweep,
) -> None:
    run = failing_sweep
    assert run.table.returncode == 1, (run.table.stdout, run.table.stderr)
    errors = [line for line in run.table.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, run.table.stderr
    assert errors[0].startswith(f"error: {run.broken}: ValueError: "), errors[0]
    assert errors[0].endswith("(retried in an hour)")
    *rows, summary = run.table.stdout.splitlines()
    assert [row.split()[:3] for row in rows[1:]] == [[run.fine, "R-plan-7d", "applied"]]
    assert summary.startswith("applied 1 step(s) on 2 finding(s) and report(s)"), summary
    assert [(ref, kind) for _, ref, kind, _, _ in run.after.outbox] == [
        (run.broken, "cap_requested"),
        (run.fine, "cap_requested"),
        (run.fine, "plan_reminder"),
    ]

    report = json.loads(run.json_run.stdout)
    assert (report["examined"], report["steps"], report["queued"]) == (1, 0, 0)
    [error] = report["errors"]
    assert error.startswith(f"{run.broken}: ValueError: "), error


def test_sweep_json_exits_non_zero_when_a_finding_failed(failing_sweep: FailingSweep) -> None:
    assert json.loads(failing_sweep.json_run.stdout)["errors"]
    assert failing_sweep.json_run.returncode == 1


# -- finding timeline ------------------------------------------------------------------------


def test_finding_timeline_shows_history_and_next_steps(cap: Cap, world: World) -> None:
    ref = notified(world)
    reminder_at = datetime.fromisoformat(REMINDER_AT)
    assert world.workflow.sweep(now=reminder_at).steps == 1  # R-plan-7d went out

    out, view = (
        cap.ok("finding", "timeline", ref),
        cap.json("finding", "timeline", ref),
    )

    head, rest = out.split("\n\nhistory\n", 1)
    history, upcoming = rest.split("\n\nnext\n", 1)
    assert head == f"{ref} (awaiting_plan)"
    header, *events = table_rows(history)
    assert header == ["WHEN (LOCAL)", "WHAT", "WHO", "STATE", "RULE OR WHY"]
    assert [row[1:] for row in events] == [
        ["logged", ANNA, "open"],
        ["notify", ANNA, "open -> awaiting_plan"],
        ["reminder", "cap", "R-plan-7d"],
    ]
    assert events[2][0] == "2026-03-31 09:00 Tue"
    header, *rows = table_rows(upcoming)
    assert header == ["WHEN (LOCAL)", "STATUS", "WHAT", "RULE", "LEVEL", "TO"]
    # Long past (the test runs after May 2026): the next sweep escalates, catching up.
    assert rows[0][:4] == [
        "2026-04-02 09:00 Thu", "skipped by catch-up", "reminder: plan_reminder", "R-plan-1d"
    ]  # fmt: skip
    assert [
        "2026-04-07 24:00 Tue",
        "passed",
        "plan due Tue 7 Apr 2026, end of day",
        "-",
        "0",
    ] in rows
    assert "R-plan-7d" not in upcoming, "a step already taken is history"
    assert rows[-1][1:4] == [
        "due now (next sweep)", "escalation: sanction_review_opened + escalate", "E-plan-30d"
    ]  # fmt: skip

    assert (view["ref"], view["state"]) == (ref, "awaiting_plan")
    assert [(e["kind"], e["actor"]) for e in view["events"]] == [
        ("logged", ANNA),
        ("notify", ANNA),
        ("reminder", "cap"),
    ]
    assert view["events"][2]["data"]["rule"] == "R-plan-7d"
    assert datetime.fromisoformat(view["events"][2]["at"]) == reminder_at
    upcoming_rules = [e["rule"] for e in view["upcoming"]]
    assert upcoming_rules[0] == "R-plan-1d"
    assert "R-plan-7d" not in upcoming_rules
    assert upcoming_rules[-1] == "E-plan-30d"  # the escalation ends the ladders
    assert not any(e["done"] for e in view["upcoming"])
    assert [e["status"] for e in view["upcoming"]][-1] == "due"
    instants = [datetime.fromisoformat(e["at"]) for e in view["upcoming"]]
    assert instants == sorted(instants)
    assert [r[3] for r in rows] == [e["rule"] or "-" for e in view["upcoming"]]


# -- rules reapply ---------------------------------------------------------------------------


def test_rules_reapply_moves_rule_deadlines_and_keeps_chosen_ones(
    cap: Cap, world: World, sqlite_url: str, tmp_path: Path
) -> None:
    ref = notified(world)
    extended = notified(world, title="Unpaid overtime")
    extended_at = NOTIFIED + timedelta(days=1)
    world.workflow.act(
        extended,
        ActionRequest(Action.EXTEND, ANNA, extended_at, until=date(2026, 4, 20), reason="Fire"),
        now=extended_at,
    )
    two_months = edited_rules(tmp_path, "two-months.toml", 'period = "1 month"',
                              'period = "2 months"')  # fmt: skip
    env = {"CAP_RULES": str(two_months)}
    before = snapshot(sqlite_url)
    # Two months from 3 March is Sunday 3 May: the deadline rolls to Monday 4 May.
    new_due = "2026-05-04"

    out = cap.ok("rules", "reapply", "--dry-run", env=env)
    assert table_rows(out) == [
        ["REF", "DEADLINE", "FROM", "TO"],
        [ref, "plan", PLAN_DUE, new_due],
        ["would change 1 deadline(s)"],
    ]
    assert snapshot(sqlite_url) == before, "a dry run changes nothing"

    out = cap.ok("rules", "reapply", env=env)
    assert table_rows(out)[1:] == [[ref, "plan", PLAN_DUE, new_due], ["changed 1 deadline(s)"]]
    view = cap.show(ref)
    assert (view["plan_due"], view["remediation_due"]) == (new_due, REMEDIATION_DUE)
    assert view["state"] == "awaiting_plan"
    last = view["events"][-1]
    assert (last["kind"], last["actor"], last["from_state"], last["to_state"]) == (
        "rules_reapplied",
        "cap",
        "awaiting_plan",
        "awaiting_plan",
    )
    assert last["data"]["deadlines"] == [
        {"deadline": "plan", "old": PLAN_DUE, "new": new_due, "requested": None}
    ]
    assert last["data"]["rules"] == load_rules(two_months, templates=KINDS).digest

    kept = world.workflow.show_finding(extended, now=datetime.now(UTC))
    assert (str(kept.plan_due), str(kept.remediation_due)) == ("2026-04-20", REMEDIATION_DUE)
    assert [e.kind for e in kept.events] == ["logged", "notify", "extend"]


def test_rules_reapply_leaves_a_deadline_already_met_alone(
    cap: Cap, world: World, tmp_path: Path
) -> None:
    ref = notified(world)
    at = NOTIFIED + timedelta(days=2)
    plan = PlanInput.model_validate(PLAN)
    world.workflow.act(ref, ActionRequest(Action.SUBMIT_PLAN, LI, at), now=at, plan=plan)
    world.workflow.act(ref, ActionRequest(Action.ACCEPT_PLAN, ANNA, at), now=at)
    two_months = edited_rules(tmp_path, "two-months.toml", 'period = "1 month"',
                              'period = "2 months"')  # fmt: skip
    report = cap.json("rules", "reapply", "--dry-run", env={"CAP_RULES": str(two_months)})
    assert report == {"dry_run": True, "changes": []}
