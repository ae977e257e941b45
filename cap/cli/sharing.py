"""`cap export` and `cap import`: audit and finding results shared between buyers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cap.cli.base import JsonOption, app, database_now, echo_json, open_workflow, parse_date, warn
from cap.errors import InvalidInput


@app.command("export")
def export(
    output: Annotated[
        Path, typer.Option("--output", help="The file to write (JSON).", show_default=False)
    ],
    since: Annotated[
        str | None,
        typer.Option(help="Only audits and findings changed on or after this day, YYYY-MM-DD."),
    ] = None,
    include_staff: Annotated[
        bool,
        typer.Option(
            "--include-staff",
            help="Also staff names and addresses, and decisions' rationale (internal notes).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Export this buyer's audits and findings, with their outcome, for other buyers to import
    (`cap import`): a cap-share document (docs/share-format.schema.json). Suppliers go with
    their organisation number, name and country; never their contacts."""
    import json
    import os

    day = parse_date(since, "since")
    workflow = open_workflow()
    shared = workflow.export_results(
        now=database_now(workflow), since=day, include_staff=include_staff
    )
    text = json.dumps(shared.document, indent=2, ensure_ascii=False) + "\n"
    # Written beside, then moved over: a reader never sees half a file, nor a failed export
    # leaves one.
    partial = output.with_name(f".{output.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"output: cannot write {output} ({exc.strerror})") from None
    if as_json:
        echo_json({"file": str(output), "suppliers": shared.suppliers, "audits": shared.audits,
                   "findings": shared.findings, "include_staff": shared.include_staff,
                   "since": shared.since})  # fmt: skip
        return
    staff = "with staff data" if include_staff else "without staff data"
    typer.echo(f"exported {shared.findings} finding{_s(shared.findings)}, {shared.audits} "
               f"audit{_s(shared.audits)} and {shared.suppliers} supplier"
               f"{_s(shared.suppliers)} to {output} ({staff})")  # fmt: skip


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="Another buyer's `cap export` file.", show_default=False)
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what it would do; write nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import another buyer's exported results as shared results: all or nothing. They have
    no lifecycle here. Suppliers are matched by organisation number; one known here under
    another name or country is reported as a conflict and kept as it is."""
    from cap.workflow.sharing import read_share_file

    document = read_share_file(file)
    workflow = open_workflow()
    result = workflow.import_results(document, now=database_now(workflow), dry_run=dry_run)
    if as_json:
        echo_json(result)
        return
    for c in result.conflicts:
        warn([f"supplier {c.org_number}: {c.field} is {c.ours!r} here, {c.theirs!r} in "
              f"{result.file}; ours kept"])  # fmt: skip
    exported = result.exported_at.astimezone(workflow.settings.calendar.tz).strftime("%Y-%m-%d")
    conflicts = len(result.conflicts)
    counts = (f"{result.imported} imported, {result.updated} updated, {result.unchanged} "
              f"unchanged, {conflicts} conflict{_s(conflicts)}")  # fmt: skip
    if result.older:
        counts += f", {result.older} left as a newer export gave them"
    if result.suppliers_created:
        counts += f"; {result.suppliers_created} supplier{_s(result.suppliers_created)} added"
    done = " (dry run, nothing written)" if result.dry_run else ""
    typer.echo(f"{result.buyer}'s results of {exported}: {counts}{done}")


def _s(count: int) -> str:
    return "" if count == 1 else "s"
