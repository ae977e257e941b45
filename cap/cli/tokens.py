"""The tokens other systems call the API with: make one (shown once), list them, revoke one."""

from __future__ import annotations

from typing import Annotated

import typer

from cap.cli.base import JsonOption, app, database_now, echo_json, local_time, open_workflow, table
from cap.domain.model import StaffRole

token_app = typer.Typer(
    help="Tokens for the API (Authorization: Bearer): make, list, revoke.", no_args_is_help=True
)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: Annotated[StaffRole, typer.Option(help="What the token may do, as a desk role.")],
    name: Annotated[str, typer.Option(help="Who or what uses it, e.g. 'Audit firm feed'.")],
    expires: Annotated[
        int | None,
        typer.Option(
            help="Days until it stops working (default: until revoked).", show_default=False
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Make a token. It is printed this once: cap keeps only its hash."""
    workflow = open_workflow()
    issued = workflow.create_token(name, role, expires_days=expires, now=database_now(workflow))
    if as_json:
        echo_json(issued)
        return
    view = issued.view
    tz = workflow.settings.calendar.tz
    until = f", until {local_time(view.expires_at, tz)}" if view.expires_at else ""
    typer.echo(f"token {view.id} for {view.name} ({view.role}{until}):")
    typer.echo(issued.token)
    typer.echo("Keep it now: it is not shown again. Send it as 'Authorization: Bearer TOKEN'.",
               err=True)  # fmt: skip


@token_app.command("list")
def token_list(as_json: JsonOption = False) -> None:
    """Every token, the newest first: name, role, start, expiry, revocation, last use."""
    workflow = open_workflow()
    tokens = workflow.list_tokens()
    if as_json:
        echo_json(tokens)
        return
    tz = workflow.settings.calendar.tz
    table(
        [
            {
                "id": t.id, "name": t.name, "role": t.role, "prefix": f"{t.prefix}…",
                "created": local_time(t.created_at, tz), "expires": local_time(t.expires_at, tz),
                "revoked": local_time(t.revoked_at, tz),
                "last_used": local_time(t.last_used_at, tz),
            }
            for t in tokens
        ],
        [
            ("id", "ID"), ("name", "NAME"), ("role", "ROLE"), ("prefix", "STARTS"),
            ("created", "CREATED"), ("expires", "EXPIRES"), ("revoked", "REVOKED"),
            ("last_used", "LAST USED"),
        ],
    )  # fmt: skip


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token (see `cap token list`).")],
) -> None:
    """Stop a token from working, from its next request on."""
    workflow = open_workflow()
    view = workflow.revoke_token(token_id, now=database_now(workflow))
    typer.echo(f"revoked token {view.id} ({view.name})")
