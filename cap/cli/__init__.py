"""The ``cap`` command line: parse, call the workflow, print.

User errors: one line on stderr starting with ``error:``, a non-zero exit code, no traceback.
That includes what the command-line parser refuses (an unknown option, a missing one, a value
of the wrong kind): Typer runs without its standalone mode and `_usage_message` says it
in one line instead of a usage block.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NoReturn

import typer
import typer.main
from typer._click.core import Command
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)

from cap.cli import (  # noqa: F401  (the commands register themselves)
    audits,
    calendar,
    directory,
    findings,
    links,
    mail,
    obligations,
    report,
    risk,
    rules,
    service,
    sharing,
    tokens,
    users,
)
from cap.cli.base import app
from cap.errors import CapError

__all__ = ["app", "main"]

#: Typer turns Ctrl-C inside a command into this exit code; nothing of ours exits with it.
_INTERRUPTED = 130


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise SystemExit(code)


@functools.cache
def command() -> Command:
    """The click command tree of :data:`app`, built once per process.

    Calling ``app()`` builds it anew from the commands' signatures every time (Typer's
    ``get_command``): a process runs one command, but the tests run hundreds in one process,
    and the building was four fifths of each run. Typer's ``__call__`` adds only its pretty
    tracebacks, which ``app`` turns off."""
    return typer.main.get_command(app)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; user errors print one line on stderr and exit non-zero."""
    try:
        # Without standalone mode, typer.Exit (and --help, --version) come back as the code.
        code = command().main(
            args=list(argv) if argv is not None else None, prog_name="cap", standalone_mode=False
        )
    except CapError as exc:
        _fail(exc.message, exc.exit_code)
    except NoArgsIsHelpError as exc:
        exc.show()  # `cap` or a group alone: its help, as click always did
        raise SystemExit(exc.exit_code) from None
    except UsageError as exc:
        _fail(_usage_message(exc), exc.exit_code)
    except ClickException as exc:
        _fail(_sentence(exc.format_message()), exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail("interrupted", _INTERRUPTED)
    except Exception as exc:
        _database_error(exc)
        raise
    if code == _INTERRUPTED:
        _fail("interrupted", _INTERRUPTED)
    if isinstance(code, int) and code:
        raise SystemExit(code)


def _database_error(exc: Exception) -> None:
    """One line for a database error a user can act on; returns for anything else.

    SQLAlchemy is imported only by the commands that use the database, so its exceptions are
    looked up here, once one has been raised."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    from cap.store.db import DatabaseUnavailable, unavailable_reason

    if isinstance(exc, OperationalError):
        _fail(f"database: {unavailable_reason(exc)}", DatabaseUnavailable.exit_code)
    if isinstance(exc, IntegrityError):
        # A unique key taken between our check and our insert, by someone acting at once.
        _fail("someone else just recorded the same thing; nothing was changed, try again", 7)


def _usage_message(exc: UsageError) -> str:
    """One line for what the parser refused, naming the option as the user typed it."""
    # The parser leaves out the command when it refuses an option before knowing it.
    command = exc.ctx.command_path if exc.ctx is not None else "cap"
    see = f" (see {command} --help)" if exc.ctx is not None else ""
    if isinstance(exc, NoSuchOption):
        maybe = f"; did you mean {exc.possibilities[0]}?" if exc.possibilities else ""
        return f"no such option {exc.option_name}{maybe}{see}"
    if isinstance(exc, MissingParameter) and exc.param is not None:
        name = _field(exc.param.opts)
        if exc.param.param_type_name == "argument":
            return f"{name}: missing; give the {name.upper()} argument{see}"
        return f"{name}: missing; give {max(exc.param.opts, key=len)}"
    if isinstance(exc, BadParameter) and exc.param is not None:
        return f"{_field(exc.param.opts)}: {_bad_value(exc)}"
    return f"{_sentence(exc.format_message())}{see}"


def _field(opts: Sequence[str]) -> str:
    """An option's name as error messages elsewhere spell it: ``--found-on`` -> found-on."""
    return max(opts, key=len).lstrip("-")


def _bad_value(exc: BadParameter) -> str:
    from pydantic import ValidationError

    from cap.domain.inputs import plain

    cause = exc.__cause__
    descriptor = getattr(exc.param, "type_descriptor", None)
    choices = getattr(descriptor, "choices", None) if descriptor is not None else None
    if isinstance(cause, ValidationError):
        error = cause.errors(include_url=False)[0]
        if choices:
            values = ", ".join(str(getattr(c, "value", c)) for c in choices)
            return f"{error['input']!r} is not one of {values}"
        return _sentence(plain(error))
    return _sentence(exc.message)


def _sentence(message: str) -> str:
    """Click's sentences as the rest of our messages: lower case, no final full stop."""
    message = message.strip().rstrip(".")
    return message[:1].lower() + message[1:]
