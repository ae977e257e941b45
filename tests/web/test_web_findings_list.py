"""The findings list at /findings: each filter narrows it, search takes what is typed
literally, htmx gets the results alone, hostile text stays text, Swedish pages, and who may see
it (both databases). The helpers here build the findings the other test_web_findings_* use."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import httpx
import pytest

from cap.config import Settings
from cap.domain.inputs import ContractInput, FindingInput, PlanAction, PlanInput, SupplierInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Area, Language, Severity, Source, StaffRole, State
from cap.workflow import FindingView
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import AS_ROLE, PASSWORD, Clock
from tests.web.desk_client import Desk
from tests.web.test_web_headers import INLINE

#: When the findings of these tests were logged: their actions come after.
LOGGED = NOW - timedelta(days=70)
ACME = "556999-0001"  # a second supplier, with a contract of its own
ACME_CONTRACT = "RS-2024-ICT-07"
PLAN = PlanInput(
    root_cause="Orders accepted beyond line capacity.",
    actions=[PlanAction(description="Cap overtime", owner="Plant manager", due=date(2026, 6, 1))],
)
_ROW_REF = re.compile(r'<td><a href="/findings/([^"]+)">')


def add_acme(world: World) -> None:
    world.workflow.add_supplier(
        SupplierInput(name="Acme Electronics AB", org_number=ACME, country="SE",
                      email="sales@acme.example", language=Language.SV),
        now=LOGGED,
    )  # fmt: skip
    world.workflow.add_contract(
        ContractInput(reference=ACME_CONTRACT, supplier=ACME, category="Monitors", manager=ANNA),
        now=LOGGED,
    )


def log(
    world: World,
    title: str,
    *,
    site: str | None = "Final assembly, Dongguan",
    contract: str | None = None,
    severity: Severity = Severity.MAJOR,
    area: Area = Area.WORKING_HOURS,
    found_on: date = date(2025, 12, 1),
) -> str:
    return world.workflow.log_finding(
        FindingInput(contract=contract or world.contract, severity=severity, area=area,
                     source=Source.FACTORY_AUDIT, title=title, site=site, found_on=found_on),
        actor=ANNA,
        now=LOGGED,
    )  # fmt: skip


def act(world: World, ref: str, action: Action, days_before_now: int, **kw: object) -> None:
    at = NOW - timedelta(days=days_before_now)
    actor = LI if action in (Action.SUBMIT_PLAN, Action.REPORT_REMEDIATION) else ANNA
    request = ActionRequest(action, actor, at, **kw)  # type: ignore[arg-type]
    plan = PLAN if action is Action.SUBMIT_PLAN else None
    world.workflow.act(ref, request, now=at, plan=plan, view=False)


def mixed(world: World) -> dict[str, str]:
    """Six findings of two suppliers in five states, by name: ``open`` (no deadline),
    ``late_plan`` (awaiting a plan, overdue), ``plan`` (awaiting a plan, due in April),
    ``review`` (plan review, overdue), ``fixing`` (remediating) and ``closed``."""
    add_acme(world)
    refs = {
        "open": log(world, "Unpaid overtime", site="Warehouse, Shenzhen",
                    severity=Severity.MINOR, area=Area.WAGES, found_on=date(2025, 11, 3)),
        "late_plan": log(world, "Blocked fire exits", contract=ACME_CONTRACT,
                         severity=Severity.CRITICAL, area=Area.HEALTH_AND_SAFETY),
        "plan": log(world, "forced overtime at final assembly", found_on=date(2025, 12, 20)),
        "review": log(world, "Recruitment fees", site=None, contract=ACME_CONTRACT,
                      area=Area.FORCED_LABOUR, found_on=date(2025, 10, 1)),
        "fixing": log(world, "Solvent exposure", severity=Severity.CRITICAL,
                      area=Area.HEALTH_AND_SAFETY, found_on=date(2025, 12, 20)),
        "closed": log(world, "Missing payslips", severity=Severity.MINOR, area=Area.WAGES),
    }  # fmt: skip
    act(world, refs["late_plan"], Action.NOTIFY, 65)
    act(world, refs["plan"], Action.NOTIFY, 5)
    act(world, refs["review"], Action.NOTIFY, 60)
    act(world, refs["review"], Action.SUBMIT_PLAN, 40)
    act(world, refs["fixing"], Action.NOTIFY, 60)
    act(world, refs["fixing"], Action.SUBMIT_PLAN, 50)
    act(world, refs["fixing"], Action.ACCEPT_PLAN, 45, note="Credible")
    act(world, refs["closed"], Action.WITHDRAW, 30, reason="Duplicate of another finding")
    return refs


def shown(world: World, ref: str) -> FindingView:
    return world.workflow.show_finding(ref, now=NOW + timedelta(hours=1))


def listed(page: httpx.Response) -> list[str]:
    """The refs of the list's rows, in order."""
    assert page.status_code == 200, page.text
    return _ROW_REF.findall(page.text)


@pytest.fixture
def refs(desk_world: World) -> dict[str, str]:
    return mixed(desk_world)


