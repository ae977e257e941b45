"""What every command shares: the command groups, settings, parsing and printing helpers.

Every command module is imported to build the command line, so at the top they import only
Typer, the standard library and the domain's vocabulary (cap.domain.model, cap.errors):
settings, the database, the workflow, rules, templates and SMTP are imported by the commands
that use them, when they run. `cap --help` then costs little more than Typer itself
(bench/cli.py measures it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cap import __version__
from cap.clock import utcnow
from cap.errors import InvalidInput

if TYPE_CHECKING:
    from cap.config import Settings
    from cap.domain.calendar import BusinessCalendar
    from cap.workflow import Workflow
    from cap.workflow.results import EventView

app = typer.Typer(
    name="cap",
    help="Track corrective action plans for non-compliances in supply contracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    # Every command and group inherits its help option names from here.
    context_settings={"help_option_names": ["-h", "--help"]},
)
supplier_app = typer.Typer(help="Suppliers and their contacts.", no_args_is_help=True)
contract_app = typer.Typer(
    help="Contracts with social and anti-corruption clauses.", no_args_is_help=True
)
finding_app = typer.Typer(
    help="Non-compliances: log them, act on them, follow them up.", no_args_is_help=True
)
lifecycle_app = typer.Typer(help="The lifecycle of a finding.", no_args_is_help=True)
app.add_typer(supplier_app, name="supplier")
app.add_typer(contract_app, name="contract")
app.add_typer(finding_app, name="finding")
app.add_typer(lifecycle_app, name="lifecycle")


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options of cap itself, before the command."""


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


# -- plumbing --------------------------------------------------------------------------------


def settings_from_env() -> Settings:
    from pydantic import ValidationError

    from cap.config import Settings
    from cap.domain.inputs import describe

    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidInput(describe(exc, name=_variable)) from None


def _variable(loc: Sequence[int | str]) -> str:
    return "CAP_" + "_".join(str(p) for p in loc).upper()


def open_workflow(*, require_schema: bool = True) -> Workflow:
    import logging

    from cap.store.db import Database
    from cap.workflow import Workflow

    # Commands report problems themselves; the worker and serve turn logging on for operators.
    logging.getLogger("cap").setLevel(logging.CRITICAL)

    settings = settings_from_env()
    db = Database(settings.database_url)
    if require_schema:
        db.require_current()
    return Workflow(db=db, settings=settings)


def echo_json(value: object) -> None:
    """``value`` (a use case's result, or plain JSON values) as indented JSON on stdout."""
    from cap.workflow.results import to_json

    typer.echo(json.dumps(to_json(value), indent=2, ensure_ascii=False, default=str))


def parse_date(value: str | None, field: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def parse_instant(value: str | None, field: str = "at") -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{field}: {value!r} is not an ISO 8601 date and time; "
            "write it like 2026-03-02T10:00:00+01:00"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInput(
            f"{field}: {value!r} has no UTC offset; write it like 2026-03-02T10:00:00+01:00 "
            "or 2026-03-02T09:00:00Z"
        )
    return parsed


Moment = TypeVar("Moment", date, datetime)


def within_calendar(
    value: Moment | None, field: str, calendar: BusinessCalendar | None = None
) -> Moment | None:
    """``value`` (a date or instant given by the user) if the calendar counts in its year;
    else one InvalidInput naming ``field`` and the years covered. ``calendar``: the current
    rules' by default. A command checks its moment before it does any work."""
    if value is not None:
        (calendar or settings_from_env().calendar).check_covered(value, field)
    return value


def database_now(workflow: Workflow) -> datetime:
    """The CLI's now: the clock of the database (a demo database runs on a simulated one)."""
    from cap.store.simulation import clock_of

    return clock_of(workflow.db)()


def command_moment(
    workflow: Workflow, asked: datetime | None, field: str, *, why_not_ahead: str | None
) -> datetime:
    """The moment a command works at: ``asked`` (see :func:`parse_instant`) or now.

    ``why_not_ahead`` says why the command may not look into the future (what it records
    would be dated then); ``None`` lets it (it writes nothing). A simulation database may
    always look ahead: its time is made up. Up to :data:`CLOCK_SKEW` ahead counts as now.
    """
    from cap.domain.lifecycle import CLOCK_SKEW
    from cap.store.simulation import simulation_of

    simulation = simulation_of(workflow.db)
    now = (simulation or utcnow)()
    if asked is None:
        return now
    if why_not_ahead is not None and simulation is None and asked > now + CLOCK_SKEW:
        calendar = workflow.settings.calendar
        local = now.astimezone(calendar.tz).strftime("%Y-%m-%d %H:%M")
        raise InvalidInput(
            f"{field}: {asked.isoformat()} is in the future (it is now {local} "
            f"{calendar.timezone}); {why_not_ahead}"
        )
    return asked


def actor_of(value: str | None) -> str:
    actor = value or os.environ.get("CAP_ACTOR")
    if not actor:
        raise InvalidInput("as: say who did this with --as EMAIL (or set CAP_ACTOR)")
    from cap.domain.inputs import email_address

    try:
        return email_address(actor)
    except ValueError as exc:
        raise InvalidInput(f"as: {exc}") from None


def table(rows: Sequence[object], columns: Sequence[tuple[str, str]], *, indent: str = "") -> None:
    """Print ``rows`` as an aligned table; columns are (name, heading), a name being an
    attribute of a result or a key of a dict."""
    if not rows:
        typer.echo(f"{indent}(none)")
        return
    cells = [[cell(_value(r, k)) for k, _ in columns] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(columns)]
    heading = "  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True))
    typer.echo(f"{indent}{heading}".rstrip())
    for row in cells:
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        typer.echo(f"{indent}{line}".rstrip())


def _value(row: object, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name)


def history(events: Sequence[EventView], tz: tzinfo) -> None:
    """A finding's audit trail as an aligned table, in local time."""
    table(
        [
            {
                "when": local_time(e.at, tz),
                "kind": e.kind,
                "actor": e.actor,
                "move": (
                    e.to_state
                    if e.from_state is None
                    else f"{e.from_state} -> {e.to_state}"
                    if e.from_state != e.to_state
                    else ""
                ),
                "detail": e.data.get("rule") or e.data.get("reason") or e.data.get("note") or "",
            }
            for e in events
        ],
        [("when", "WHEN (LOCAL)"), ("kind", "WHAT"), ("actor", "WHO"), ("move", "STATE"),
         ("detail", "RULE OR WHY")],
        indent="  ",
    )  # fmt: skip


def warn(problems: Iterable[object]) -> None:
    """One ``warning:`` line on stderr for each problem that did not stop the command."""
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= 48 else text[:47] + "…"


def local_time(value: datetime | None, tz: tzinfo) -> str | None:
    """An instant as people read it: local to the buyer, to the minute, with the weekday."""
    if value is None:
        return None
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %a")
