"""A command run where no database exists says so and leaves no empty database behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import Cap, user_error


@pytest.mark.parametrize(
    "args",
    [
        ("finding", "list"),
        ("supplier", "list"),
        ("outbox", "list"),
        ("sweep", "--dry-run"),
        ("worker", "--check"),
    ],
)
def test_a_missing_database_is_refused_and_not_created(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.db"
    cap = Cap(f"sqlite:///{missing}", tmp_path)
    line = user_error(cap.run(*args), code=3)
    assert f"there is no database at {missing}" in line
    assert "cap init" in line
    assert not missing.exists()


def test_init_creates_it_and_then_commands_work(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    cap = Cap(f"sqlite:///{path}", tmp_path)
    assert "created the database" in cap.ok("init")
    assert path.exists()
    assert cap.ok("finding", "list").strip() == "(none)"
