"""What every command shares: the command groups, settings, parsing and printing helpers."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from cap.config import Settings
from cap.errors import InvalidInput
from cap.store.db import Database
from cap.workflow import Workflow

app = typer.Typer(
    name="cap",
    help="Track corrective action plans for non-compliances in supply contracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
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

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


# -- plumbing --------------------------------------------------------------------------------


def settings_from_env() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        name = "CAP_" + "_".join(str(p) for p in error["loc"]).upper()
        if error["type"] == "value_error":  # our own check: its message names the value
            message = error["msg"].removeprefix("Value error, ")
            raise InvalidInput(f"{name}: {message}") from None
        raise InvalidInput(f"{name}: {error['msg']} (got {error['input']!r})") from None


def open_workflow(*, require_schema: bool = True) -> Workflow:
    settings = settings_from_env()
    db = Database(settings.database_url)
    if require_schema:
        db.require_current()
    return Workflow(db=db, settings=settings)


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


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


def actor_of(value: str | None) -> str:
    actor = value or os.environ.get("CAP_ACTOR")
    if not actor:
        raise InvalidInput("as: say who did this with --as EMAIL (or set CAP_ACTOR)")
    from cap.domain.inputs import email_address

    try:
        return email_address(actor)
    except ValueError as exc:
        raise InvalidInput(f"as: {exc}") from None


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> None:
    """Print ``rows`` as an aligned table; columns are (key, heading)."""
    if not rows:
        typer.echo("(none)")
        return
    cells = [[cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(columns)]
    typer.echo("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= 48 else text[:47] + "…"
