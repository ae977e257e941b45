"""`cap obligation list|show|add|receive|extend|waive`: tables, JSON, and one error line
naming the option (nothing written) for bad input. The command line's day is the real one, so
the contract here starts five months before today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cap.domain.calendar import add_months
from tests.cli_runner import Cap
from tests.conftest import ANNA, World

TODAY = date.today()
START = add_months(TODAY, -5)


@pytest.fixture
def owed(cap: Cap, world: World) -> Cap:
    """Contract LIC-CLI, started five months ago: its social-risk report is due in about a
    month (report 1)."""
    cap.ok("contract", "add", "LIC-CLI", "--supplier", world.org_number, "--category",
           "Laptops", "--manager", ANNA, "--start", START.isoformat())  # fmt: skip
    return cap


def test_the_report_a_new_contract_owes_is_listed(owed: Cap) -> None:
    [report] = owed.json("obligation", "list")
    assert (report["id"], report["contract"], report["kind"], report["state"]) == (
        1, "LIC-CLI", "social_risk_report", "due",
    )  # fmt: skip
    assert date.fromisoformat(report["due"]) >= add_months(START, 6)
    lines = owed.ok("obligation", "list").splitlines()
    assert lines[0].split() == ["ID", "DUE", "STATE", "OVERDUE", "CONTRACT", "SUPPLIER", "REPORT"]
    assert lines[1].split()[:3] == ["1", report["due"], "due"]
    assert lines[1].endswith("social-risk report")
    assert owed.ok("obligation", "list", "--overdue") == "No overdue reports.\n"


def test_receiving_a_report_is_recorded_and_shown(owed: Cap) -> None:
    out = owed.ok("obligation", "receive", "1", "--on", TODAY.isoformat(), "--ref", "SR-7")
    assert out.startswith("report 1 (social-risk report, contract LIC-CLI): received, due ")
    shown = owed.json("obligation", "show", "1")
    assert shown["obligation"]["received_on"] == TODAY.isoformat()
    assert [e["kind"] for e in shown["events"]] == ["recorded", "receive"]
    assert shown["events"][-1]["data"]["reference"] == "SR-7"
    assert shown["allowed"] == [] and shown["timeline"] == []
    text = owed.ok("obligation", "show", "1")
    assert f"received on {TODAY.isoformat()}" in text and "receive" in text
    assert owed.fails("obligation", "receive", "1", "--on", TODAY.isoformat(), code=6) == (
        "error: cannot receive: the report is received; allowed now: nothing (it is settled)"
    )


def test_bad_input_is_one_line_and_changes_nothing(owed: Cap) -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert owed.fails("obligation", "receive", "1", "--on", tomorrow, code=2).startswith(
        f"error: on: {tomorrow} is in the future; give the day the report came in"
    )
    assert owed.fails("obligation", "receive", "1", "--on", "31/12/2026", code=2) == (
        "error: on: '31/12/2026' is not a date; write it as YYYY-MM-DD"
    )
    assert owed.fails("obligation", "show", "42", code=4).startswith(
        "error: report: no reporting obligation 42"
    )
    assert owed.fails("obligation", "show", "abc", code=2) == (
        "error: report: 'abc' is not a whole number"
    )
    assert "--reason" in owed.fails("obligation", "waive", "1", code=2)
    assert owed.fails("obligation", "add", "LIC-CLI", "--kind", "other", code=2).startswith(
        "error: title: a report of kind 'other' needs a title"
    )
    assert owed.fails("obligation", "add", "LIC-CLI", code=5).startswith(
        "error: due: contract LIC-CLI already owes a social_risk_report report due on "
    )
    assert [e["kind"] for e in owed.json("obligation", "show", "1")["events"]] == ["recorded"]


def test_an_extension_and_a_waiver(owed: Cap) -> None:
    [report] = owed.json("obligation", "list")
    later = (date.fromisoformat(report["due"]) + timedelta(days=30)).isoformat()
    view = owed.json("obligation", "extend", "1", "--until", later, "--reason", "Auditor ill")
    assert view["due"] >= later and view["first_due"] == report["due"]
    assert owed.ok("obligation", "waive", "1", "--reason", "Contract ended").startswith(
        "report 1 (social-risk report, contract LIC-CLI): waived"
    )
    assert owed.json("obligation", "list", "--state", "waived")[0]["id"] == 1


def test_more_reports_are_added_with_a_date_or_from_the_start(owed: Cap, world: World) -> None:
    out = owed.ok("obligation", "add", world.contract, "--kind", "other", "--title",
                  "Wage survey", "--due", add_months(TODAY, 2).isoformat())  # fmt: skip
    assert out == (
        f"report 2: Wage survey for contract {world.contract}, due "
        f"{owed.json('obligation', 'show', '2')['obligation']['due']}\n"
    )
    # The world's contract started in 2019: its report, added now, is long overdue.
    old = owed.json("obligation", "add", world.contract)
    assert (old["due"], old["overdue"]) == ("2019-11-01", True)
    assert [o["id"] for o in owed.json("obligation", "list", "--overdue")] == [old["id"]]
