"""The links sent to suppliers: list a finding's, revoke one or all of a finding's, send the
current request again with a fresh one."""

from __future__ import annotations

from typing import Annotated

import typer

from cap.cli.base import JsonOption, app, database_now, echo_json, local_time, open_workflow, table
from cap.errors import InvalidInput

link_app = typer.Typer(
    help="The links sent to suppliers: list, revoke, resend.", no_args_is_help=True
)
app.add_typer(link_app, name="link")


@link_app.command("list")
def link_list(
    ref: Annotated[str, typer.Argument(help="The finding, e.g. NC-2026-0001.")],
    as_json: JsonOption = False,
) -> None:
    """A finding's links, the newest first: sent to, expires, revoked, opened, uses."""
    workflow = open_workflow()
    links = workflow.links_of(ref)
    if as_json:
        echo_json(links)
        return
    tz = workflow.settings.calendar.tz
    table(
        [
            {
                "id": v.id,
                "address": v.address,
                "created": local_time(v.created_at, tz),
                "expires": local_time(v.expires_at, tz),
                "revoked": local_time(v.revoked_at, tz),
                "first_opened": local_time(v.first_opened_at, tz),
                "last_opened": local_time(v.last_opened_at, tz),
                "uses": v.uses,
            }
            for v in links
        ],
        [
            ("id", "ID"), ("address", "SENT TO"), ("created", "CREATED"), ("expires", "EXPIRES"),
            ("revoked", "REVOKED"), ("first_opened", "FIRST OPENED"),
            ("last_opened", "LAST OPENED"), ("uses", "USES"),
        ],
    )  # fmt: skip


@link_app.command("revoke")
def link_revoke(
    link_id: Annotated[
        int | None, typer.Argument(help="The link (see `cap link list REF`).", show_default=False)
    ] = None,
    finding: Annotated[
        str | None, typer.Option("--finding", help="Every link of this finding instead.")
    ] = None,
) -> None:
    """Make a link stop opening, or every link of a finding (--finding REF)."""
    if (link_id is None) == (finding is None):
        raise InvalidInput("link: give a LINK_ID or --finding REF, not both")
    workflow = open_workflow()
    now = database_now(workflow)
    if finding is not None:
        count = workflow.revoke_links(finding, now=now)
        typer.echo(f"revoked {count} link(s) of {finding}")
        return
    assert link_id is not None
    view = workflow.revoke_link(link_id, now=now)
    typer.echo(f"revoked link {view.id} (sent to {view.address} for {view.finding_ref})")


@link_app.command("resend")
def link_resend(
    ref: Annotated[str, typer.Argument(help="The finding, e.g. NC-2026-0001.")],
    as_json: JsonOption = False,
) -> None:
    """Queue the current request to the supplier again, with a fresh link (the old links
    still open; revoke them with `cap link revoke --finding REF`)."""
    workflow = open_workflow()
    queued = workflow.resend_request(ref, now=database_now(workflow))
    if as_json:
        echo_json({"ref": ref, "queued": queued})
        return
    for q in queued:
        typer.echo(f"queued {q['kind']} to {q['to']} with a fresh link")
