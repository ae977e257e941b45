"""`cap report`: the KPI report in each format, and the periods it refuses.

The history is tests/test_kpi_report.py's (its figures are worked out there); the command's
clock is frozen on Monday 30 March 2026 at noon in Stockholm.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from html.parser import HTMLParser

import pytest

from cap.domain.model import Action, Area
from tests.cli.test_cli_startup import _any, _loaded
from tests.cli_runner import Cap
from tests.conftest import World
from tests.test_kpi_report import MARCH_30, act, at, history
from tests.web.test_web_dashboard import another_supplier

Q1 = ("report", "--from", "2026-01-01", "--to", "2026-03-31")
#: A supplier name that is Markdown, HTML and a spreadsheet formula at once.
NASTY = "=Evil | <b>Co</b> & Sons"


@pytest.fixture(autouse=True)
def _march_30(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cap.cli.report.database_now", lambda workflow: MARCH_30)


@pytest.fixture
def known(world: World) -> World:
    """The history, and one finding of a supplier with a nasty name, overdue since 5 March
    (notified on 5 February, never answered)."""
    history(world)
    nasty = another_supplier(world, NASTY, "556999-0001")
    ref = nasty.finding(area=Area.CHILD_LABOUR, found_on=date(2026, 1, 2), now=at("2026-02-01"))
    act(nasty, ref, Action.NOTIFY, at("2026-02-05"))
    return world


def test_it_prints_markdown_by_default(cap: Cap, known: World) -> None:
    out = cap.ok(*Q1)
    assert out.startswith("# KPI report 2026-01-01 to 2026-03-31\n")
    assert "Figures as of 2026-03-30, dates in Europe/Stockholm." in out
    assert "| Plan accepted | 4 | 25 | 41.2 |" in out
    assert "| Closure | 2 | 55 | 62.2 |" in out
    # d, f, h and the nasty supplier's missed; e's runs until tonight.
    assert "| Plan | 4 | 4 | 1 | 50.0 % |" in out
    assert "| Remediation | 0 | 0 | 0 | n/a |" in out
    assert "## Overdue on 2026-03-30: 4" in out
    assert "| Beta AB | 556300-0001 | 2 |" in out
    assert "| =Evil \\| \\<b\\>Co\\</b\\> & Sons | 556999-0001 | 1 |" in out
    assert "| Quarter | From | To | Findings |" in out
    assert "| 2026-Q1 | 2026-01-01 | 2026-03-31 | 4 |" in out
    assert "| Working hours | 1 |" in out and "| Critical | 1 |" in out
    assert "2 of 4 findings logged in the period (50.0 %)" in out
    assert cap.ok(*Q1, "--format", "md") == out


def test_it_prints_the_use_cases_result_as_json(cap: Cap, known: World) -> None:
    data = json.loads(cap.ok(*Q1, "--format", "json"))
    assert data["start"] == "2026-01-01" and data["end"] == "2026-03-31"
    assert data["as_of"] == "2026-03-30" and data["timezone"] == "Europe/Stockholm"
    assert data["to_plan_accepted"] == {"count": 4, "median": 25.0, "p90": 41.2}
    assert data["deadlines"][0] == {
        "deadline": "plan", "met": 4, "missed": 4, "pending": 1, "share": 0.5,
    }  # fmt: skip
    assert data["overdue"] == 4
    assert data["quarters"][0]["by_area"]["child_labour"] == 1
    assert data["recurrence"]["recurring"] == 2


def test_it_prints_one_figure_a_row_as_csv(cap: Cap, known: World) -> None:
    rows = list(csv.reader(io.StringIO(cap.ok(*Q1, "--format", "csv"))))
    assert rows[0] == ["table", "row", "column", "value"]
    assert all(len(row) == 4 for row in rows)
    figures = {(t, r, c): v for t, r, c, v in rows[1:]}
    assert len(figures) == len(rows) - 1  # every figure once
    assert figures["report", "", "as_of"] == "2026-03-30"
    assert figures["days_from_notification", "plan_accepted", "median"] == "25.0"
    assert figures["days_from_notification", "closure", "p90"] == "62.2"
    assert figures["deadlines", "plan", "share"] == "0.5"
    assert figures["deadlines", "remediation", "share"] == ""  # nothing to count
    assert figures["overdue_by_supplier", "556300-0001", "overdue"] == "2"
    assert figures["overdue_by_area", "wages", "overdue"] == "2"
    assert figures["logged", "2026-Q1", "findings"] == "4"
    assert figures["logged_by_severity", "2026-Q1", "critical"] == "1"
    assert figures["recurrence", "", "share"] == "0.5"
    # A name a spreadsheet would run as a formula stays text.
    assert figures["overdue_by_supplier", "556999-0001", "supplier"] == "'" + NASTY


class _Page(HTMLParser):
    """What the checks below read of a page: its tags (with attributes), its text, and
    whether every element opened was closed in order."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.open: list[str] = []
        self.misnested: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.misnested.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_it_prints_a_standalone_printable_page(cap: Cap, known: World) -> None:
    page = cap.ok(*Q1, "--format", "html")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    parsed = _Page()
    parsed.feed(page)
    assert parsed.open == [] and parsed.misnested == []
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "link" not in tags  # nothing loaded from elsewhere
    assert "@media print" in page and "break-inside: avoid" in page
    assert tags.count("table") == tags.count("caption") == 7
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs in parsed.tags if tag == "th")
    charts = [attrs for tag, attrs in parsed.tags if tag == "svg"]
    assert [c["aria-labelledby"] for c in charts] == [
        "chart-overdue-title chart-overdue-desc", "chart-logged-title chart-logged-desc",
    ]  # fmt: skip
    text = "".join(parsed.text)
    assert "Findings logged per quarter" in text and "2026-Q1: 4 findings" in text  # bar title
    assert "Wages: 2 overdue" in text
    # The name is text, escaped: no <b> element came from it.
    assert NASTY in text and "<b>Co</b>" not in page and "b" not in tags


