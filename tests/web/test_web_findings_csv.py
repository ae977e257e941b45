"""The findings export at /findings.csv: every finding of the filtered list across its pages,
in its order, UTF-8 with a byte order mark, formulas neutralised, named by today's local date
(both databases)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

import httpx
import pytest

from cap.domain.inputs import FindingInput
from cap.domain.model import Area, DeadlineKind, Severity, Source, State
from cap.web.findings import CSV_HEADER, csv_chunks, neutralised
from cap.workflow.listing import ListedFinding
from tests.conftest import ANNA, BO, World
from tests.web.conftest import Clock
from tests.web.desk_client import Desk
from tests.web.test_web_findings_list import ACME, LOGGED, listed, log, mixed, shown

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)"]


def rows_of(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


@pytest.fixture
def bo(signed_in: Callable[[str], Desk]) -> Desk:
    return signed_in(BO)


def test_the_export_has_the_rows_of_every_page_of_the_list(desk_world: World, bo: Desk) -> None:
    inputs = [
        FindingInput(contract=desk_world.contract, severity=Severity.MINOR, area=Area.WAGES,
                     source=Source.WORKER_COMPLAINT, title=f"Deductions {i:02d}")
        for i in range(57)
    ]  # fmt: skip
    desk_world.workflow.log_findings(inputs, actor=ANNA, now=LOGGED, allow_duplicates=True)
    mixed(desk_world)
    query = "severity=minor&sort=title&order=desc"
    pages = [listed(bo.get(f"/findings?{query}&page={n}")) for n in (1, 2)]
    assert [len(p) for p in pages] == [50, 9]
    response = bo.get(f"/findings.csv?{query}")
    rows = rows_of(response)
    assert rows[0] == list(CSV_HEADER)
    assert [row[0] for row in rows[1:]] == pages[0] + pages[1]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    # The page's export link is this list, without its page.
    page_two = bo.get(f"/findings?{query}&page=2").text
    assert '<a href="/findings.csv?severity=minor&amp;sort=title&amp;order=desc" download>' in (
        page_two
    )
    # Unfiltered: every finding; an unknown supplier: the header alone.
    assert len(rows_of(bo.get("/findings.csv"))) == 1 + 57 + 6
    assert rows_of(bo.get("/findings.csv?supplier=000")) == [list(CSV_HEADER)]


def test_a_row_has_every_column_as_machines_read_them(desk_world: World, bo: Desk) -> None:
    refs = mixed(desk_world)
    late = shown(desk_world, refs["late_plan"])
    assert late.due is not None
    rows = rows_of(bo.get(f"/findings.csv?supplier={ACME}&overdue=1&severity=critical"))
    assert rows[1:] == [
        [late.ref, "awaiting_plan", "critical", "health_and_safety", "Blocked fire exits",
         "Acme Electronics AB", ACME, "RS-2024-ICT-07", "Final assembly, Dongguan",
         "2025-12-01", "plan", late.due.isoformat(), "yes", str(late.escalation_level)],
    ]  # fmt: skip
    open_row = rows_of(bo.get("/findings.csv?state=open"))[1]
    assert open_row[0] == refs["open"] and open_row[10:13] == ["", "", "no"]


def test_cells_that_would_run_as_formulas_are_neutralised(desk_world: World, bo: Desk) -> None:
    for title in HOSTILE:
        log(desk_world, title, site=title)
    log(desk_world, "Ordinary - with a dash", site="Åsa's plant")
    rows = rows_of(bo.get("/findings.csv?sort=ref"))
    titles = [row[4] for row in rows[1:]]
    assert titles == [f"'{t}" for t in HOSTILE] + ["Ordinary - with a dash"]
    assert [row[8] for row in rows[1:]] == [f"'{t}" for t in HOSTILE] + ["Åsa's plant"]
    for cell in ("\tx", "\rx", "=1", "+1", "-1", "@x"):
        assert neutralised(cell) == "'" + cell
    assert neutralised("") == "" and neutralised("a=1") == "a=1"


def test_the_file_is_named_by_todays_local_date(bo: Desk, clock: Clock) -> None:
    response = bo.get("/findings.csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="findings-2026-03-03.csv"'
    )
    clock.now = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)  # half past midnight in Stockholm
    response = bo.get("/findings.csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="findings-2026-03-04.csv"'
    )
    assert rows_of(response) == [list(CSV_HEADER)]


def test_the_file_comes_in_chunks_that_make_one_csv() -> None:
    row = ListedFinding(
        ref="NC-2026-0001", state=State.REMEDIATING, severity=Severity.MAJOR, area=Area.WAGES,
        title='Line one\nline "two", and more', supplier="Nordic IT Supply AB",
        supplier_org_number="556000-1234", contract="RS-2019-ICT-01", plan_due=None,
        remediation_due=date(2026, 9, 1), current_deadline=DeadlineKind.REMEDIATION,
        due=date(2026, 9, 1), overdue=False, escalation_level=0, site=None,
        found_on=date(2026, 1, 20),
    )  # fmt: skip
    many = [replace(row, ref=f"NC-2026-{i:04d}") for i in range(1, 1202)]
    chunks = list(csv_chunks(many))
    assert len(chunks) == 3  # 500, 500 and the rest (with the header in the first)
    assert chunks[0].startswith(b"\xef\xbb\xbf") and not chunks[1].startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert len(rows) == 1 + 1201 and rows[-1][0] == "NC-2026-1201"
    assert rows[1][4] == 'Line one\nline "two", and more' and rows[1][12] == "no"
    assert rows[1][10:12] == ["remediation", "2026-09-01"]
    assert b"".join(csv_chunks([])).decode("utf-8-sig") == ",".join(CSV_HEADER) + "\r\n"


def test_excel_with_a_decimal_comma_gets_semicolons(desk_world: World, bo: Desk) -> None:
    mixed(desk_world)
    page = bo.get("/findings?severity=critical").text
    assert '<a href="/findings.csv?severity=critical&amp;sep=semicolon" download>' in page
    commas = rows_of(bo.get("/findings.csv?severity=critical"))
    response = bo.get("/findings.csv?severity=critical&sep=semicolon")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(CSV_HEADER)
    assert list(csv.reader(io.StringIO(text, newline=""), delimiter=";")) == commas
    assert rows_of(bo.get("/findings.csv?severity=critical&sep=comma")) == commas


@pytest.mark.parametrize(
    ("query", "message"),
    [("sep=tab", "sep: choose comma or semicolon"),
     ("sep=comma&sep=semicolon", "sep: give it once")],
)  # fmt: skip
def test_a_bad_separator_is_named(desk_world: World, bo: Desk, query: str, message: str) -> None:
    refused = bo.get(f"/findings.csv?{query}")
    assert refused.status_code == 400 and message in refused.text
