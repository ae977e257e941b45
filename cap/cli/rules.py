"""Rules: check, simulate, reapply; the sweep that applies them; a finding's timeline."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cap.cli.base import (
    JsonOption,
    app,
    command_moment,
    database_now,
    echo_json,
    finding_app,
    history,
    local_time,
    open_workflow,
    parse_instant,
    settings_from_env,
    table,
    warn,
    within_calendar,
)
from cap.domain.model import Area, Severity

if TYPE_CHECKING:
    from cap.domain.rules import Rules
    from cap.workflow.results import NoticeView, StepView

rules_app = typer.Typer(
    help="The rules: deadlines, reminders and escalation ladders.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")


def _rules_at(path: Path | None) -> tuple[Path, Rules]:
    from cap.config import default_rules_path
    from cap.domain.rules import load_rules
    from cap.notify.render import KINDS

    chosen = path or settings_from_env().rules or default_rules_path()
    return chosen, load_rules(chosen, templates=KINDS)


def _local(rules: Rules, instant: datetime) -> str:
    return local_time(instant, rules.calendar.tz) or "-"


@rules_app.command("check")
def rules_check(
    path: Annotated[
        Path | None, typer.Argument(help="A rules file or folder (default: CAP_RULES or shipped).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate rules; an error names the file, the rule id and the field. Without PATH, the
    risk rules too (CAP_RISK_RULES or the shipped rules/risk.toml)."""
    chosen, rules = _rules_at(path)
    summary: dict[str, Any] = {
        "path": str(chosen),
        "valid": True,
        "digest": rules.digest,
        "deadlines": len(rules.deadlines),
        "steps": len(rules.steps),
        "notices": len(rules.notices),
        "timezone": rules.calendar.timezone,
    }
    risk = None
    if path is None:
        from cap.config import default_risk_rules_path
        from cap.domain.risk import load_risk_rules

        risk_path = settings_from_env().risk_rules or default_risk_rules_path()
        risk = load_risk_rules(risk_path)
        summary["risk"] = {"path": str(risk_path), "factors": len(risk.factors)}
    if as_json:
        echo_json(summary)
        return
    typer.echo(
        f"{chosen}: valid: {summary['deadlines']} deadline rules, {summary['steps']} ladder "
        f"steps, {summary['notices']} notices; calendar {rules.calendar.timezone}, "
        f"holidays {rules.calendar.country or 'none'} (digest {rules.digest})"
    )
    if risk is not None:
        typer.echo(f"{summary['risk']['path']}: valid: {len(risk.factors)} risk factors")


