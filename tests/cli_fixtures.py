"""What the ``cap`` command-line tests share: a runner for the installed entry point, its
fixtures, and the checks every CLI test module makes.

A test module takes the fixtures by importing them, ``from cli_fixtures import cap as cap``
(pytest finds a fixture by its name in the module; the redundant alias tells ruff the import is
used). ``_run_in_tmp`` is autouse: importing it is what applies it. They are not in conftest.py
on purpose: ``world`` here replaces conftest's ``world`` (both databases, in-process) with one
on the SQLite database the ``cap`` fixture runs against, and the scratch working directory is
only for tests that start subprocesses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from cap.config import Settings
from cap.store.db import Database
from cap.workflow import Workflow
from tests.conftest import ANNA, World, make_world

CAP = shutil.which("cap") or "cap"
T = TypeVar("T")


@dataclass
class Cap:
    """Runs the installed ``cap`` entry point against one database."""

    url: str
    tmp: Path
    actor: str | None = ANNA

    def run(
        self, *args: str, actor: str | None = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``actor=""``: the default actor (CAP_ACTOR); ``None``: CAP_ACTOR unset."""
        full = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
        full.update(CAP_DATABASE_URL=self.url, CAP_MAIL_DIR=str(self.tmp / "mail"), **env or {})
        who = self.actor if actor == "" else actor
        if who:
            full["CAP_ACTOR"] = who
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


def in_parallel(*calls: Callable[[], T]) -> list[T]:
    """Run independent calls (each one or more subprocesses) concurrently; results in order."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


@contextmanager
def workflow_for(url: str) -> Iterator[Workflow]:
    wf = Workflow(db=Database(url), settings=Settings(database_url=url))
    try:
        yield wf
    finally:
        wf.db.engine.dispose()


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Subprocesses start in a scratch directory: relative paths (CAP_MAIL_DIR, CAP_RULES...)
    land there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cap(sqlite_url: str, tmp_path: Path) -> Cap:
    """``cap`` on the test's SQLite database, with CAP_MAIL_DIR=tmp_path/"mail"."""
    return Cap(sqlite_url, tmp_path)


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    """A supplier (contact Li Wei, English) and a contract managed by Anna, in the database
    the ``cap`` fixture runs against."""
    with workflow_for(sqlite_url) as wf:
        yield make_world(wf)
