"""The planning page at /planning: a year's saved audit plan as the use cases give it
(Workflow.show_audit_plan, list_audits) and the risk ranking (supplier_risks), in English and
Swedish; a year without a plan; the year by default; bad years refused next to their field;
hostile text escaped; read-only (both databases)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from cap.domain.model import Language
from cap.domain.planning import AuditKind
from cap.web import planning
from cap.web.language import translations
from cap.workflow import Workflow
from cap.workflow.audits import AuditInput, AuditPlanView
from tests.conftest import ANNA, BO, NOW, World
from tests.test_supplier_risk import BALTIC, ZETA, contract, supplier
from tests.web.conftest import Clock
from tests.web.desk_client import Desk
from tests.web.test_web_reports_page import Page, in_swedish

LOCALES = {Language.EN: "en_GB", Language.SV: "sv_SE"}
PLAN_CAPTION = (
    "The suppliers chosen, the highest score first, and the audits recorded against the plan"
)


def held(wf: Workflow, org: str, on: date, **fields: object) -> None:
    data: dict[str, object] = {"supplier": org, "kind": AuditKind.DESKTOP, "date": on,
                               "auditor": "Ethica Consulting", "report": "ETH-2026-04"}  # fmt: skip
    data.update(fields)
    wf.add_audit(AuditInput.model_validate(data), actor=ANNA, now=NOW)


@pytest.fixture
def planned(desk_world: World) -> AuditPlanView:
    """Three suppliers with contracts in force in 2026, a plan choosing two of them (made by
    Anna on NOW), two audits recorded against it and one of a supplier it did not choose."""
    wf = desk_world.workflow
    desk_world.finding()
    supplier(wf, ZETA, "Zeta Components UAB", "LT", contract("ZC-1", ZETA, "20000000"))
    supplier(wf, BALTIC, "Baltic Office Tech UAB", "LT", contract("BO-1", BALTIC, "20000000"))
    made = wf.plan_audits(2026, "67%", actor=ANNA, now=NOW)  # 67% of 3: 2
    first, second = (c.org_number for c in made.chosen)
    [left] = {desk_world.org_number, ZETA, BALTIC} - {first, second}
    held(wf, second, date(2026, 2, 10), kind=AuditKind.SITE, auditor="Intertek",
         report="ITK-55")  # fmt: skip
    held(wf, second, date(2026, 1, 12))
    held(wf, left, date(2026, 1, 5))  # not chosen: not against the plan
    plan = wf.show_audit_plan(2026)
    assert [len(c.audits) for c in plan.chosen] == [0, 2]
    return plan


def expected_plan_rows(wf: Workflow, plan: AuditPlanView, language: Language) -> list[list[str]]:
    """The chosen suppliers' rows as the use cases give them, read in ``language``."""
    _ = translations(language).gettext
    locale = LOCALES[language]
    audits = {a.id: a for a in wf.list_audits()}
    kinds = {AuditKind.DESKTOP: _("desktop audit"), AuditKind.SITE: _("site audit")}
    rows = []
    for rank, c in enumerate(plan.chosen, start=1):
        recorded = sorted((audits[i] for i in c.audits), key=lambda a: (a.held_on, a.id))
        said = [
            _("%(kind)s on %(day)s by %(auditor)s, report %(report)s")
            % {"kind": kinds[a.kind], "day": format_date(a.held_on, "medium", locale=locale),
               "auditor": a.auditor, "report": a.report}
            for a in recorded
        ]  # fmt: skip
        rows.append([str(rank), c.name or c.org_number, c.org_number, score(c.score, language),
                     c.why, " ".join(said) or _("none yet")])  # fmt: skip
    return rows


def expected_ranking(wf: Workflow, now: datetime, language: Language) -> list[list[str]]:
    _ = translations(language).gettext
    return [
        [str(rank), r.name, r.org_number, score(r.score, language),
         _(planning.FACTOR_NAMES[r.top_factor]) if r.top_factor else _("no factor scored")]
        for rank, r in enumerate(wf.supplier_risks(now=now)[: planning.RANKED], start=1)
    ]  # fmt: skip


def score(value: float, language: Language) -> str:
    return format_decimal(value, format="#,##0.0", locale=LOCALES[language])


def ranking_caption(page: Page) -> str:
    [caption] = [c for c, _ in page.tables if c != PLAN_CAPTION and "highest risk" in c]
    return caption