@rules_app.command("simulate")
def rules_simulate(
    severity: Annotated[Severity, typer.Option(help="Severity of the imagined finding.")],
    area: Annotated[Area, typer.Option(help="Its code-of-conduct area.")],
    notified: Annotated[str, typer.Option(help="When it is communicated, ISO 8601 with offset.")],
    rules_path: Annotated[
        Path | None, typer.Option("--rules", help="Rules to simulate (default: current).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the whole future of a finding notified at a moment: deadlines, reminders,
    escalations, with dates and recipients (nobody answers, nothing is extended), up to the
    first automatic escalation, which ends the ladders."""
    workflow = open_workflow(require_schema=False)  # the rules only: no database
    rules = _rules_at(rules_path)[1] if rules_path else workflow.settings.rule_set
    at = parse_instant(notified, "notified")
    assert at is not None
    simulation = workflow.simulate(severity, area, at, rules=rules)
    if as_json:
        echo_json(simulation)
        return
    _print_timeline(rules, simulation.timeline)


#: A timeline entry's status (see cap.domain.engine.TimelineStatus) in words.
_STATUS_WORDS = {
    "due": "due now (next sweep)",
    "catch_up_skip": "skipped by catch-up",
    "passed": "passed",
    "upcoming": "upcoming",
}


def _print_timeline(rules: Rules, entries: Sequence[NoticeView | StepView]) -> None:
    """The entries as a table; a timeline drawn at a moment (a finding's) gets a STATUS
    column, since its first entries may already be past."""
    from cap.workflow.results import UpcomingStep

    rows: list[dict[str, Any]] = []
    for entry in entries:
        if entry.kind == "deadline" and entry.due is not None:
            # A deadline is a date, due at the end of that day: say so, not "00:00 the next".
            due = entry.due
            when = f"{due:%Y-%m-%d} 24:00 {due:%a}"
            what = f"{entry.deadline} due {due:%a} {due.day} {due:%b %Y}, end of day"
        else:
            when = _local(rules, entry.at)
            what = f"{entry.kind}: {entry.template}"
            if entry.action:
                what += f" + {entry.action}"
        row = {"when": when, "what": what, "rule": entry.rule, "level": entry.level,
               "who": ", ".join(entry.to)}  # fmt: skip
        if isinstance(entry, UpcomingStep):
            row["standing"] = _STATUS_WORDS[entry.status]
        rows.append(row)
    status = [("standing", "STATUS")] if any("standing" in row for row in rows) else []
    table(
        rows,
        [("when", "WHEN (LOCAL)"), *status, ("what", "WHAT"), ("rule", "RULE"),
         ("level", "LEVEL"), ("who", "TO")],
    )  # fmt: skip


@rules_app.command("reapply")
def rules_reapply(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes only.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Recompute the deadlines of open findings under the current rules (deadlines a person
    chose are kept). Without --dry-run the changes are written, each with an event."""
    workflow = open_workflow()
    reapplied = workflow.reapply_rules(now=database_now(workflow), dry_run=dry_run)
    if as_json:
        echo_json(reapplied)
        return
    changes = reapplied.changes
    table(changes, [("ref", "REF"), ("deadline", "DEADLINE"), ("old", "FROM"), ("new", "TO")])
    verb = "would change" if dry_run else "changed"
    typer.echo(f"{verb} {len(changes)} deadline(s)")


@app.command("sweep")
def sweep(
    now: Annotated[
        str | None, typer.Option(help="The moment to sweep at, ISO 8601 (default: now).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, write nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Apply every reminder and escalation due now, queueing their emails (idempotent)."""
    asked = within_calendar(parse_instant(now, "now"), "now")
    workflow = open_workflow()
    ahead = "a sweep records what it does at that moment, so only --dry-run may look ahead"
    at = command_moment(workflow, asked, "now", why_not_ahead=None if dry_run else ahead)
    rules = workflow.settings.rule_set  # broken rules: refuse before doing anything
    due = workflow.count_due(now=at)
    label = f"sweeping {due} finding(s) and report(s)"
    with typer.progressbar(length=due, label=label, file=sys.stderr) as bar:
        report = workflow.sweep(now=at, dry_run=dry_run, progress=bar.update)
    if as_json:
        echo_json(report)
        warn(report.unreached)
        if report.errors:
            raise typer.Exit(1)
        return
    table(
        [
            {"ref": a.ref, "rule": a.rule, "outcome": a.outcome,
             "when": _local(rules, a.step_due_at), "template": a.template,
             "who": ", ".join(a.to), "action": a.action}
            for a in report.actions
        ],
        [("ref", "REF"), ("rule", "RULE"), ("outcome", "OUTCOME"), ("when", "DUE (LOCAL)"),
         ("template", "EMAIL"), ("who", "TO"), ("action", "ACTION")],
    )  # fmt: skip
    apply, skip, escalate, queue = (
        ("would apply", "would skip", "would escalate", "would queue")
        if dry_run
        else ("applied", "skipped", "escalated", "queued")
    )
    typer.echo(
        f"{apply} {report.steps} step(s) on {report.examined} finding(s) and report(s), {skip} "
        f"{report.skipped} by catch-up, {escalate} {report.escalated}, {queue} {report.queued} "
        f"email(s) in {report.seconds:.2f}s"
    )
    warn(report.unreached)
    for error in report.errors:
        typer.echo(f"error: {error} (retried in an hour)", err=True)
    if report.errors:
        raise typer.Exit(1)


@finding_app.command("timeline")
def finding_timeline(
    ref: Annotated[str, typer.Argument(help="The finding, e.g. NC-2026-0001.")],
    as_json: JsonOption = False,
) -> None:
    """A finding's past events and the steps the rules will take next."""
    workflow = open_workflow()
    view = workflow.timeline(ref, now=database_now(workflow))
    if as_json:
        echo_json(view)
        return
    rules = workflow.settings.rule_set
    typer.echo(f"{view.ref} ({view.state})\n\nhistory")
    history(view.events, rules.calendar.tz)
    typer.echo("\nnext")
    if not view.upcoming:
        typer.echo("  nothing: no deadline binds the finding in this state")
        return
    _print_timeline(rules, view.upcoming)