@pytest.fixture
def bo(signed_in: Callable[[str], Desk]) -> Desk:
    return signed_in(BO)


def test_the_world_is_as_the_tests_say(desk_world: World, refs: dict[str, str]) -> None:
    states = {name: shown(desk_world, ref).state for name, ref in refs.items()}
    assert states == {
        "open": State.OPEN, "late_plan": State.AWAITING_PLAN, "plan": State.AWAITING_PLAN,
        "review": State.PLAN_REVIEW, "fixing": State.REMEDIATING, "closed": State.WITHDRAWN,
    }  # fmt: skip
    overdue = {name for name, ref in refs.items() if shown(desk_world, ref).overdue}
    assert overdue == {"late_plan", "review"}


def test_the_list_shows_every_finding_with_its_columns(
    desk_world: World, refs: dict[str, str], bo: Desk
) -> None:
    page = bo.get("/findings")
    assert len(listed(page)) == 6
    text = page.text
    assert "<h1>Findings</h1>" in text and "<title>Findings - cap</title>" in text
    assert '<p id="found">6 findings found' in text
    assert INLINE.search(text) is None
    late = shown(desk_world, refs["late_plan"])
    assert late.due is not None
    row = re.search(rf'<tr class="overdue">\s*<td><a href="/findings/{late.ref}">.*?</tr>', text,
                    re.DOTALL)  # fmt: skip
    assert row, "the overdue row is marked"
    cells = row.group(0)
    for part in (
        "<td>Blocked fire exits</td>",
        f'<a href="/suppliers/{ACME}">Acme Electronics AB</a>',
        f'<a href="/contracts/{ACME_CONTRACT}">{ACME_CONTRACT}</a>',
        "<td>awaiting plan</td>",
        '<span class="badge severity-critical">critical</span>',
        "<td>health and safety</td>",
        f"{late.due.day} {late.due.strftime('%b')} {late.due.year}",  # 1 Feb 2026
        '<span class="overdue-flag"><span aria-hidden="true">⚠</span> overdue</span>',
        "<td>1 Dec 2025</td>",
    ):
        assert part in cells, part
    # Status is never colour alone: the word is there; a finding not overdue has no flag.
    assert text.count("overdue</span>") == 2
    assert '<a href="/findings.csv" download>Export CSV</a>' in text
    assert "<caption>Findings, sorted by Due (ascending)</caption>" in text
    assert '<th scope="col" aria-sort="ascending">' in text
    assert 'aria-current="page"' in text  # the menu's Findings
    assert "Page 1 of 1" not in text  # one page: no pagination


def test_each_filter_narrows_the_list(desk_world: World, refs: dict[str, str], bo: Desk) -> None:
    def names(query: str) -> set[str]:
        found = set(listed(bo.get(f"/findings?{query}")))
        return {name for name, ref in refs.items() if ref in found}

    plan_due = shown(desk_world, refs["plan"]).due
    assert plan_due is not None
    assert names("state=awaiting_plan") == {"late_plan", "plan"}
    assert names("state=awaiting_plan&state=remediating") == {"late_plan", "plan", "fixing"}
    assert names("state=verifying") == set()
    assert names(f"supplier={ACME}") == {"late_plan", "review"}
    assert names(f"supplier={desk_world.org_number}") == {"open", "plan", "fixing", "closed"}
    assert names(f"contract={ACME_CONTRACT}") == {"late_plan", "review"}
    assert names("area=health_and_safety") == {"late_plan", "fixing"}
    assert names("severity=minor") == {"open", "closed"}
    assert names("overdue=1") == {"late_plan", "review"}
    # due_before: the deadline in force now, on or before the date (both sides of it).
    assert names(f"due_before={plan_due.isoformat()}") == {"late_plan", "review", "plan"}
    earlier = plan_due - timedelta(days=1)
    assert names(f"due_before={earlier.isoformat()}") == {"late_plan", "review"}
    # Filters together narrow further; blank fields (a form sent as it is) filter nothing.
    assert names(f"severity=critical&supplier={ACME}&overdue=1") == {"late_plan"}
    assert names("state=&supplier=&contract=&area=&severity=&due_before=&q=&sort=&order=") == set(
        refs
    )
    both = bo.get(f"/findings?state=awaiting_plan&state=remediating&supplier={ACME}")
    assert '<p id="found">1 finding found' in both.text
    # The form shows what is filtered, and keeps both states of a bookmarked list.
    assert '<select id="state" name="state" multiple>' in both.text
    assert '<option value="remediating" selected>remediating</option>' in both.text
    assert f'id="supplier" name="supplier" type="text" spellcheck="false" value="{ACME}"' in (
        both.text
    )
    assert (
        '<a href="/findings.csv?state=awaiting_plan&amp;state=remediating&amp;'
        f'supplier={ACME}" download>'
    ) in both.text


def test_an_unknown_supplier_or_contract_gives_an_empty_list_with_a_note(
    refs: dict[str, str], bo: Desk
) -> None:
    page = bo.get("/findings?supplier=556000-9999")
    assert listed(page) == []
    assert "No supplier has the organisation number 556000-9999." in page.text
    assert '<p id="found">0 findings found' in page.text
    page = bo.get("/findings?contract=RS-NONE")
    assert listed(page) == [] and "No contract has the reference RS-NONE." in page.text
    assert "No supplier has" not in bo.get(f"/findings?supplier={ACME}").text


