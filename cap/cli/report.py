"""`cap report`: how the follow-up works, as figures (KPIs).

Formats: ``md`` (Markdown, the default), ``json`` (the use case's result), ``csv`` (long: one
figure a row, columns ``table,row,column,value``, so one file holds every table and a
spreadsheet pivots it) and ``html`` (one standalone page that prints to PDF, from
cap/cli/templates/report.html).
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cap.cli.base import app, database_now, echo_json, open_workflow, parse_date
from cap.errors import InvalidInput

if TYPE_CHECKING:
    from cap.workflow.reports import Durations, KpiReport

TEMPLATES = Path(__file__).parent / "templates"


class ReportFormat(StrEnum):
    MD = "md"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


@app.command("report")
def report(
    start: Annotated[
        str, typer.Option("--from", help="First day of the period, YYYY-MM-DD (buyer's date).")
    ],
    end: Annotated[
        str,
        typer.Option(
            "--to", help="Last day of the period, YYYY-MM-DD; may lie ahead (figures to date)."
        ),
    ],
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="md, csv (table,row,column,value), json, html.")
    ] = ReportFormat.MD,
) -> None:
    """Figures of the follow-up over a period: days from notification to an accepted plan
    and to closure, plan and remediation deadlines met, findings overdue now, findings
    logged per quarter, recurrences. Printed on stdout: `cap report ... > report.html`."""
    first = _required(start, "from")
    last = _required(end, "to")
    workflow = open_workflow()
    result = workflow.kpi_report(first, last, now=database_now(workflow))
    if fmt is ReportFormat.JSON:
        echo_json(result)
    elif fmt is ReportFormat.CSV:
        typer.echo(csv_text(result), nl=False)
    elif fmt is ReportFormat.HTML:
        typer.echo(html_page(result), nl=False)
    else:
        typer.echo(markdown(result), nl=False)


def _required(value: str, field: str) -> Any:
    parsed = parse_date(value, field)
    if parsed is None:
        raise InvalidInput(f"{field}: missing; give --{field} YYYY-MM-DD")
    return parsed


# -- how figures read --------------------------------------------------------------------------

#: What a figure that cannot be computed (nothing to count) reads as.
NONE = "n/a"


def days(value: float | None) -> str:
    """Days as people read them: 20, 41.2; n/a without findings."""
    return NONE if value is None else f"{value:g}"


def percent(value: float | None) -> str:
    """A share as a percentage to a tenth: 57.1 %; n/a when nothing was counted."""
    return NONE if value is None else f"{value * 100:.1f} %"


def label(value: str) -> str:
    """An enumeration's value in the emails' English words, as a heading: working_hours ->
    Working hours, anti_corruption -> Anti-corruption."""
    from cap.notify.render import LABELS

    words = LABELS["en"].get(value) or value.replace("_", " ")
    return words[:1].upper() + words[1:]


# -- Markdown ----------------------------------------------------------------------------------


def _md_cell(value: object) -> str:
    # A pipe would end the cell, a line break the row, an angle bracket start raw HTML.
    text = str(value).replace("\n", " ")
    for char in ("\\", "|", "<", ">"):
        text = text.replace(char, "\\" + char)
    return text


def _md_table(headings: list[str], rows: list[list[object]]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _durations_row(name: str, d: Durations) -> list[object]:
    return [name, d.count, days(d.median), days(d.p90)]


def markdown(r: KpiReport) -> str:
    """The report as Markdown: a heading per figure, pipe tables."""
    out = [
        f"# KPI report {r.start.isoformat()} to {r.end.isoformat()}",
        "",
        f"Figures as of {r.as_of.isoformat()}, dates in {r.timezone}.",
        "",
        "## Days from notification",
        "",
        *_md_table(
            ["To", "Findings", "Median", "90th percentile"],
            [
                _durations_row("Plan accepted", r.to_plan_accepted),
                _durations_row("Closure", r.to_closure),
            ],
        ),
        "## Deadlines met",
        "",
        "Deadlines that fell due in the period; running: due, their day not over yet.",
        "",
        *_md_table(
            ["Deadline", "Met", "Missed", "Running", "Met (share)"],
            [
                [label(s.deadline.value), s.met, s.missed, s.pending, percent(s.share)]
                for s in r.deadlines
            ],
        ),
        f"## Overdue on {r.as_of.isoformat()}: {r.overdue}",
        "",
        *_md_table(
            ["Supplier", "Org. number", "Overdue"],
            [[s.supplier, s.org_number, s.overdue] for s in r.overdue_by_supplier],
        ),
        *_md_table(["Area", "Overdue"], [[label(a.area), a.overdue] for a in r.overdue_by_area]),
        "## Findings logged per quarter",
        "",
        *_md_table(
            ["Quarter", "From", "To", "Findings"],
            [[q.quarter, q.first.isoformat(), q.last.isoformat(), q.logged] for q in r.quarters],
        ),
        *_md_table(["Area", *(q.quarter for q in r.quarters)], _by_area(r)),
        *_md_table(["Severity", *(q.quarter for q in r.quarters)], _by_severity(r)),
        "## Recurrence",
        "",
        f"{r.recurrence.recurring} of {r.recurrence.logged} findings logged in the period "
        f"({percent(r.recurrence.share)}) had a finding of the same supplier and area found "
        "in the two years before.",
        "",
        *_md_table(
            ["Supplier", "Org. number", "Area", "Logged", "Recurring", "Findings"],
            [
                [x.supplier, x.org_number, label(x.area), x.logged, x.recurring, " ".join(x.refs)]
                for x in r.recurrence.lines
            ],
        ),
    ]
    return "\n".join(out)


def _by_area(r: KpiReport) -> list[list[object]]:
    """Areas with findings logged in the period, a column per quarter."""
    from cap.domain.model import Area

    return [
        [label(a), *(q.by_area[a] for q in r.quarters)]
        for a in Area
        if any(q.by_area[a] for q in r.quarters)
    ]


def _by_severity(r: KpiReport) -> list[list[object]]:
    from cap.domain.model import Severity

    return [[label(s), *(q.by_severity[s] for q in r.quarters)] for s in Severity]


# -- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = ("table", "row", "column", "value")


def csv_rows(r: KpiReport) -> Iterator[tuple[str, str, str, object]]:
    """Every figure as (table, row, column, value): numbers as numbers (shares as fractions
    from 0 to 1, days to a tenth), a figure that cannot be computed empty; rows of suppliers
    by organisation number, their names in the column ``supplier``."""
    yield from (
        ("report", "", "from", r.start.isoformat()),
        ("report", "", "to", r.end.isoformat()),
        ("report", "", "as_of", r.as_of.isoformat()),
        ("report", "", "timezone", r.timezone),
    )
    for name, d in (("plan_accepted", r.to_plan_accepted), ("closure", r.to_closure)):
        yield from (
            ("days_from_notification", name, "findings", d.count),
            ("days_from_notification", name, "median", d.median),
            ("days_from_notification", name, "p90", d.p90),
        )
    for s in r.deadlines:
        for column in ("met", "missed", "pending", "share"):
            yield ("deadlines", s.deadline.value, column, getattr(s, column))
    yield ("overdue", "", "findings", r.overdue)
    for o in r.overdue_by_supplier:
        yield ("overdue_by_supplier", o.org_number, "supplier", o.supplier)
        yield ("overdue_by_supplier", o.org_number, "overdue", o.overdue)
    for a in r.overdue_by_area:
        yield ("overdue_by_area", a.area.value, "overdue", a.overdue)
    for q in r.quarters:
        yield ("logged", q.quarter, "from", q.first.isoformat())
        yield ("logged", q.quarter, "to", q.last.isoformat())
        yield ("logged", q.quarter, "findings", q.logged)
        for area, n in q.by_area.items():
            yield ("logged_by_area", q.quarter, area.value, n)
        for severity, n in q.by_severity.items():
            yield ("logged_by_severity", q.quarter, severity.value, n)
    rec = r.recurrence
    yield from (
        ("recurrence", "", "logged", rec.logged),
        ("recurrence", "", "recurring", rec.recurring),
        ("recurrence", "", "share", rec.share),
    )
    for x in rec.lines:
        row = f"{x.org_number}/{x.area.value}"
        yield ("recurrence_by_supplier_area", row, "supplier", x.supplier)
        yield ("recurrence_by_supplier_area", row, "logged", x.logged)
        yield ("recurrence_by_supplier_area", row, "recurring", x.recurring)
        yield ("recurrence_by_supplier_area", row, "refs", " ".join(x.refs))


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    # A spreadsheet runs a cell starting with one of these as a formula (a supplier's name
    # is typed by people): a leading apostrophe keeps it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(r: KpiReport) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(
        (table, row, column, _csv_value(value)) for table, row, column, value in csv_rows(r)
    )
    return buffer.getvalue()


# -- HTML --------------------------------------------------------------------------------------


def html_page(r: KpiReport) -> str:
    """The report as one standalone page (styles inline, charts as inline SVG)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from cap.domain.model import Area, Severity

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(days=days, percent=percent, label=label)
    areas = [a for a in Area if any(q.by_area[a] for q in r.quarters)]
    return env.get_template("report.html").render(
        r=r,
        areas=areas,
        severities=list(Severity),
        logged_bars=[(q.quarter, q.logged) for q in r.quarters],
        overdue_bars=[(label(a.area.value), a.overdue) for a in r.overdue_by_area],
    )
