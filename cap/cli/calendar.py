"""`cap calendar`: upcoming deadlines as an iCalendar file."""

from __future__ import annotations

from typing import Annotated

import typer

from cap.cli.base import app, database_now, open_workflow
from cap.errors import NotFound


@app.command("calendar")
def calendar(
    manager: Annotated[
        str, typer.Option(help="The contract manager (email) whose findings' deadlines to give.")
    ],
) -> None:
    """The deadline in force of each open finding of a contract manager's contracts, overdue
    ones too, as an iCalendar file (one all-day event per finding) on stdout:
    cap calendar --manager EMAIL > deadlines.ics"""
    workflow = open_workflow()
    try:
        document = workflow.deadline_calendar(manager, now=database_now(workflow))
    except NotFound as exc:
        raise NotFound(
            f"{exc.plain}; give a contract manager's email with --manager",
            see="cap contract list",
        ) from None
    # Bytes as icalendar wrote them: UTF-8 with the CRLF line ends RFC 5545 asks for.
    typer.echo(document.ical, nl=False)
