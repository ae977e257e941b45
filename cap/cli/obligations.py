"""`cap obligation list|show|add|receive|extend|waive`: the reports contracts oblige suppliers
to send (a social-risk report six months after the start, by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

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
    parse_instant,
    table,
)
from cap.domain.model import ObligationKind, ObligationState

if TYPE_CHECKING:
    from cap.domain.obligations import DutyAction
    from cap.workflow.results import ObligationView

obligation_app = typer.Typer(
    help="Reporting obligations: the reports contracts oblige suppliers to send, by a date.",
    no_args_is_help=True,
)
app.add_typer(obligation_app, name="obligation")

ActorOption = Annotated[str | None, typer.Option("--as", help="Who records it (email).")]
IdArgument = Annotated[int, typer.Argument(help="The report's number (`cap obligation list`).")]
AtOption = Annotated[
    str | None,
    typer.Option(help="When it was recorded, ISO 8601 with offset (default: now)."),
]


def report_name(view: ObligationView) -> str:
    """What people call the report: its title, or its kind in words."""
    from cap.domain.obligations import report_name as name

    return name(view.kind, view.title)


@obligation_app.command("list")
def obligation_list(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only reports still owed after their due day.")
    ] = False,
    state: Annotated[
        list[ObligationState] | None, typer.Option(help="Only these states (repeatable).")
    ] = None,
    contract: Annotated[str | None, typer.Option(help="Only this contract.")] = None,
    supplier: Annotated[str | None, typer.Option(help="Only this supplier (org number).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Reporting obligations, the earliest due first."""
    from cap.workflow.obligations import ObligationFilter

    workflow = open_workflow()
    where = ObligationFilter(
        overdue=overdue, states=tuple(state or ()), contract=contract, supplier=supplier
    )
    found = workflow.list_obligations(now=database_now(workflow), where=where)
    if as_json:
        echo_json(found)
        return
    if not found:
        typer.echo("No overdue reports." if overdue else "No reporting obligations.")
        return
    table(
        [_row(o) for o in found],
        [("id", "ID"), ("due", "DUE"), ("state", "STATE"), ("late", "OVERDUE"),
         ("contract", "CONTRACT"), ("supplier", "SUPPLIER"), ("report", "REPORT")],
    )  # fmt: skip


def _row(o: ObligationView) -> dict[str, object]:
    received = f" {o.received_on.isoformat()}" if o.received_on else ""
    return {
        "id": o.id,
        "due": o.due.isoformat(),
        "state": f"{o.state.value}{received}",
        "late": f"{o.days_overdue} d" if o.days_overdue else "",
        "contract": o.contract,
        "supplier": cell(o.supplier),
        "report": cell(report_name(o)),
    }


@obligation_app.command("show")
def obligation_show(report: IdArgument, as_json: JsonOption = False) -> None:
    """One report: where it stands, its trail and the steps its ladder still holds."""
    workflow = open_workflow()
    detail = workflow.show_obligation(report, now=database_now(workflow))
    if as_json:
        echo_json(detail)
        return
    o = detail.obligation
    tz = workflow.settings.calendar.tz
    typer.echo(f"report {o.id}: {report_name(o)}, contract {o.contract} ({o.supplier}, "
               f"{o.supplier_org_number})")  # fmt: skip
    late = f", {o.days_overdue} days overdue" if o.days_overdue else ""
    moved = f" (first due {o.first_due.isoformat()})" if o.first_due != o.due else ""
    typer.echo(f"  due {o.due.isoformat()}{moved}: {o.state.value}{late}")
    if o.received_on:
        typer.echo(f"  received on {o.received_on.isoformat()}")
    if detail.allowed:
        typer.echo(f"  allowed now: {', '.join(a.value for a in detail.allowed)}")
    typer.echo("history:")
    for e in detail.events:
        extra = ", ".join(f"{k}={v}" for k, v in e.data.items() if k != "notifications")
        typer.echo(f"  {local_time(e.at, tz)}  {e.kind:<13} {e.actor}  {cell(extra)}".rstrip())
    upcoming = [s for s in detail.timeline if not s.done]
    if upcoming:
        typer.echo("to come:")
        for s in upcoming:
            who = ", ".join(r.value for r in s.to)
            what = s.rule or f"the due day {s.due.isoformat()} ends"
            typer.echo(f"  {local_time(s.at, tz)}  {s.kind:<10} {what}  {who}".rstrip())


@obligation_app.command("add")
def obligation_add(
    contract: Annotated[str, typer.Argument(help="The contract's reference.")],
    kind: Annotated[ObligationKind, typer.Option(help="What is to be reported.")] = (
        ObligationKind.SOCIAL_RISK_REPORT
    ),
    due: Annotated[
        str | None,
        typer.Option(
            help="Due date, YYYY-MM-DD (default: the rules' report period after the "
            "contract's start)."
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="What the report is (required for --kind other).")
    ] = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Oblige a contract's supplier to send a report by a date. A contract recorded with a
    start date owes its social-risk report already; this adds others, or that one for a
    contract recorded before cap tracked reports."""
    who = actor_of(actor)
    workflow = open_workflow()
    view = workflow.add_obligation(
        contract, kind=kind, due=parse_date(due, "due"), title=title, actor=who,
        now=database_now(workflow),
    )  # fmt: skip
    if as_json:
        echo_json(view)
        return
    typer.echo(f"report {view.id}: {report_name(view)} for contract {view.contract}, due "
               f"{view.due.isoformat()}")  # fmt: skip


@obligation_app.command("receive")
def obligation_receive(
    report: IdArgument,
    on: Annotated[str, typer.Option(help="The day the report came in, YYYY-MM-DD.")],
    ref: Annotated[
        str | None, typer.Option(help="Its reference (a document number, a file name).")
    ] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Record that the supplier's report came in: its reminders stop."""
    from cap.domain.obligations import DutyAction

    _act(report, DutyAction.RECEIVE, at=at, actor=actor, as_json=as_json,
         received_on=parse_date(on, "on"), reference=ref)  # fmt: skip


@obligation_app.command("extend")
def obligation_extend(
    report: IdArgument,
    until: Annotated[str, typer.Option(help="The new due date, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="Why the supplier gets more time.")],
    at: AtOption = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Give the supplier until a later date: the ladder starts again from there."""
    from cap.domain.obligations import DutyAction

    _act(report, DutyAction.EXTEND, at=at, actor=actor, as_json=as_json,
         until=parse_date(until, "until"), reason=reason)  # fmt: skip


@obligation_app.command("waive")
def obligation_waive(
    report: IdArgument,
    reason: Annotated[str, typer.Option(help="Why the report is no longer asked for.")],
    at: AtOption = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """No longer ask for the report (the contract ended early, the report came another way)."""
    from cap.domain.obligations import DutyAction

    _act(report, DutyAction.WAIVE, at=at, actor=actor, as_json=as_json, reason=reason)


def _act(
    report: int,
    action: DutyAction,
    *,
    at: str | None,
    actor: str | None,
    as_json: bool,
    **values: Any,
) -> None:
    from cap.domain.obligations import DutyRequest

    asked = parse_instant(at)
    workflow = open_workflow()
    now = database_now(workflow)
    request = DutyRequest(action, actor_of(actor), asked or now, **values)
    view = workflow.act_on_obligation(report, request, now=now)
    if as_json:
        echo_json(view)
        return
    late = f", {view.days_overdue} days overdue" if view.days_overdue else ""
    typer.echo(f"report {view.id} ({report_name(view)}, contract {view.contract}): "
               f"{view.state.value}, due {view.due.isoformat()}{late}")  # fmt: skip
