"""Findings: log, list, show, import, evidence, and one command per action."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cap.cli.base import (
    JsonOption,
    actor_of,
    database_now,
    echo_json,
    finding_app,
    history,
    local_time,
    open_workflow,
    parse_date,
    parse_instant,
    table,
    warn,
)
from cap.domain.model import Action, Area, DeadlineKind, Severity, Source, State
from cap.errors import InvalidInput

if TYPE_CHECKING:
    from cap.config import Settings
    from cap.domain.inputs import PlanInput
    from cap.workflow import EvidenceFile, FindingView

# -- findings --------------------------------------------------------------------------------


@finding_app.command("add")
def finding_add(
    contract: Annotated[str, typer.Option(help="Reference of the contract concerned.")],
    severity: Annotated[Severity, typer.Option(help="How serious the breach is.")],
    area: Annotated[Area, typer.Option(help="Code-of-conduct area.")],
    source: Annotated[Source, typer.Option(help="Where the finding comes from.")],
    title: Annotated[str, typer.Option(help="One line saying what is wrong.")],
    description: Annotated[str, typer.Option(help="Details, evidence, context.")] = "",
    site: Annotated[str | None, typer.Option(help="Factory or site concerned.")] = None,
    site_country: Annotated[str | None, typer.Option(help="Country of the site, e.g. CN.")] = None,
    found_on: Annotated[
        str | None, typer.Option(help="Date found, YYYY-MM-DD (default today).")
    ] = None,
    external_id: Annotated[
        str | None,
        typer.Option(
            help="The audit report's own reference, e.g. EW-2026-017#3 (unique per contract)."
        ),
    ] = None,
    audit: Annotated[
        int | None,
        typer.Option(help="The audit it comes from (see `cap audit list`), of its supplier."),
    ] = None,
    actor: Annotated[str | None, typer.Option("--as", help="Who logs it (email).")] = None,
) -> None:
    """Log a non-compliance. Prints the new ref (e.g. NC-2026-0001) alone."""
    from cap.domain.inputs import FindingInput, parse

    data = parse(
        FindingInput,
        {
            "contract": contract,
            "severity": severity,
            "area": area,
            "source": source,
            "title": title,
            "description": description,
            "site": site,
            "site_country": site_country,
            "found_on": parse_date(found_on, "found-on"),
            "external_id": external_id,
        },
    )
    workflow = open_workflow()
    typer.echo(
        workflow.log_finding(data, actor=actor_of(actor), now=database_now(workflow), audit=audit)
    )


@finding_app.command("list")
def finding_list(
    state: Annotated[State | None, typer.Option(help="Only findings in this state.")] = None,
    supplier: Annotated[str | None, typer.Option(help="Only this supplier (org number).")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only findings past a deadline.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List findings."""
    from cap.workflow import FindingFilter

    workflow = open_workflow()
    rows = workflow.list_findings(
        FindingFilter(state=state, supplier=supplier, overdue=overdue), now=database_now(workflow)
    )
    if as_json:
        echo_json(rows)
        return
    table(
        rows,
        [
            ("ref", "REF"),
            ("state", "STATE"),
            ("severity", "SEVERITY"),
            ("area", "AREA"),
            ("supplier", "SUPPLIER"),
            ("due", "DUE"),
            ("overdue", "OVERDUE"),
            ("title", "TITLE"),
        ],
    )


@finding_app.command("show")
def finding_show(
    ref: Annotated[str, typer.Argument(help="The finding, e.g. NC-2026-0001.")],
    as_json: JsonOption = False,
) -> None:
    """Show a finding: details, deadlines, plans, decisions and its history."""
    workflow = open_workflow()
    view = workflow.show_finding(ref, now=database_now(workflow))
    if as_json:
        echo_json(view)
    else:
        _print_finding(view, workflow.settings.calendar.tz)