@pytest.mark.parametrize("language", [Language.EN, Language.SV])
def test_the_plan_its_audits_and_the_ranking_are_the_use_cases(
    planned: AuditPlanView, desk_world: World, signed_in: Callable[[str], Desk], clock: Clock,
    language: Language,
) -> None:  # fmt: skip
    browser = signed_in(BO)  # a viewer: reading is all it takes
    if language is Language.SV:
        in_swedish(browser, "/planning?year=2026")
    response = browser.get("/planning?year=2026")
    assert response.status_code == 200
    page = Page(response.text)
    [(_, plan_rows), (_, ranking_rows)] = page.tables
    wf = desk_world.workflow
    assert plan_rows[1:] == expected_plan_rows(wf, planned, language)
    assert ranking_rows[1:] == expected_ranking(wf, clock.now, language)
    # Every supplier links to its page; every header cell is scoped for a screen reader.
    for org in (desk_world.org_number, ZETA, BALTIC):
        assert f'<a href="/suppliers/{org}">' in response.text
    assert response.text.count("<th scope=") == len(re.findall(r"<th[ >]", response.text))


def test_the_plan_says_its_capacity_who_made_it_and_when(
    planned: AuditPlanView, desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    page = signed_in(BO).get("/planning?year=2026").text
    assert planned.created_at is not None
    local = planned.created_at.astimezone(desk_world.workflow.settings.calendar.tz)
    when = " ".join((format_date(local, "medium", locale="en_GB"),
                     format_time(local, "short", locale="en_GB")))  # fmt: skip
    assert '<h2 id="h-plan">Audit plan for 2026</h2>' in page
    assert "<dd>67% of the suppliers with a contract in force in 2026</dd>" in page
    assert "<dd>2 suppliers</dd>" in page and "<dd>2</dd>" in page  # chosen; audits against it
    assert f"<dd>{when} by {ANNA}</dd>" in page
    # Read-only: the page says where plans are made, and has no form that changes anything.
    main = page[page.index("<main") :]
    assert "a plan is made, or made again, on the command line" in main
    assert 'method="post"' not in main


def test_a_count_capacity_reads_as_audits(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    desk_world.workflow.plan_audits(2026, "1", actor=ANNA, now=NOW)
    page = signed_in(BO).get("/planning").text
    assert "<dd>1 audit</dd>" in page and "<dd>1 supplier</dd>" in page
    assert "<td>none yet</td>" in page


def test_a_year_without_a_plan_gives_the_command_that_makes_one(
    planned: AuditPlanView, desk_world: World, signed_in: Callable[[str], Desk], clock: Clock
) -> None:
    response = signed_in(BO).get("/planning?year=2027")
    assert response.status_code == 200
    page = response.text
    assert '<h2 id="h-plan">No plan saved for 2027</h2>' in page
    assert "<code>cap plan audits --year 2027 --capacity 15%</code>" in page
    assert PLAN_CAPTION not in page
    # The ranking is there all the same.
    [(_, ranking)] = Page(page).tables
    assert ranking[1:] == expected_ranking(desk_world.workflow, clock.now, Language.EN)


@pytest.mark.parametrize(
    ("instant", "year"),
    [
        # 23:30 on 31 December in Stockholm: still 2026.
        (datetime(2026, 12, 31, 22, 30, tzinfo=UTC), 2026),
        # 00:30 on 1 January in Stockholm, 31 December in UTC: 2027 has begun.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), 2027),
    ],
)
def test_the_year_is_the_buyers_current_year_by_default(
    planned: AuditPlanView, signed_in: Callable[[str], Desk], clock: Clock, instant: datetime,
    year: int,
) -> None:  # fmt: skip
    clock.now = instant
    page = signed_in(BO).get("/planning").text
    assert f'class="year" value="{year}"' in page
    assert ("Audit plan for 2026" in page) is (year == 2026)
    assert (f"No plan saved for {year}" in page) is (year == 2027)


def test_the_ranking_shows_the_highest_scores_only(
    planned: AuditPlanView, desk_world: World, signed_in: Callable[[str], Desk], clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(planning, "RANKED", 2)
    page = Page(signed_in(BO).get("/planning").text)
    [(_, _), (caption, rows)] = page.tables
    everyone = desk_world.workflow.supplier_risks(now=clock.now)
    assert [row[2] for row in rows[1:]] == [r.org_number for r in everyone[:2]]
    assert caption.endswith(": 2 of 3")


@pytest.mark.parametrize(
    ("year", "words"),
    [
        ("twenty", "write the year as four digits, for example 2026"),
        ("2026.0", "write the year as four digits, for example 2026"),
        ("-2026", "write the year as four digits, for example 2026"),
        ("9" * 5000, "write the year as four digits, for example 2026"),
        ("1952", "the calendar counts the years 1953 to 2100"),
        ("2101", "the calendar counts the years 1953 to 2100"),
        ("999999999", "the calendar counts the years 1953 to 2100"),
    ],
)
def test_a_bad_year_is_shown_next_to_its_field(
    planned: AuditPlanView, signed_in: Callable[[str], Desk], year: str, words: str
) -> None:
    response = signed_in(BO).get("/planning", params={"year": year})
    assert response.status_code == 400
    page = response.text
    assert page.count('class="error"') == 1 and page.count('aria-invalid="true"') == 1
    assert f'<p class="error" id="year-error">{words}</p>' in page
    assert '<a href="#year">Year: ' in page  # the summary at the top leads to the field
    assert 'aria-describedby="year-hint year-error"' in page
    assert "<title>Error: Planning - cap</title>" in page
    assert "<table" not in page  # no plan, no ranking for a year not understood
    assert len(page) < 20_000  # a long value is not echoed back


def test_two_years_are_one_too_many(planned: AuditPlanView,
                                    signed_in: Callable[[str], Desk]) -> None:  # fmt: skip
    response = signed_in(BO).get("/planning?year=2026&year=2027")
    assert response.status_code == 400
    assert '<p class="error" id="year-error">give one year</p>' in response.text


@pytest.mark.parametrize("year", ["1953", "2100", " 2026 ", ""])
def test_the_years_just_inside_the_calendar_are_shown(
    planned: AuditPlanView, signed_in: Callable[[str], Desk], year: str
) -> None:
    response = signed_in(BO).get("/planning", params={"year": year})
    assert response.status_code == 200, response.text
    assert 'class="error"' not in response.text


def test_the_page_reads_swedish(planned: AuditPlanView, signed_in: Callable[[str], Desk]) -> None:
    browser = in_swedish(signed_in(ANNA), "/planning")
    page = browser.get("/planning?year=2026").text
    assert '<html lang="sv">' in page and "<h1>Planering</h1>" in page
    assert '<a href="/planning" aria-current="page">Planering</a>' in page
    assert "<dd>67\xa0% av leverantörerna med ett gällande kontrakt 2026</dd>" in page
    assert "<dd>3 mars 2026 10:00 av anna.manager@region.example</dd>" in page
    # The plan's reasons are the use case's English words: marked as such.
    assert '<td class="why" lang="en">score ' in page
    assert "revision på plats 10 feb. 2026 av Intertek, rapport ITK-55" in page
    bad = browser.get("/planning?year=1900")
    assert bad.status_code == 400
    assert '<p class="error" id="year-error">kalendern räknar åren 1953 till 2100</p>' in bad.text
    none = browser.get("/planning?year=2030").text
    assert "Ingen plan sparad för 2030" in none and "för 15\xa0% av leverantörerna" in none


def test_hostile_text_is_escaped(desk_world: World, signed_in: Callable[[str], Desk]) -> None:
    wf = desk_world.workflow
    hostile = '<script>alert("s")</script> AB'
    supplier(wf, ZETA, hostile, "LT", contract("ZC-1", ZETA, "90000000"))
    wf.plan_audits(2026, "100%", actor=ANNA, now=NOW)
    held(wf, ZETA, date(2026, 2, 1), auditor='<img src=x onerror="alert(1)">',
         report="<b>R-1</b>")  # fmt: skip

    page = signed_in(BO).get("/planning").text

    assert "<script>alert" not in page and "<img src=x" not in page and "<b>R-1" not in page
    assert page.count("&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt; AB") == 2  # plan, ranking
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert " style=" not in page and re.search(r"<script(?! src=)", page) is None


def test_the_menu_links_to_the_page(desk_world: World, signed_in: Callable[[str], Desk]) -> None:
    browser = signed_in(BO)
    assert '<a href="/planning">Planning</a>' in browser.get("/desk").text
    assert '<a href="/planning" aria-current="page">Planning</a>' in browser.get("/planning").text
