"""Setting up: the database, suppliers, contracts; the lifecycle diagram."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cap import __version__
from cap.cli.base import (
    JsonOption,
    app,
    contract_app,
    database_now,
    echo_json,
    lifecycle_app,
    open_workflow,
    parse_date,
    settings_from_env,
    supplier_app,
    table,
)
from cap.domain.model import Language
from cap.errors import InvalidInput

# -- init and lifecycle ----------------------------------------------------------------------


@app.command()
def init(
    secret_file: Annotated[
        Path | None,
        typer.Option(
            help="Also write a new CAP_SECRET_KEY into this file (mode 600), e.g. cap.env; "
            "an existing file is kept."
        ),
    ] = None,
) -> None:
    """Create the database, or upgrade it to this version's schema (safe to run again)."""
    from cap.store.db import Database

    if secret_file is not None:
        _write_secret(secret_file)
    settings = settings_from_env()
    db = Database(settings.database_url)
    before, after = db.upgrade()
    if before is None:
        typer.echo(f"created the database {db.safe_url} (schema {after})")
    elif before == after:
        typer.echo(f"the database {db.safe_url} is up to date (schema {after})")
    else:
        typer.echo(f"upgraded the database {db.safe_url} from schema {before} to {after}")


def _write_secret(path: Path) -> None:
    """A new random key in ``path``, readable by its owner only; never over an existing file
    (the key in use signs the sessions and links already out)."""
    import os
    import secrets

    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        typer.echo(f"kept the secret key in {path} (remove the file to make a new one)")
        return
    except OSError as exc:
        raise InvalidInput(f"secret-file: cannot create {path} ({exc.strerror})") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(f"CAP_SECRET_KEY={secrets.token_urlsafe(48)}\n")
    # `. cap.env` would search $PATH: a file here is named ./cap.env.
    source = str(path) if "/" in str(path) else f"./{path}"
    typer.echo(
        f"wrote a new CAP_SECRET_KEY to {path}; load it before `cap serve`: "
        f"set -a; . {source}; set +a (or systemd EnvironmentFile={path.resolve()})"
    )


@app.command()
def version() -> None:
    """Print the version of cap."""
    typer.echo(__version__)


@lifecycle_app.command("diagram")
def lifecycle_diagram() -> None:
    """Print the finding lifecycle as a Mermaid state diagram."""
    from cap.domain.lifecycle import mermaid_diagram

    typer.echo(mermaid_diagram())


# -- suppliers and contracts -----------------------------------------------------------------


@supplier_app.command("add")
def supplier_add(
    name: Annotated[str, typer.Argument(help="The supplier's name.")],
    org_number: Annotated[str, typer.Option(help="Organisation number (unique).")],
    country: Annotated[str, typer.Option(help="Two-letter country code, e.g. SE.")],
    email: Annotated[str, typer.Option(help="Email of the contact who receives notices.")],
    contact_name: Annotated[str | None, typer.Option(help="Name of that contact.")] = None,
    language: Annotated[Language, typer.Option(help="Language of the contact's emails.")] = (
        Language.SV
    ),
    as_json: JsonOption = False,
) -> None:
    """Register a supplier with one contact."""
    from cap.domain.inputs import SupplierInput, parse

    data = parse(
        SupplierInput,
        {
            "name": name,
            "org_number": org_number,
            "country": country,
            "email": email,
            "contact_name": contact_name,
            "language": language,
        },
    )
    workflow = open_workflow()
    view = workflow.add_supplier(data, now=database_now(workflow))
    if as_json:
        echo_json(view)
    else:
        typer.echo(f"added supplier {view.name} ({view.org_number})")


@supplier_app.command("list")
def supplier_list(as_json: JsonOption = False) -> None:
    """List suppliers."""
    rows = open_workflow().list_suppliers()
    if as_json:
        echo_json(rows)
        return
    table(
        [
            {
                "org_number": s.org_number,
                "name": s.name,
                "country": s.country,
                "contact": ", ".join(f"{c.email} ({c.language})" for c in s.contacts),
            }
            for s in rows
        ],
        [
            ("org_number", "ORG NUMBER"),
            ("name", "NAME"),
            ("country", "COUNTRY"),
            ("contact", "CONTACTS"),
        ],
    )


@contract_app.command("add")
def contract_add(
    reference: Annotated[str, typer.Argument(help="The contract reference (unique).")],
    supplier: Annotated[str, typer.Option(help="The supplier's organisation number.")],
    category: Annotated[str, typer.Option(help="Product category, e.g. 'Personal computers'.")],
    manager: Annotated[str, typer.Option(help="Email of the contract manager.")],
    start: Annotated[str | None, typer.Option(help="Start date, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="End date, YYYY-MM-DD.")] = None,
    value: Annotated[str | None, typer.Option(help="Contract value, e.g. 12500000.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a contract with a supplier."""
    from cap.domain.inputs import ContractInput, parse

    data = parse(
        ContractInput,
        {
            "reference": reference,
            "supplier": supplier,
            "category": category,
            "manager": manager,
            "start": parse_date(start, "start"),
            "end": parse_date(end, "end"),
            "value": value,
        },
    )
    workflow = open_workflow()
    view = workflow.add_contract(data, now=database_now(workflow))
    if as_json:
        echo_json(view)
    else:
        typer.echo(f"added contract {view.reference} with {view.supplier}")


@contract_app.command("list")
def contract_list(as_json: JsonOption = False) -> None:
    """List contracts."""
    rows = open_workflow().list_contracts()
    if as_json:
        echo_json(rows)
        return
    table(
        rows,
        [
            ("reference", "REFERENCE"),
            ("supplier", "SUPPLIER"),
            ("category", "CATEGORY"),
            ("manager", "MANAGER"),
            ("start", "START"),
            ("end", "END"),
        ],
    )
