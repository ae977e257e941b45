"""A command loads only what it uses: help needs no database, listing findings no templates,
no SMTP and no other country's holidays (bench/cli.py measures what that saves)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import World

PROBE = """
import json, sys
from cap.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _loaded(*args: str, env: dict[str, str] | None = None) -> set[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    modules: set[str] = set(json.loads(done.stderr.splitlines()[-1]))
    return modules


def _any(modules: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def test_help_and_version_load_no_database_templates_or_mail() -> None:
    for args in (["--help"], ["--version"], ["finding", "--help"]):
        loaded = _loaded(*args)
        assert "typer" in loaded
        for heavy in ("sqlalchemy", "sqlmodel", "pydantic_settings", "jinja2", "aiosmtplib",
                      "holidays", "transitions", "cap.workflow"):  # fmt: skip
            assert not _any(loaded, heavy), (args, heavy)


def test_listing_findings_loads_no_templates_mail_or_other_databases(
    world: World, sqlite_url: str
) -> None:
    world.finding()
    loaded = _loaded("finding", "list", env={"CAP_DATABASE_URL": sqlite_url})
    assert _any(loaded, "sqlalchemy") and "cap.workflow" in loaded  # it did the work
    for unused in ("jinja2", "aiosmtplib", "sqlalchemy.dialects.postgresql", "psycopg",
                   "holidays.countries"):  # fmt: skip
        assert not _any(loaded, unused), unused
