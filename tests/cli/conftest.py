"""Fixtures of the command-line tests (``cap`` itself is in tests/conftest.py).

``world`` here replaces tests/conftest.py's (both databases, in-process) with one on the SQLite
database the ``cap`` fixture runs against. Every test here runs in its scratch directory, so
that what a command or a process started by a test writes at a relative path lands there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_runner import workflow_for
from tests.conftest import World, make_world


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    """A supplier (contact Li Wei, English) and a contract managed by Anna, in the database
    the ``cap`` fixture runs against."""
    with workflow_for(sqlite_url) as wf:
        yield make_world(wf)