def test_a_period_ending_ahead_gives_the_figures_to_date(cap: Cap, known: World) -> None:
    data = json.loads(cap.ok("report", "--from", "2026-01-01", "--to", "2026-12-31",
                             "--format", "json"))  # fmt: skip
    assert data["as_of"] == "2026-03-30"
    assert [q["quarter"] for q in data["quarters"]] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [q["logged"] for q in data["quarters"]] == [4, 0, 0, 0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-03-01", "--to", "2026-02-01"),
         "error: from: 2026-03-01 is after to (2026-02-01)"),
        (("--from", "2026-04-01", "--to", "2026-04-30"),
         "error: from: 2026-04-01 is after today (2026-03-30)"),
        (("--from", "2026-13-01", "--to", "2026-03-31"),
         "error: from: '2026-13-01' is not a date; write it as YYYY-MM-DD"),
        (("--from", "2026-01-01", "--to", "31/03/2026"),
         "error: to: '31/03/2026' is not a date; write it as YYYY-MM-DD"),
        (("--from", "0001-01-01", "--to", "2026-03-31"),
         "error: from: 0001-01-01 is outside the years the calendar covers"),
        (("--from", "2026-01-01", "--to", "9999-12-31"),
         "error: to: 9999-12-31 is outside the years the calendar covers"),
        (("--from", "", "--to", "2026-03-31"), "error: from: missing; give --from YYYY-MM-DD"),
        (("--from", "2026-01-01",), "error: to: missing; give --to"),
        (("--from", "2026-01-01", "--to", "2026-03-31", "--format", "pdf"),
         "error: format: 'pdf' is not one of md, csv, json, html"),
    ],
)  # fmt: skip
def test_it_refuses_a_bad_period_or_format_in_one_line(
    cap: Cap, world: World, args: tuple[str, ...], message: str
) -> None:
    line = cap.fails("report", *args, code=2)
    assert line.startswith(message), line


def test_its_help_loads_no_database_or_templates() -> None:
    loaded = _loaded("report", "--help")
    for heavy in ("sqlalchemy", "jinja2", "cap.workflow"):
        assert not _any(loaded, heavy), heavy