def _print_finding(v: FindingView, tz: tzinfo) -> None:
    """The finding as a person reads it: aligned fields, local times to the minute."""
    echo = typer.echo

    def when(value: datetime | None) -> str:
        return local_time(value, tz) or "-"

    echo(f"{v.ref}  {v.title}")
    pending_termination = bool(v.termination_proposed_by and v.state is State.SANCTION_REVIEW)
    site = v.site and v.site + (f", {v.site_country}" if v.site_country else "")
    termination = v.termination_proposed_by and (
        f"proposed by {v.termination_proposed_by}"
        + (", awaiting approval" if pending_termination else "")
    )
    request = v.extension_request
    asked = request and (
        f"until {request.until}"
        + (f" by {request.requested_by}" if request.requested_by else "")
        + (f": {request.reason}" if request.reason else "")
        + " (extend or decline-extension)"
    )
    fields = [
        ("state", v.state + ("  (OVERDUE)" if v.overdue else "")),
        ("severity", v.severity),
        ("area", v.area),
        ("source", v.source),
        ("supplier", f"{v.supplier} ({v.supplier_org_number})"),
        ("contract", v.contract),
        ("manager", v.contract_manager),
        ("external id", v.external_id),
        ("site", site),
        ("found on", v.found_on),
        ("notified", v.notified_at and when(v.notified_at)),
        ("plan due", v.plan_due and f"{v.plan_due} (end of day)"),
        ("remediation due", v.remediation_due and f"{v.remediation_due} (end of day)"),
        ("escalation", f"level {v.escalation_level}, {v.extensions} extension(s)"),
        ("extension asked", asked),
        ("termination", termination),
        ("next", ", ".join(v.allowed_actions) or "nothing (final)"),
    ]
    shown = [(label, value) for label, value in fields if value]
    width = max(len(label) for label, _ in shown)
    for label, value in shown:
        echo(f"  {label.ljust(width)}  {value}")
    if v.description:
        echo("")
        for line in v.description.splitlines():
            echo(f"  {line}")
    for p in v.plans:
        outcome = p.review_outcome or "not reviewed"
        echo(f"\nplan v{p.version} by {p.submitted_by} at {when(p.submitted_at)}: {outcome}")
        echo(f"  root cause: {p.root_cause}")
        for a in p.actions:
            echo(f"  - {a.description} ({a.owner}, by {a.due})")
        if p.review_reason:
            echo(f"  review: {p.review_reason}")
    if v.evidence:
        echo("\nevidence")
        for e in v.evidence:
            echo(f"  #{e.id} {e.file_name} ({e.size:,} bytes, sha256 {e.sha256[:12]}…)")
    if v.links:
        echo("\nlinks sent to the supplier")
        for link in v.links:
            status = (
                f"revoked {when(link.revoked_at)}"
                if link.revoked_at
                else f"expires {when(link.expires_at)}"
            )
            opened = (
                f"first opened {when(link.first_opened_at)}, last used "
                f"{when(link.last_opened_at)}, {link.uses} use(s)"
                if link.first_opened_at
                else "never opened"
            )
            echo(f"  #{link.id} to {link.address}, sent {when(link.created_at)}: {opened}; "
                 f"{status}")  # fmt: skip
    if v.decisions:
        echo("\ndecisions")
        unapproved = [i for i, d in enumerate(v.decisions) if not d.approved_by]
        # Only the latest unapproved proposal can still be pending; earlier ones were dropped
        # when the finding left sanction review.
        pending_index = unapproved[-1] if unapproved and pending_termination else None
        for i, d in enumerate(v.decisions):
            by = d.proposed_by
            if d.approved_by and d.approved_by != by:
                by += f", approved by {d.approved_by}"
            elif not d.approved_by:
                by += ", awaiting approval" if i == pending_index else ", not approved"
            echo(f"  {when(d.proposed_at)}  {d.outcome} ({by}): {d.rationale or ''}")
    echo("\nhistory")
    history(v.events, tz)


