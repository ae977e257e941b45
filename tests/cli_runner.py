"""Running the ``cap`` command line in tests, and the checks every CLI test makes.

:meth:`Cap.run` calls ``cap.cli.main`` in the test process, as the console script does, with
the process state a command may touch isolated and put back: stdin, stdout and stderr, the
``CAP_*`` environment, logging levels, database connections and the caches of rules and
templates read from the test's own files. A run costs a twentieth of starting ``cap``.
:meth:`Cap.process` runs the installed console script itself (tests/cli/test_cli_smoke.py);
commands that serve or change the process for good (``demo``, ``serve``, ``worker``) only run
as processes.

The fixtures that build a :class:`Cap` (``cap``, and ``world`` on its database) live in the
conftest.py files: tests/conftest.py and tests/cli/conftest.py.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from typer.testing import CliRunner

from cap.cli import main
from cap.config import Settings, _rules_at
from cap.notify.outbox import renderer_for
from cap.store.db import Database
from cap.workflow import Workflow

CAP = shutil.which("cap") or "cap"
_RUNNER = CliRunner()


@dataclass
class Cap:
    """The ``cap`` command line against one database, with CAP_MAIL_DIR=tmp/"mail"."""

    url: str
    tmp: Path
    actor: str | None = None

    def run(
        self,
        *args: str,
        actor: str | None = "",
        env: dict[str, str] | None = None,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``cap ARGS`` in the test process; what a process running it would have returned.

        ``actor=""``: the default actor (CAP_ACTOR); ``None``: CAP_ACTOR unset. ``stdin``:
        what is typed or piped in."""
        return run_in_process(args, self._settings(actor, env), stdin)

    def process(
        self, *args: str, actor: str | None = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``cap ARGS`` as a process of the installed console script."""
        full = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
        full.update(self._settings(actor, env))
        return subprocess.run(
            [CAP, *args], env=full, capture_output=True, text=True, timeout=120, check=False
        )

    def ok(self, *args: str, **kwargs: Any) -> str:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result.stdout

    def fails(self, *args: str, code: int | None = None, **kwargs: Any) -> str:
        """Run a command that must fail with one ``error:`` line on stderr; return that line."""
        return user_error(self.run(*args, **kwargs), code)

    def json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self.ok(*args, "--json", **kwargs))

    def show(self, ref: str) -> dict[str, Any]:
        view: dict[str, Any] = self.json("finding", "show", ref)
        return view

    def _settings(self, actor: str | None, env: dict[str, str] | None) -> dict[str, str]:
        """The CAP_* variables of one run: no others from the test's environment."""
        settings = {"CAP_DATABASE_URL": self.url, "CAP_MAIL_DIR": str(self.tmp / "mail")}
        settings.update(env or {})
        who = self.actor if actor == "" else actor
        if who:
            settings["CAP_ACTOR"] = who
        return settings


def run_in_process(
    args: Sequence[str], settings: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``cap ARGS`` through ``cap.cli.main`` with exactly the CAP_* variables in ``settings``.

    The result is what ``subprocess.run([cap, *args], text=True)`` would have returned: the
    exit code (0, SystemExit's code, or 1 and the traceback on stderr for an exception main()
    lets through) and the output with universal newlines. Not thread-safe: the standard
    streams and the environment are the process's."""
    command = args[0] if args else ""
    assert command not in ("demo", "serve") and (command != "worker" or "--check" in args), (
        f"cap {command} serves or changes the process for good: use Cap.process"
    )
    environment: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CAP_")}
    environment.update(settings)
    with _engines_disposed(), _logging_levels_kept():
        try:
            with _RUNNER.isolation(input=stdin, env=environment) as (stdout, stderr, _):
                code = _exit_code(args)
                sys.stdout.flush()
                sys.stderr.flush()
                out, err = stdout.getvalue(), stderr.getvalue()
        finally:
            _forget_files_read(settings)
    return subprocess.CompletedProcess([CAP, *args], code, _text(out), _text(err))


def _exit_code(args: Sequence[str]) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def _text(output: bytes) -> str:
    """Decoded as a text-mode pipe reads it (universal newlines)."""
    return output.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


@contextmanager
def _engines_disposed() -> Iterator[None]:
    """Every command opens its own engine: close the connections of those it used, or they
    pile up (PostgreSQL allows 100) and keep SQLite files open."""
    used: set[Engine] = set()

    def track(connection: Connection) -> None:
        used.add(connection.engine)

    event.listen(Engine, "engine_connect", track)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", track)
        for engine in used:
            engine.dispose()


@contextmanager
def _logging_levels_kept() -> Iterator[None]:
    """Commands silence the "cap" logger: put every level back for the tests that read logs."""
    manager = logging.Logger.manager
    levels = {
        name: logger.level
        for name, logger in manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root = logging.getLogger().level
    try:
        yield
    finally:
        logging.getLogger().setLevel(root)
        for name, logger in manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))


def _forget_files_read(settings: Mapping[str, str]) -> None:
    """Rules and templates are cached per path for the life of a process. A run given its own
    (CAP_RULES, CAP_TEMPLATES_DIR) leaves none behind: the next run reads the files as they
    are then, as a new process would. The shipped ones stay cached: no test changes them."""
    if "CAP_RULES" in settings:
        _rules_at.cache_clear()
    if "CAP_TEMPLATES_DIR" in settings:
        renderer_for.cache_clear()


def user_error(result: subprocess.CompletedProcess[str], code: int | None = None) -> str:
    """Check ``result`` is a failed run with one ``error: ...`` line on stderr and no traceback."""
    assert result.returncode != 0, (result.args, result.stdout)
    if code is not None:
        assert result.returncode == code, (result.args, result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (result.args, result.stderr)
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@contextmanager
def workflow_for(url: str) -> Iterator[Workflow]:
    wf = Workflow(db=Database(url), settings=Settings(database_url=url))
    try:
        yield wf
    finally:
        wf.db.engine.dispose()
