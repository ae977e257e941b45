"""The ``cap`` command line: parse, call the workflow, print.

User errors: one line on stderr starting with ``error:``, a non-zero exit code, no traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NoReturn

import typer
from sqlalchemy.exc import IntegrityError, OperationalError

from cap.cli import (  # noqa: F401  (the commands register themselves)
    directory,
    findings,
    mail,
    rules,
    service,
)
from cap.cli.base import app
from cap.errors import CapError
from cap.store.db import DatabaseUnavailable, unavailable_reason

__all__ = ["app", "main"]


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; user errors print one line on stderr and exit non-zero."""
    # Commands report problems themselves; the worker and serve turn logging on for operators.
    logging.getLogger("cap").setLevel(logging.CRITICAL)
    try:
        app(args=list(argv) if argv is not None else None, prog_name="cap")
    except CapError as exc:
        _fail(exc.message, exc.exit_code)
    except OperationalError as exc:
        _fail(f"database: {unavailable_reason(exc)}", DatabaseUnavailable.exit_code)
    except IntegrityError:
        # A unique key taken between our check and our insert, by someone acting at once.
        _fail("someone else just recorded the same thing; nothing was changed, try again", 7)
