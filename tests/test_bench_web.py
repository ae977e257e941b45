"""bench/web.py runs end to end: it builds its database, serves it, measures every page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "web.py"
PAGES = (
    "/health",
    "/desk",
    "/findings",
    "/findings?state=remediating&severity=major",
    "/findings?q=dormitory",
    "/findings/{ref}",
    "/findings.csv?state=verifying",
)


@pytest.mark.slow  # builds a database, starts a web server, sends a few hundred requests
def test_the_quick_bench_prints_a_row_for_every_page(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--cache-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["#", "page", "path"])
    rows = {line.split()[0]: line for line in lines[header + 2 : header + 2 + len(PAGES)]}
    assert list(rows) == [str(i + 1) for i in range(len(PAGES))], done.stdout
    for number, path in enumerate(PAGES, start=1):
        row = rows[str(number)]
        assert f" {path} " in row, row
        # Measured (or a page not built yet): never an error, every request answered as expected.
        assert row.rstrip().endswith(("info", "PASS", "FAIL", "SKIP")), row
        assert "ERROR" not in row, row
        if not row.rstrip().endswith("SKIP"):
            assert " 20/20 " in row, row
    assert "building the database took" in done.stdout
    assert list(tmp_path.glob("web-f5000-s250-*.db")), "the database is kept for the next run"
