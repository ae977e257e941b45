"""The installed ``cap`` console script itself, started as a process.

The other command-line tests call ``cap.cli.main`` in the test process (tests/cli_runner.py);
these check what only a real process shows: that ``cap`` is installed and starts, and that
exit codes and stderr come through the script as the tests in-process see them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cap import __version__
from tests.cli_runner import Cap, user_error
from tests.conftest import ANNA, World

pytestmark = pytest.mark.slow  # the installed script, as processes


def test_cap_is_installed_and_starts(cap: Cap) -> None:
    version = cap.process("--version")
    assert (version.returncode, version.stdout, version.stderr) == (0, f"{__version__}\n", "")
    usage = cap.process("--help")
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("Usage: cap [OPTIONS] COMMAND")
    # `cap` alone: its commands on stderr, and the exit code of a usage error.
    bare = cap.process()
    assert (bare.returncode, bare.stdout) == (2, "")
    assert "Commands:" in bare.stderr


def test_a_command_acts_and_prints_through_the_script(cap: Cap, world: World) -> None:
    added = cap.process("finding", "add", "--contract", world.contract, "--severity", "major",
                        "--area", "wages", "--source", "other",
                        "--title", "Unpaid overtime")  # fmt: skip
    assert added.returncode == 0, added.stderr
    ref = added.stdout.strip()
    shown = cap.process("finding", "show", ref, "--json")
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert (view["ref"], view["title"], view["state"]) == (ref, "Unpaid overtime", "open")
    assert [(e["kind"], e["actor"]) for e in view["events"]] == [("logged", ANNA)]


def test_user_errors_are_one_line_with_their_exit_code(cap: Cap, tmp_path: Path) -> None:
    assert "NC-1999-0001" in user_error(cap.process("finding", "show", "NC-1999-0001"), code=4)
    line = user_error(cap.process("finding", "list", "--frobnicate"), code=2)
    assert line.startswith("error: no such option --frobnicate"), line
    missing = tmp_path / "nowhere.db"
    nowhere = Cap(f"sqlite:///{missing}", tmp_path)
    assert "there is no database at" in user_error(nowhere.process("supplier", "list"), code=3)
    assert not missing.exists()


def test_a_command_s_own_exit_code_comes_through(cap: Cap) -> None:
    # No worker has a heartbeat: unhealthy, exit code 1, and no error line.
    check = cap.process("worker", "--check")
    assert check.returncode == 1
    assert check.stdout.startswith("unhealthy: ")
    assert "error:" not in check.stderr
