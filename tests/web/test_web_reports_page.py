"""The reports page at /reports: the figures of the use case (Workflow.kpi_report) for a known
history (tests/test_kpi_report.py), in English and Swedish, each chart beside its table; the
period by default; bad periods refused next to their field; hostile text escaped; the print
view (both databases)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal

from cap.domain.model import Action, Area, Language, Severity
from cap.web.labels import label
from cap.web.language import translations
from cap.web.reports import CHART_WIDTH, MAX_YEARS
from cap.workflow.reports import KpiReport
from tests.conftest import ANNA, BO, NOW, World
from tests.test_kpi_report import MARCH_30, history
from tests.web.conftest import Clock
from tests.web.desk_client import Desk
from tests.web.test_web_dashboard import act, another_supplier

Q1 = "/reports?from=2026-01-01&to=2026-03-31"
LOCALES = {Language.EN: "en_GB", Language.SV: "sv_SE"}


@dataclass
class Chart:
    title: str = ""
    bars: list[tuple[int, float, str]] = field(default_factory=list)  # value, width, title


class Page(HTMLParser):
    """The tables of a page (caption, rows of cell texts, the header row first) and its
    charts (title, bars), in the order they come."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.charts: list[Chart] = []
        self._text: list[str] | None = None
        self._where = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append(("", []))
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in ("caption", "th", "td") or (tag == "title" and self.charts):
            self._text, self._where = [], tag
        elif tag == "svg":
            self.charts.append(Chart())
        elif tag == "rect" and a.get("class") == "bar":
            self.charts[-1].bars.append((int(a["data-value"] or ""), float(a["width"] or ""), ""))

    def handle_endtag(self, tag: str) -> None:
        if self._text is None or tag != self._where:
            return
        text = re.sub(r"[ \t\r\n]+", " ", "".join(self._text)).strip()  # no-break spaces kept
        self._text = None
        if tag == "caption":
            self.tables[-1] = (text, self.tables[-1][1])
        elif tag in ("th", "td"):
            self.tables[-1][1][-1].append(text)
        elif not self.charts[-1].title:
            self.charts[-1].title = text
        else:
            value, width, _ = self.charts[-1].bars[-1]
            self.charts[-1].bars[-1] = (value, width, text)

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def table(self, caption: str) -> list[list[str]]:
        """The body rows of the table captioned ``caption``."""
        [rows] = [rows for found, rows in self.tables if found == caption]
        return rows[1:]


def expected_tables(r: KpiReport, language: Language) -> list[list[list[str]]]:
    """The body rows of the page's tables, in order, as the use case's figures read in
    ``language``: numbers and dates in its locale, words from its catalog."""
    _ = translations(language).gettext
    locale = LOCALES[language]

    def n(value: float) -> str:
        return format_decimal(value, locale=locale)

    def days(value: float | None) -> str:
        return _("n/a") if value is None else n(value)

    def percent(value: float | None) -> str:
        if value is None:
            return _("n/a")
        figure = f"{value * 100:.1f}"
        return f"{figure}%" if language is Language.EN else figure.replace(".", ",") + "\xa0%"

    def day(value: date, pattern: str = "medium") -> str:
        return format_date(value, pattern, locale=locale)

    areas = [a for a in Area if any(q.by_area[a] for q in r.quarters)]
    tables = [
        [[_(name), n(d.count), days(d.median), days(d.p90)]
         for name, d in (("Plan accepted", r.to_plan_accepted), ("Closure", r.to_closure))],
        [[_(s.deadline.value.capitalize()), n(s.met), n(s.missed), n(s.pending),
          percent(s.share)] for s in r.deadlines],
    ]  # fmt: skip
    if r.overdue:
        tables += [
            [[_(label(a.area)), n(a.overdue)] for a in r.overdue_by_area],
            [[s.supplier, s.org_number, n(s.overdue)] for s in r.overdue_by_supplier],
        ]
    tables += [
        [[day(q.first, "QQQ y"), day(q.first), day(q.last), n(q.logged)] for q in r.quarters],
        [[_(label(a)), *(n(q.by_area[a]) for q in r.quarters)] for a in areas]
        + [[_("All areas"), *(n(q.logged) for q in r.quarters)]],
        [[_(label(s)), *(n(q.by_severity[s]) for q in r.quarters)] for s in Severity],
    ]
    if r.recurrence.lines:
        tables.append(
            [
                [
                    x.supplier,
                    x.org_number,
                    _(label(x.area)),
                    n(x.logged),
                    n(x.recurring),
                    ", ".join(x.refs),
                ]
                for x in r.recurrence.lines
            ]
        )
    return tables