@finding_app.command("import")
def finding_import(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.", show_default=False)],
    actor: Annotated[str | None, typer.Option("--as", help="Who imports (email).")] = None,
    allow_duplicates: Annotated[
        bool,
        typer.Option(
            "--allow-duplicates",
            help="Import rows without external_id that look like a finding already logged.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import findings from CSV: all rows or none.

    Columns: contract, severity, area, source, title (required), description, site,
    site_country, found_on, external_id (optional). Comma or semicolon separated, UTF-8.
    A row whose external_id (the audit report's reference) is already a finding of its
    contract is skipped; a row without one that matches a finding in contract, title, site
    and found_on is refused as a probable duplicate, unless --allow-duplicates.
    """
    from cap.importer import read_findings

    who = actor_of(actor)
    workflow = open_workflow()
    now = database_now(workflow)
    rows = read_findings(
        file,
        max_rows=workflow.settings.import_max_rows,
        contracts={c.reference for c in workflow.list_contracts()},
        today=workflow.settings.calendar.local_date(now),
    )
    with ExitStack() as stack:
        progress: Callable[[int], None] | None = None
        # A bar on a terminal only: elsewhere click prints its label alone, a stray line
        # before the error of a refused import.
        if sys.stderr.isatty():
            bar = typer.progressbar(length=len(rows), label="importing", file=sys.stderr)
            progress = stack.enter_context(bar).update
        result = workflow.log_findings(
            [r.finding for r in rows],
            actor=who,
            now=now,
            where=lambda i: f"{file}:{rows[i].line}",
            progress=progress,
            allow_duplicates=allow_duplicates,
        )
    skipped = [
        {"line": rows[s.index].line, "external_id": s.external_id, "ref": s.ref}
        for s in result.skipped
    ]
    if as_json:
        echo_json({"imported": len(result.refs), "refs": result.refs, "skipped": skipped})
        return
    skipped_note = f"skipped {len(skipped)} already imported (external_id)"
    if not result.refs:
        typer.echo(f"nothing new to import; {skipped_note}")
        return
    imported = f"imported {len(result.refs)} findings: {result.refs[0]} .. {result.refs[-1]}"
    typer.echo(f"{imported}; {skipped_note}" if skipped else imported)


@finding_app.command("attach")
def finding_attach(
    ref: Annotated[str, typer.Argument(help="The finding.")],
    files: Annotated[list[Path], typer.Argument(help="Files to attach as evidence.")],
    actor: Annotated[str | None, typer.Option("--as", help="Who attaches them (email).")] = None,
) -> None:
    """Attach evidence files to a finding without changing its state."""
    workflow = open_workflow()
    added = workflow.add_evidence(
        ref,
        _read_files(files, workflow.settings),
        actor=actor_of(actor),
        now=database_now(workflow),
    )
    for e in added:
        typer.echo(f"attached #{e.id} {e.file_name} ({e.size:,} bytes)")


@finding_app.command("evidence")
def finding_evidence(
    ref: Annotated[str, typer.Argument(help="The finding.")],
    evidence_id: Annotated[int, typer.Argument(help="The evidence number (see show).")],
    out: Annotated[Path, typer.Option(help="Where to write the file.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the file if it exists.")
    ] = False,
) -> None:
    """Save an evidence file of a finding to disk (an existing file only with --force)."""
    meta, content = open_workflow().evidence_content(ref, evidence_id)
    try:
        # "x" refuses an existing file in the same system call that creates it.
        with out.open("wb" if force else "xb") as handle:
            handle.write(content)
    except FileExistsError:
        raise InvalidInput(f"out: {out} exists; add --force to overwrite it") from None
    except OSError as exc:
        raise InvalidInput(f"out: cannot write {out} ({exc.strerror})") from None
    typer.echo(f"wrote {meta.file_name} ({meta.size:,} bytes) to {out}")


def _read_files(paths: Sequence[Path], settings: Settings) -> list[EvidenceFile]:
    import mimetypes

    from cap.workflow import EvidenceFile

    files = []
    for path in paths:
        try:
            size = path.stat().st_size
            if size > settings.evidence_max_bytes:
                raise InvalidInput(
                    f"evidence: {path} is {size:,} bytes; the limit is "
                    f"{settings.evidence_max_bytes:,} (CAP_EVIDENCE_MAX_BYTES)"
                )
            content = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"evidence: cannot read {path} ({exc.strerror})") from None
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files.append(EvidenceFile(path.name, content, kind))
    return files


def _read_plan(path: Path | None) -> PlanInput | None:
    from cap.domain.inputs import PlanInput, parse

    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"file: cannot read {path} ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"file: {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"file: {path} must hold a JSON object with root_cause and actions")
    return parse(PlanInput, data, where=str(path))


# -- one command per action ------------------------------------------------------------------

_P = inspect.Parameter


def _opt(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return _P(name, _P.KEYWORD_ONLY, default=default, annotation=annotation)


_COMMON = [
    _opt("actor", Annotated[str | None, typer.Option("--as", help="Who did it (email).")]),
    _opt(
        "at",
        Annotated[
            str | None,
            typer.Option(help="When it happened, ISO 8601 with offset (default: now)."),
        ],
    ),
    _opt(
        "if_version",
        Annotated[
            int | None,
            typer.Option(help="Refuse if the finding changed since this version (see show)."),
        ],
    ),
    _opt("as_json", JsonOption, False),
]
_REASON = _opt("reason", Annotated[str | None, typer.Option(help="Why (recorded and sent).")])
_NOTE = _opt("note", Annotated[str | None, typer.Option(help="A note for the record.")])
_UNTIL = _opt("until", Annotated[str | None, typer.Option(help="New deadline, YYYY-MM-DD.")])

_ACTION_OPTIONS: dict[Action, tuple[str, list[inspect.Parameter]]] = {
    Action.NOTIFY: ("Communicate the finding to the supplier and request a plan.", []),
    Action.SUBMIT_PLAN: (
        "Record the supplier's corrective action plan.",
        [
            _opt(
                "file",
                Annotated[
                    Path | None,
                    typer.Option(help="PLAN.json with root_cause and actions."),
                ],
            )
        ],
    ),
    Action.ACCEPT_PLAN: ("Accept the plan: remediation starts.", [_NOTE]),
    Action.REJECT_PLAN: (
        "Reject the plan with reasons; a revision is due (default 14 days).",
        [_REASON, _UNTIL],
    ),
    Action.REPORT_REMEDIATION: (
        "Record that the supplier reports the non-compliance corrected.",
        [
            _NOTE,
            _opt(
                "evidence",
                Annotated[list[Path] | None, typer.Option(help="Evidence file (repeatable).")],
            ),
        ],
    ),
    Action.VERIFY: ("Verify the correction and close the finding.", [_NOTE]),
    Action.REJECT_REMEDIATION: (
        "The correction is not sufficient: back to remediation.",
        [_REASON],
    ),
    Action.ESCALATE: ("Send the finding to sanction review.", [_REASON]),
    Action.REQUEST_EXTENSION: (
        "Record the supplier's request for more time on the deadline it owes now (a newer "
        "request replaces one not yet answered); the contract manager is emailed. Grant it with "
        "extend, or decline-extension.",
        [
            _opt(
                "until",
                Annotated[
                    str | None,
                    typer.Option(
                        help="The date asked for, YYYY-MM-DD (after the deadline in force)."
                    ),
                ],
            ),
            _opt(
                "reason",
                Annotated[
                    str | None, typer.Option(help="Why the supplier needs it (recorded and sent).")
                ],
            ),
        ],
    ),
    Action.EXTEND: (
        "Extend a deadline (from sanction review: and return); grants a pending request.",
        [
            _UNTIL,
            _REASON,
            _opt(
                "deadline",
                Annotated[
                    DeadlineKind | None,
                    typer.Option(help="Which deadline (default: the one that applies)."),
                ],
            ),
        ],
    ),
    Action.DECLINE_EXTENSION: (
        "Decline the supplier's pending extension request; the deadline stands and the supplier "
        "is told why.",
        [_REASON],
    ),
    Action.RESUME: ("End the sanction review without sanction, deadlines kept.", [_REASON]),
    Action.WARN: ("Decide a warning and return from sanction review.", [_REASON]),
    Action.PENALISE: ("Decide a contractual penalty and return from sanction review.", [_REASON]),
    Action.TERMINATE: (
        "Propose contract termination (needs another person's approval).",
        [_REASON],
    ),
    Action.APPROVE_TERMINATION: ("Approve a proposed termination (not the proposer).", [_NOTE]),
    Action.WITHDRAW: ("Withdraw the finding (logged in error, not substantiated...).", [_REASON]),
}


def _action_command(action: Action) -> Callable[..., None]:
    help_text, extra = _ACTION_OPTIONS[action]

    def command(ref: str, **options: Any) -> None:
        from cap.domain.lifecycle import ActionRequest

        asked = parse_instant(options.get("at"))
        workflow = open_workflow()
        now = database_now(workflow)
        at = asked or now
        plan = _read_plan(options.get("file")) if action is Action.SUBMIT_PLAN else None
        if action is Action.SUBMIT_PLAN and plan is None:
            raise InvalidInput("file: submit-plan needs --file PLAN.json")
        evidence = _read_files(options.get("evidence") or [], workflow.settings)
        request = ActionRequest(
            action=action,
            actor=actor_of(options.get("actor")),
            at=at,
            reason=options.get("reason"),
            note=options.get("note"),
            until=parse_date(options.get("until"), "until"),
            deadline=options.get("deadline"),
        )
        as_json = bool(options.get("as_json"))
        result = workflow.act(
            ref,
            request,
            now=now,
            plan=plan,
            evidence=evidence,
            expected_version=options.get("if_version"),
            view=as_json,
        )
        if as_json:
            echo_json(result.finding)
            warn(result.unreached)
            return
        event = result.event
        moved = (
            f"{event.from_state} -> {event.to_state}"
            if event.from_state != event.to_state
            else f"still {event.to_state}"
        )
        typer.echo(f"{result.ref}: {action.label} recorded ({moved})")
        for change in event.data.get("deadlines", []):
            rolled = f" ({change['requested']} is not a working day)" if change["requested"] else ""
            typer.echo(f"  {change['deadline']} due {change['new']}{rolled}")
        # The action is recorded even when one of its emails reaches nobody: say so.
        warn(result.unreached)

    ref_param = _P(
        "ref",
        _P.POSITIONAL_OR_KEYWORD,
        annotation=Annotated[str, typer.Argument(help="The finding, e.g. NC-2026-0001.")],
    )
    command.__signature__ = inspect.Signature([ref_param, *extra, *_COMMON])  # type: ignore[attr-defined]
    command.__doc__ = help_text
    command.__name__ = action.value
    return command


for _action in Action:
    finding_app.command(_action.label)(_action_command(_action))
