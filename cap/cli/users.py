"""The people of the desk: add them, list them, disable them, change their role.

A password is read from a hidden prompt (asked twice) or, for scripts, from standard input with
--password-stdin; never from an option, which would leave it in the shell's history and in the
process list.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cap.cli.base import JsonOption, app, database_now, echo_json, open_workflow, table
from cap.domain.model import StaffRole

user_app = typer.Typer(
    help="People who sign in to the desk, and their roles.", no_args_is_help=True
)
app.add_typer(user_app, name="user")


def _password_from_stdin() -> str:
    """Standard input without its final line break (what `echo`, `printf '%s\\n'` and a file
    written by an editor end with); anything else is the password's, for check_password."""
    password = sys.stdin.read()
    for ending in ("\r\n", "\n"):
        if password.endswith(ending):
            return password[: -len(ending)]
    return password


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The email address they sign in with.")],
    role: Annotated[StaffRole, typer.Option(help="What they may do.")],
    name: Annotated[str | None, typer.Option(help="Their name, as the desk shows it.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input instead of asking."
        ),
    ] = False,
) -> None:
    """Give someone access to the desk.

    The password (12 characters or more) is asked twice without showing it, or read from
    standard input with --password-stdin."""
    if password_stdin:
        password = _password_from_stdin()
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    workflow = open_workflow()
    view = workflow.add_user(email, role, password, name=name, now=database_now(workflow))
    typer.echo(f"added user {view.email} ({view.role})")


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """List the people of the desk, disabled ones too."""
    rows = open_workflow().list_users()
    if as_json:
        echo_json(rows)
        return
    table(
        [
            {
                "email": u.email,
                "name": u.name,
                "role": u.role,
                "created": u.created_at.date(),
                "disabled": u.disabled_at.date() if u.disabled_at else None,
            }
            for u in rows
        ],
        [
            ("email", "EMAIL"),
            ("name", "NAME"),
            ("role", "ROLE"),
            ("created", "ADDED"),
            ("disabled", "DISABLED"),
        ],
    )


@user_app.command("disable")
def user_disable(
    email: Annotated[str, typer.Argument(help="The user's email address.")],
) -> None:
    """Take away someone's access; they are signed out everywhere."""
    workflow = open_workflow()
    view = workflow.disable_user(email, now=database_now(workflow))
    typer.echo(f"disabled user {view.email}")


@user_app.command("enable")
def user_enable(
    email: Annotated[str, typer.Argument(help="The user's email address.")],
) -> None:
    """Give a disabled user their access back (role and password as they were)."""
    view = open_workflow().enable_user(email)
    typer.echo(f"enabled user {view.email}: they can sign in again")


@user_app.command("set-role")
def user_set_role(
    email: Annotated[str, typer.Argument(help="The user's email address.")],
    role: Annotated[StaffRole, typer.Argument(help="Their new role.")],
) -> None:
    """Give someone another role; they are signed out everywhere."""
    view = open_workflow().set_role(email, role)
    typer.echo(f"{view.email} is now {view.role}")