@pytest.fixture
def q1(desk_world: World, clock: Clock) -> KpiReport:
    """The history of tests/test_kpi_report.py, seen on 30 March 2026: its first quarter."""
    history(desk_world)
    clock.now = MARCH_30
    report = desk_world.workflow.kpi_report(date(2026, 1, 1), date(2026, 3, 31), now=MARCH_30)
    # Every table of the page has rows: the comparison below covers them all.
    assert report.overdue and report.recurrence.lines and report.to_closure.count
    return report


def in_swedish(browser: Desk, path: str) -> Desk:
    browser.post("/language", {"csrftoken": browser.token(path), "language": "sv", "next": path})
    return browser


@pytest.mark.parametrize("language", [Language.EN, Language.SV])
def test_the_tables_give_the_use_cases_figures(
    q1: KpiReport, signed_in: Callable[[str], Desk], language: Language
) -> None:
    browser = signed_in(BO)  # a viewer: reading is all it takes
    if language is Language.SV:
        in_swedish(browser, Q1)
    response = browser.get(Q1)
    assert response.status_code == 200
    page = Page(response.text)
    assert [rows[1:] for _, rows in page.tables] == expected_tables(q1, language)
    assert all(caption for caption, _ in page.tables)
    # Every table's header cells are scoped: a screen reader names each figure.
    assert response.text.count("<th scope=") == len(re.findall(r"<th[ >]", response.text))


def test_the_page_reads_swedish(q1: KpiReport, signed_in: Callable[[str], Desk]) -> None:
    page = in_swedish(signed_in(ANNA), Q1).get(Q1).text
    assert '<html lang="sv">' in page and "<h1>Rapporter</h1>" in page
    assert "Från 1 jan. 2026 till 31 mars 2026. Siffrorna gäller 30 mars 2026" in page
    tables = Page(page)
    # 25 and 41,2 days; a share with a decimal comma and a space before the per cent sign.
    assert tables.table(
        "Kalenderdagar från underrättelsen, för de avvikelser vars åtgärdsplan godkändes eller "
        "som avslutades under perioden"
    )[0] == ["Åtgärdsplanen godkänd", "4", "25", "41,2"]  # fmt: skip
    assert "K1 2026" in page and ">Skriv ut</a>" in page
    assert re.search(r"\d,\d\xa0%", page)


def test_each_chart_draws_its_tables_figures(
    q1: KpiReport, signed_in: Callable[[str], Desk]
) -> None:
    page = Page(signed_in(BO).get(Q1).text)
    charts = {chart.title: chart for chart in page.charts}
    for title, caption in (("Findings overdue by area", "Findings overdue by area"),
                           ("Findings logged per quarter", "Findings logged per quarter (the "
                            "first and the last cut to the period)")):  # fmt: skip
        bars = charts[title].bars
        rows = page.table(caption)
        assert [(f"{row[0]}: {row[-1]}", int(row[-1])) for row in rows] == [
            (said, value) for value, _, said in bars
        ]
        largest = max(value for value, _, _ in bars)
        longest = max(width for _, width, _ in bars)
        assert 0 < longest < CHART_WIDTH
        for value, width, _ in bars:  # in proportion to the largest
            assert width == pytest.approx(longest * value / largest, abs=0.01)
    html = signed_in(BO).get(Q1).text
    assert 'role="img" aria-labelledby="chart-overdue-title chart-overdue-desc"' in html
    assert '<title id="chart-logged-title">Findings logged per quarter</title>' in html


