"""`cap audit add|list`: audits held; `cap plan audits|show`: the yearly follow-up plan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from cap.cli.base import (
    JsonOption,
    actor_of,
    app,
    cell,
    database_now,
    echo_json,
    local_time,
    open_workflow,
    parse_date,
    table,
)
from cap.domain.planning import AuditKind

if TYPE_CHECKING:
    from cap.workflow.audits import AuditPlanView, AuditView

audit_app = typer.Typer(help="Audits held: desktop and site audits of suppliers.",
                        no_args_is_help=True)  # fmt: skip
plan_app = typer.Typer(
    help="The yearly follow-up plan: whom to audit, by risk (see `cap risk list`).",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")
app.add_typer(plan_app, name="plan")

ActorOption = Annotated[str | None, typer.Option("--as", help="Who records it (email).")]


@audit_app.command("add")
def audit_add(
    org_number: Annotated[str, typer.Argument(help="The supplier's organisation number.")],
    kind: Annotated[AuditKind, typer.Option(help="Desktop (documents) or site (a visit).")],
    date: Annotated[str, typer.Option(help="The day it was held, YYYY-MM-DD.")],
    auditor: Annotated[str, typer.Option(help="Who audited: a firm or a person.")],
    report: Annotated[str, typer.Option(help="The reference of the audit's report.")],
    contract: Annotated[
        str | None, typer.Option(help="The contract audited, if one (its reference).")
    ] = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Record an audit held; it counts against the year's plan if the plan chose the
    supplier."""
    from cap.domain.inputs import parse
    from cap.workflow.audits import AuditInput

    data = parse(
        AuditInput,
        {
            "supplier": org_number,
            "kind": kind,
            "date": parse_date(date, "date"),
            "auditor": auditor,
            "report": report,
            "contract": contract,
        },
    )
    who = actor_of(actor)
    workflow = open_workflow()
    audit = workflow.add_audit(data, actor=who, now=database_now(workflow))
    if as_json:
        echo_json(audit)
        return
    planned = f", in the {audit.plan_year} plan" if audit.plan_year else ""
    who_when = f"{audit.supplier} ({audit.supplier_org_number}) on {audit.held_on.isoformat()}"
    typer.echo(f"audit {audit.id}: {audit.kind} audit of {who_when}{planned}")


@audit_app.command("list")
def audit_list(
    supplier: Annotated[str | None, typer.Option(help="Only this supplier (org number).")] = None,
    as_json: JsonOption = False,
) -> None:
    """The audits held, the latest first."""
    workflow = open_workflow()
    audits = workflow.list_audits(supplier)
    if as_json:
        echo_json(audits)
        return
    table(
        [_audit_row(a) for a in audits],
        [("id", "ID"), ("held_on", "HELD ON"), ("kind", "KIND"), ("org", "ORG NUMBER"),
         ("name", "SUPPLIER"), ("contract", "CONTRACT"), ("auditor", "AUDITOR"),
         ("report", "REPORT"), ("plan", "PLAN")],
    )  # fmt: skip


def _audit_row(a: AuditView) -> dict[str, object]:
    return {
        "id": a.id, "held_on": a.held_on.isoformat(), "kind": a.kind.value,
        "org": a.supplier_org_number, "name": a.supplier, "contract": a.contract,
        "auditor": a.auditor, "report": a.report, "plan": a.plan_year,
    }  # fmt: skip


YearOption = Annotated[int, typer.Option(help="The year, e.g. 2026.")]


@plan_app.command("audits")
def plan_audits(
    year: YearOption,
    capacity: Annotated[
        str,
        typer.Option(
            help="How many to audit: a share of the suppliers with a contract in force that "
            "year (15%) or a number (12)."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan without saving it.")
    ] = False,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Choose the suppliers to audit in a year: the highest risk first, at most one desktop
    audit per contract period. Saved, it replaces the year's plan until an audit is recorded
    against that."""
    who = actor_of(actor)
    workflow = open_workflow()
    plan = workflow.plan_audits(
        year, capacity, actor=who, now=database_now(workflow), save=not dry_run
    )
    if as_json:
        echo_json(plan)
        return
    saved = "saved" if plan.saved else "dry run, not saved"
    typer.echo(f"Audit plan {plan.year} ({saved}): capacity {plan.capacity} of "
               f"{plan.in_force} supplier{'' if plan.in_force == 1 else 's'} with a contract "
               f"in force, {len(plan.chosen)} chosen")  # fmt: skip
    _print_chosen(plan)
    if plan.left_out:
        typer.echo("left out (one desktop audit per contract period):")
        _aligned(
            [[c.org_number, cell(c.name), f"{c.score:.1f}", c.reason] for c in plan.left_out],
            ["ORG NUMBER", "NAME", "SCORE", "REASON"],
            indent="  ",
        )


@plan_app.command("show")
def plan_show(year: YearOption, as_json: JsonOption = False) -> None:
    """A year's saved plan and the audits recorded against it."""
    workflow = open_workflow()
    plan = workflow.show_audit_plan(year)
    if as_json:
        echo_json(plan)
        return
    made = local_time(plan.created_at, workflow.settings.calendar.tz)
    typer.echo(f"Audit plan {plan.year}: capacity {plan.capacity}, {len(plan.chosen)} chosen; "
               f"made {made} by {plan.created_by}")  # fmt: skip
    _print_chosen(plan, audits=True)


def _print_chosen(plan: AuditPlanView, *, audits: bool = False) -> None:
    rows = [
        [str(rank), c.org_number, cell(c.name), f"{c.score:.1f}"]
        + ([", ".join(map(str, c.audits)) or "-"] if audits else [])
        + [c.why]
        for rank, c in enumerate(plan.chosen, start=1)
    ]
    heads = ["RANK", "ORG NUMBER", "NAME", "SCORE"] + (["AUDITS"] if audits else []) + ["WHY"]
    _aligned(rows, heads)


def _aligned(rows: Sequence[Sequence[str]], heads: Sequence[str], *, indent: str = "") -> None:
    """Rows aligned under their headings; the last column in full (a reason is not cut)."""
    if not rows:
        typer.echo(f"{indent}(none)")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    for line in [heads, *rows]:
        typer.echo(
            indent + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        )
