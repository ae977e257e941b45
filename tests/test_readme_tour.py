"""The README's tour runs as written, today: every command succeeds and tells what it says."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every command of the tour as a process

ROOT = Path(__file__).resolve().parent.parent


def _tour() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## A tour") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the tour has no sh block"
    return match.group(1)


def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
    # -x prints each command before it runs, so a failure shows which one.
    result = subprocess.run(
        ["bash", "-e", "-x", "-o", "pipefail", "-c", _tour()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    out = result.stdout
    ref = re.search(r"NC-\d{4}-\d{4}", out)
    assert ref, out
    # The finding was communicated a week ago: nothing is overdue, and the plan it was asked
    # for is accepted, so the sweep today applies nothing and the finding is in remediation.
    assert "applied 0 step(s)" in out, out
    assert re.search(rf"{ref.group(0)}: accept-plan recorded \(plan_review -> remediating\)", out)
    assert re.search(rf"^{ref.group(0)}\s+remediating\s", out, re.M), out
    assert "(OVERDUE)" not in out
    assert re.search(r"^1\s+\S+\s+due\s+RS-2026-ICT-09\s", out, re.M), out
    assert "report 1 (social-risk report, contract RS-2026-ICT-09): received" in out
    assert (tmp_path / "cap.db").exists()