@pytest.mark.parametrize(
    ("instant", "start", "end"),
    [
        # 23:30 on 31 March in Stockholm (summer time): still the first quarter.
        (datetime(2026, 3, 31, 21, 30, tzinfo=UTC), "2026-01-01", "2026-03-31"),
        # 00:30 on 1 April in Stockholm, 31 March in UTC: the second quarter has begun.
        (datetime(2026, 3, 31, 22, 30, tzinfo=UTC), "2026-04-01", "2026-04-01"),
    ],
)
def test_the_period_is_the_buyers_current_quarter_so_far_by_default(
    q1: KpiReport, desk_world: World, signed_in: Callable[[str], Desk], clock: Clock,
    instant: datetime, start: str, end: str,
) -> None:  # fmt: skip
    clock.now = instant
    page = signed_in(BO).get("/reports").text
    assert f'id="from" name="from" type="date" value="{start}"' in page
    assert f'id="to" name="to" type="date" value="{end}"' in page
    report = desk_world.workflow.kpi_report(
        date.fromisoformat(start), date.fromisoformat(end), now=instant
    )
    assert [rows[1:] for _, rows in Page(page).tables] == expected_tables(report, Language.EN)
    # Without a first day: the quarter of the last one.
    later = signed_in(BO).get("/reports?to=2026-02-10").text
    assert 'value="2026-01-01"' in later and 'value="2026-02-10"' in later


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("from=2026-02-30", "from", "write the date as YYYY-MM-DD"),
        ("from=yesterday&to=2026-03-01", "from", "write the date as YYYY-MM-DD"),
        ("to=" + "9" * 5000, "to", "write the date as YYYY-MM-DD"),
        ("from=2026-01-01&from=2026-02-01", "from", "give one date"),
        ("from=2026-03-01&to=2026-02-28", "to", "the period ends before it starts; choose "
                                                 "1 Mar 2026 or later"),
        ("from=1900-01-01&to=2026-03-01", "from", "the calendar counts the years 1953 to 2100"),
        ("from=2026-01-01&to=2101-01-01", "to", "the calendar counts the years 1953 to 2100"),
        ("to=2101-01-01", "to", "the calendar counts the years 1953 to 2100"),
        ("from=2026-03-31", "from", "the period starts after today (30 Mar 2026)"),
        ("from=2021-01-01&to=2026-01-01", "to", f"a period is at most {MAX_YEARS} years; "
                                                 "choose 31 Dec 2025 or earlier"),
    ],
)  # fmt: skip
def test_a_bad_period_is_shown_next_to_its_field(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock, query: str, field: str,
    words: str,
) -> None:  # fmt: skip
    clock.now = MARCH_30
    response = signed_in(BO).get(f"/reports?{query}")
    assert response.status_code == 400
    page = response.text
    assert page.count('class="error"') == 1 and page.count('aria-invalid="true"') == 1
    assert re.search(rf'<p class="error" id="{field}-error">{re.escape(words)}', page), page
    assert f'<a href="#{field}">' in page  # the summary at the top leads to the field
    assert 'aria-describedby="' + f'{field}-hint {field}-error"' in page
    assert "<title>Error: Reports - cap</title>" in page
    assert "Days from notification" not in page  # no figures for a period not understood
    assert len(page) < 20_000  # a long value is not echoed back


@pytest.mark.parametrize(
    "query", ["from=2021-01-01&to=2025-12-31", "from=2026-03-30", "from=1953-01-01&to=1953-01-01"]
)
def test_the_period_just_inside_each_limit_is_shown(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock, query: str
) -> None:
    clock.now = MARCH_30
    response = signed_in(BO).get(f"/reports?{query}")
    assert response.status_code == 200, response.text
    assert 'class="error"' not in response.text and "Days from notification" in response.text


def test_a_bad_period_reads_swedish(desk_world: World, signed_in: Callable[[str], Desk],
                                    clock: Clock) -> None:  # fmt: skip
    clock.now = MARCH_30
    path = "/reports?from=2026-03-01&to=2026-02-28"
    response = in_swedish(signed_in(BO), path).get(path)
    assert response.status_code == 400
    assert (
        '<p class="error" id="to-error">perioden slutar innan den börjar; välj 1 mars 2026 '
        "eller senare</p>"
    ) in response.text
    assert '<h2 id="error-summary-title">Något behöver rättas</h2>' in response.text


def test_hostile_text_is_escaped(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock
) -> None:
    hostile = another_supplier(desk_world, '<script>alert("s")</script> AB', "556999-0001")
    for found in (date(2025, 6, 1), date(2026, 1, 10)):  # the second recurs
        ref = hostile.finding(found_on=found, now=datetime(2026, 1, 12, 10, tzinfo=UTC))
        act(hostile, ref, Action.NOTIFY, NOW)
    clock.now = datetime(2026, 4, 20, 10, tzinfo=UTC)  # both overdue

    page = signed_in(BO).get("/reports?from=2026-01-01&to=2026-04-20").text

    assert "<script>alert" not in page
    escaped = "&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt; AB"
    assert page.count(escaped) == 2  # overdue by supplier, recurrence
    assert " style=" not in page and re.search(r"<script(?! src=)", page) is None


def test_the_print_link_opens_the_same_figures_without_menu_or_form(
    q1: KpiReport, signed_in: Callable[[str], Desk]
) -> None:
    browser = signed_in(BO)
    page = browser.get(Q1).text
    assert '<a href="/reports?from=2026-01-01&amp;to=2026-03-31&amp;print=1">Print</a>' in page
    printed = browser.get(f"{Q1}&print=1")
    assert printed.status_code == 200
    assert 'aria-label="Main menu"' not in printed.text
    assert 'action="/reports"' not in printed.text
    assert Page(printed.text).tables == Page(page).tables
    assert '<a href="/reports?from=2026-01-01&amp;to=2026-03-31">' in printed.text
    css = (Path(__file__).parents[2] / "cap" / "web" / "static" / "cap.css").read_text()
    assert re.search(r"@media print \{.*\.site-header[^}]*display: none", css, re.DOTALL)


def test_the_menu_links_to_the_page(desk_world: World, signed_in: Callable[[str], Desk]) -> None:
    browser = signed_in(BO)
    assert '<a href="/reports">Reports</a>' in browser.get("/desk").text
    assert '<a href="/reports" aria-current="page">Reports</a>' in browser.get("/reports").text