def test_search_matches_ref_title_and_site_in_any_case_literally(
    desk_world: World, refs: dict[str, str], bo: Desk
) -> None:
    def names(q: str) -> set[str]:
        found = set(listed(bo.get("/findings", params={"q": q})))
        return {name for name, ref in refs.items() if ref in found}

    assert names("OVERTIME") == {"open", "plan"}  # titles, any case
    assert names("shenzhen") == {"open"}  # the site
    assert names(refs["review"].lower()) == {"review"}  # the ref
    assert names("  fire exits ") == {"late_plan"}  # spaces around are not searched for
    assert names("nothing like it") == set()
    percent = log(desk_world, "Wages 50% below minimum")
    underscore = log(desk_world, "Badge_ID reused", site="Gate_2")
    assert set(listed(bo.get("/findings?q=%25"))) == {percent}  # a % is a %, not "anything"
    assert set(listed(bo.get("/findings?q=50%25+b"))) == {percent}
    assert set(listed(bo.get("/findings?q=_"))) == {underscore}  # _ is not "one character"
    assert set(listed(bo.get("/findings?q=e_2"))) == {underscore}
    assert listed(bo.get("/findings", params={"q": "\\"})) == []
    # Every letter in any case, not A-Z only (SQLite's own lower() knows no others).
    swedish = log(desk_world, "Överarbete på ÅTERVINNINGEN", site="Lager i Älmhult")
    for q in ("överarbete", "ÖVERARBETE", "återvinningen", "älmhult"):
        assert listed(bo.get("/findings", params={"q": q})) == [swedish], q


def test_htmx_gets_the_results_alone(refs: dict[str, str], bo: Desk) -> None:
    full = bo.get("/findings?severity=critical")
    assert "<html" in full.text and '<div id="results">' in full.text
    assert 'hx-get="/findings" hx-target="#results" hx-push-url="true"' in full.text
    assert "HX-Request" in full.headers["vary"]
    partial = bo.get("/findings?severity=critical", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text and "<form" not in partial.text
    assert set(listed(partial)) == {refs["late_plan"], refs["fixing"]}
    assert '<p id="found">2 findings found' in partial.text
    assert INLINE.search(partial.text) is None
    # Going back to a page htmx no longer holds, it asks for the whole page.
    restoring = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    restore = bo.get("/findings?severity=critical", headers=restoring)
    assert "<html" in restore.text and "<form" in restore.text


def test_hostile_text_is_shown_as_text(desk_world: World, bo: Desk) -> None:
    log(desk_world, '<script>alert("title")</script>', site="<img src=x onerror=alert(1)>")
    page = bo.get("/findings")
    assert len(listed(page)) == 1
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in page.text
    hostile = '"><script>alert(1)</script>'
    searched = bo.get("/findings", params={"q": hostile, "supplier": hostile})
    assert searched.status_code == 200
    assert "<script>alert(1)" not in searched.text
    assert "No supplier has the organisation number &#34;&gt;&lt;script&gt;" in searched.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in searched.text


def test_the_swedish_list(refs: dict[str, str], web_settings: Settings, clock: Clock) -> None:
    desk = Desk(web_settings, accept_language="sv", clock=clock)
    try:
        assert desk.sign_in(BO, PASSWORD).status_code == 303
        page = desk.get("/findings?state=awaiting_plan")
        text = page.text
        assert "<h1>Avvikelser</h1>" in text and '<html lang="sv">' in text
        assert '<p id="found">2 avvikelser hittades' in text
        assert "<td>väntar på plan</td>" in text and "<td>awaiting plan</td>" not in text
        assert '<label for="due_before">Tidsfrist senast</label>' in text
        assert '<option value="health_and_safety">hälsa och säkerhet</option>' in text
        assert "Exportera CSV" in text and "Rensa filter" in text
        assert "<caption>Avvikelser, sorterade efter Senast (stigande)</caption>" in text
        assert "försenad</span>" in text
        assert "1 dec. 2025" in text  # dates as read in Sweden
        one = desk.get(f"/findings?supplier={ACME}&state=plan_review")
        assert '<p id="found">1 avvikelse hittades' in one.text
        none = desk.get("/findings?supplier=000")
        assert "Ingen leverantör har organisationsnumret 000." in none.text
    finally:
        desk.close()


def test_anonymous_visitors_sign_in_first(desk: Desk) -> None:
    for path in ("/findings?state=closed", "/findings.csv", "/findings?page=abc"):
        response = desk.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=%2Ffindings")


@pytest.mark.parametrize("role", list(AS_ROLE))
def test_every_role_may_read_the_list(
    role: StaffRole, desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    desk_world.finding()
    desk = signed_in(AS_ROLE[role])
    assert len(listed(desk.get("/findings"))) == 1
    assert desk.get("/findings.csv").status_code == 200
