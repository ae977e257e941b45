"""What the command line refuses is one line on stderr, through the real ``cap`` entry point.

Dates outside the calendar, values the parser rejects (a bad choice, an unknown or missing
option), values the input models reject: each is ``error: <field>: ...`` alone, with its exit
code and no traceback or usage block. Help, the version and exit codes of commands still work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from cap import __version__
from cap.domain.lifecycle import Action, ActionRequest
from tests.cli_runner import Cap, user_error
from tests.conftest import ANNA, LI, World

SE_RANGE = "is outside the years the calendar covers (1953-2100, the holiday data for SE)"
ADD = ["finding", "add", "--contract", "RS-2019-ICT-01", "--area", "working_hours",
       "--source", "monitoring_report", "--title", "Forced overtime"]  # fmt: skip
SIMULATE = ["rules", "simulate", "--severity", "major", "--area", "working_hours", "--notified"]


def test_dates_outside_the_calendar_are_one_line(cap: Cap, world: World) -> None:
    wf = world.workflow
    now = datetime.now().astimezone()
    ref = world.finding(found_on=date.today() - timedelta(days=30), now=now)
    wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, now - timedelta(hours=1)), now=now)
    before = wf.show_finding(ref, now=now)
    extend = ["finding", "extend", ref, "--reason", "Line rebuilt", "--until"]

    results = (
        cap.run(*SIMULATE, "9999-12-01T10:00:00+01:00"),
        cap.run(*SIMULATE, "2100-12-01T10:00:00+01:00"),
        cap.run("sweep", "--now", "9999-12-31T23:59:59+00:00", "--dry-run"),
        cap.run("mail", "digest", "--now", "0001-01-01T00:00:00+01:00"),
        cap.run(*extend, "2101-01-03"),
        cap.run(*extend, (date.today() + timedelta(days=3 * 366)).isoformat()),
    )
    lines = [user_error(result, 2) for result in results]
    assert lines == [
        f"error: notified: 9999-12-01T10:00:00+01:00 {SE_RANGE}",
        "error: plan_due: 1 month after 2100-12-01 is 2101-01-01, " + SE_RANGE.removeprefix("is "),
        f"error: now: 9999-12-31T23:59:59+00:00 {SE_RANGE}",
        f"error: now: 0001-01-01T00:00:00+01:00 {SE_RANGE}",
        f"error: until: 2101-01-03 {SE_RANGE}",
        lines[5],
    ]
    assert "is more than 3 years away; give a date up to" in lines[5]
    assert all(result.stdout == "" for result in results)
    assert wf.show_finding(ref, now=now).version == before.version

    # Inside the calendar, the same commands work.
    simulated = cap.json(*SIMULATE, "2100-01-04T10:00:00+01:00")
    assert simulated["notified"] == "2100-01-04T10:00:00+01:00"
    # 23:00 on New Year's Eve 2100 in Stockholm: the last hour the calendar covers.
    swept = cap.json("sweep", "--now", "2100-12-31T22:00:00+00:00", "--dry-run")
    assert (swept["dry_run"], swept["examined"]) == (True, 1)


def test_a_bad_choice_is_one_line_naming_the_option_and_the_choices(cap: Cap) -> None:
    results = (
        cap.run(*ADD, "--severity", "apocalyptic"),
        cap.run("finding", "list", "--state", "lost"),
        cap.run("outbox", "retry", "abc"),
        cap.run("outbox", "list", "--limit", "1.5"),
    )
    assert [user_error(result, 2) for result in results] == [
        "error: severity: 'apocalyptic' is not one of minor, major, critical",
        "error: state: 'lost' is not one of open, awaiting_plan, plan_review, remediating, "
        "verifying, sanction_review, closed, terminated, withdrawn",
        "error: message_id: 'abc' is not a whole number",
        "error: limit: '1.5' is not a whole number",
    ]


def test_unknown_and_missing_options_are_one_line(cap: Cap) -> None:
    results = (
        cap.run(*ADD, "--severity", "major", "--frobnicate"),
        cap.run(*ADD, "--severity", "major", "--titel", "x"),
        cap.run("finding", "add", "--severity", "major"),
        cap.run("finding", "show"),
        cap.run("finding", "show", "NC-2026-0001", "NC-2026-0002"),
        cap.run("frobnicate"),
        cap.run("finding", "add", "--title"),
    )
    assert [user_error(result, 2) for result in results] == [
        "error: no such option --frobnicate (see cap finding add --help)",
        "error: no such option --titel; did you mean --title? (see cap finding add --help)",
        "error: contract: missing; give --contract",
        "error: ref: missing; give the REF argument (see cap finding show --help)",
        "error: got unexpected extra argument(s) (NC-2026-0002) (see cap finding show --help)",
        "error: no such command 'frobnicate' (see cap --help)",
        "error: option '--title' requires an argument",
    ]


def test_values_the_input_models_refuse_are_plain_words(
    cap: Cap, world: World, tmp_path: Path
) -> None:
    ref = world.finding()
    now = datetime.now().astimezone()
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, now), now=now)
    empty_plan = tmp_path / "plan.json"
    empty_plan.write_text(json.dumps({"root_cause": "Peak orders", "actions": []}))
    contract = ["contract", "add", "RS-9", "--supplier", world.org_number, "--category", "PCs",
                "--manager", ANNA]  # fmt: skip

    results = (
        cap.run(*contract, "--value", "-1"),
        cap.run(*contract, "--value", "0.125"),
        cap.run("finding", "submit-plan", ref, "--file", str(empty_plan), actor=LI),
        cap.run("finding", "list", env={"CAP_SMTP_PORT": "lots"}),
    )
    assert [user_error(result, 2) for result in results] == [
        "error: value: '-1' is too small; give 0 or more",
        "error: value: '0.125' has too many decimals; at most 2",
        f"error: {empty_plan}: actions: needs at least 1 item",
        "error: CAP_SMTP_PORT: 'lots' is not a whole number",
    ]
    assert len(cap.json("contract", "list")) == 1  # RS-9 was not added


def test_help_version_and_exit_codes_still_work(cap: Cap) -> None:
    long_help, short_help, add_help, rules_help, version_option, version_command, bare, check = (
        cap.run("--help"),
        cap.run("-h"),
        cap.run("finding", "add", "-h"),
        cap.run("rules", "-h"),
        cap.run("--version"),
        cap.run("version"),
        cap.run(),
        cap.run("worker", "--check"),
    )
    assert [r.returncode for r in (long_help, short_help, add_help, rules_help)] == [0, 0, 0, 0]
    assert long_help.stdout == short_help.stdout
    assert "Usage: cap [OPTIONS] COMMAND" in long_help.stdout
    assert "-h, --help" in long_help.stdout
    assert "--version" in long_help.stdout
    assert "Usage: cap finding add [OPTIONS]" in add_help.stdout
    assert "--severity" in add_help.stdout
    assert "simulate" in rules_help.stdout
    assert (version_option.returncode, version_option.stdout) == (0, f"{__version__}\n")
    assert (version_command.returncode, version_command.stdout) == (0, f"{__version__}\n")
    # `cap` alone shows the commands, as it always did.
    assert bare.returncode == 2
    assert "Commands:" in bare.stderr
    # A command's own exit code (typer.Exit) comes through: no worker has a heartbeat.
    assert check.returncode == 1
    assert "error:" not in check.stderr
    assert check.stdout.startswith("unhealthy: ")


# Ctrl-C in the middle of a command: a real SIGINT, delivered while the command runs.
_INTERRUPT = """
import os, signal
from cap.cli import findings, main
findings.open_workflow = lambda **_: os.kill(os.getpid(), signal.SIGINT)
main(["finding", "list"])
"""


def test_ctrl_c_is_one_line_and_exit_code_130(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert (result.returncode, result.stderr, result.stdout) == (130, "error: interrupted\n", "")
