"""`cap calendar --manager EMAIL`: an iCalendar file on stdout that icalendar reads back, and
one error line naming --manager for an address that manages no contract."""

from __future__ import annotations

import os
import subprocess
from datetime import date

from icalendar import Calendar

from cap.domain.lifecycle import Action, ActionRequest
from tests.cli_runner import CAP, Cap
from tests.conftest import ANNA, NOW, World


def test_it_prints_the_deadlines_as_icalendar(cap: Cap, world: World) -> None:
    ref = world.finding(title="Unpaid overtime, night shift")
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    world.finding()  # not notified: no deadline, no event

    result = cap.run("calendar", "--manager", ANNA)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    parsed = Calendar.from_ical(result.stdout)
    [event] = parsed.walk("VEVENT")
    assert str(event["uid"]) == f"{ref}-plan@localhost"
    assert event.decoded("dtstart") == date(2026, 4, 7)
    # The machine's clock is past that date or not: the summary says which.
    assert str(event["summary"]) in (
        f"{ref}: plan due \N{EN DASH} Unpaid overtime, night shift",
        f"{ref}: plan overdue \N{EN DASH} Unpaid overtime, night shift",
    )


def test_the_console_script_writes_the_bytes_with_crlf_lines(cap: Cap, world: World) -> None:
    ref = world.finding()
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
    env["CAP_DATABASE_URL"] = cap.url
    process = subprocess.run(
        [CAP, "calendar", "--manager", ANNA], env=env, capture_output=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith(b"BEGIN:VCALENDAR\r\n")
    assert process.stdout.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in process.stdout.replace(b"\r\n", b"")
    assert f"UID:{ref}-plan@localhost\r\n".encode() in process.stdout


def test_an_unknown_manager_is_one_error_line_naming_the_option(cap: Cap, world: World) -> None:
    line = cap.fails("calendar", "--manager", "nobody@region.example", code=4)
    assert line == (
        "error: manager: no contract is managed by nobody@region.example; give a contract "
        "manager's email with --manager (see `cap contract list`)"
    )


def test_the_manager_is_required(cap: Cap, world: World) -> None:
    line = cap.fails("calendar", code=2)
    assert "--manager" in line
