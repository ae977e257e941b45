"""Running ``cap`` in the test process leaves the process as a new one would have been left:
no connection open, logging levels as they were, rules and templates read anew from the files
a run names (tests/cli_runner.py)."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from cap.config import default_rules_path
from cap.store.db import Database
from tests.cli_runner import Cap
from tests.conftest import DEFAULT_DEADLINES


def _open_files(prefix: Path) -> list[str]:
    fds = Path("/proc/self/fd")
    links = [os.readlink(fd) for fd in fds.iterdir() if fd.is_symlink()]
    return [link for link in links if link.startswith(str(prefix))]


def test_no_sqlite_file_stays_open(cap: Cap) -> None:
    database = Path(cap.url.removeprefix("sqlite:///"))
    for _ in range(3):
        cap.ok("finding", "list")
    assert _open_files(database) == []


def _connections(pg_url: str, application: str) -> int:
    admin = Database(pg_url)
    try:
        with admin.engine.connect() as conn:
            count: int = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application},
            ).scalar_one()
            return count
    finally:
        admin.engine.dispose()


def test_no_postgresql_connection_stays_open(pg_url: str, tmp_path: Path) -> None:
    # The runs name themselves, so that their connections can be told from others.
    application = f"cap-runner-{uuid.uuid4().hex[:8]}"
    url = make_url(pg_url).update_query_dict({"application_name": application})
    cap = Cap(url.render_as_string(hide_password=False), tmp_path)
    for _ in range(3):
        cap.ok("supplier", "list")
    assert _connections(pg_url, application) == 0


def test_logging_levels_are_put_back(cap: Cap) -> None:
    logger = logging.getLogger("cap")
    before = logger.level
    logger.setLevel(logging.INFO)
    try:
        cap.ok("finding", "list")  # commands silence "cap" for their own run
        assert logger.level == logging.INFO
    finally:
        logger.setLevel(before)


def test_a_rules_file_changed_between_runs_is_read_again(cap: Cap) -> None:
    rules = cap.tmp / "rules.toml"
    shutil.copy(default_rules_path(), rules)
    env = {"CAP_RULES": str(rules)}
    assert "refuse to run" not in cap.run("worker", "--check", env=env).stderr
    rules.write_text(DEFAULT_DEADLINES + '[[step]]\nid = "x"\n', encoding="utf-8")
    assert "refuse to run" in cap.run("worker", "--check", env=env).stderr


def test_a_template_added_between_runs_is_used(cap: Cap) -> None:
    custom = cap.tmp / "templates"
    (custom / "en").mkdir(parents=True)
    preview = ["mail", "preview", "cap_requested", "--lang", "en"]
    env = {"CAP_TEMPLATES_DIR": str(custom)}
    assert not cap.ok(*preview, env=env).startswith("Subject: Custom")
    (custom / "en" / "cap_requested.subject.txt").write_text("Custom", encoding="utf-8")
    assert cap.ok(*preview, env=env).startswith("Subject: Custom")
