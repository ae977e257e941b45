"""Supplier risks from the database (SQLite and PostgreSQL): the facts each supplier's score is
made of, the order of the list, an unknown supplier, and a query count that does not grow with
the number of suppliers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from cap.config import Settings
from cap.domain.inputs import ContractInput, FindingInput, PlanAction, PlanInput, SupplierInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Area, Language, Severity, Source
from cap.errors import NotFound
from cap.workflow import Workflow
from cap.workflow.risk import SupplierRisk
from tests.conftest import ANNA, LI, NOW, World, database_for, make_world
from tests.test_risk_scoring import rules_file

ACME = "556777-0001"
BALTIC = "304518772"
ZETA = "304518999"


@pytest.fixture
def world(settings: Settings, tmp_path: Path) -> World:
    """The conftest world (Nordic IT Supply AB, SE) scored by tests/test_risk_scoring.py's
    rules, whose weights add up to 10."""
    scored = settings.model_copy(update={"risk_rules": rules_file(tmp_path)})
    return make_world(Workflow(database_for(scored.database_url), scored))


def supplier(wf: Workflow, org: str, name: str, country: str, *contracts: ContractInput) -> None:
    wf.add_supplier(
        SupplierInput(name=name, org_number=org, country=country, email=f"info@{org}.example",
                      language=Language.EN),
        now=NOW,
    )  # fmt: skip
    for contract in contracts:
        wf.add_contract(contract, now=NOW)


def contract(ref: str, org: str, value: str, end: date | None = None) -> ContractInput:
    return ContractInput(reference=ref, supplier=org, category="Monitors", manager=ANNA,
                         start=date(2020, 1, 1), end=end, value=Decimal(value))  # fmt: skip


def log(wf: Workflow, contract_ref: str, **fields: Any) -> str:
    data: dict[str, Any] = {
        "contract": contract_ref, "severity": Severity.MAJOR, "area": Area.WAGES,
        "source": Source.MONITORING_REPORT, "title": "Unpaid overtime",
        "found_on": date(2026, 1, 10),
    }  # fmt: skip
    data.update(fields)
    return wf.log_finding(FindingInput(**data), actor=ANNA, now=NOW)


def act(wf: Workflow, ref: str, action: Action, at: datetime, actor: str = ANNA,
        **kw: Any) -> None:  # fmt: skip
    plan = PlanInput(
        root_cause="Orders beyond capacity",
        actions=[PlanAction(description="Cap overtime", owner="HR", due=date(2026, 5, 1))],
    )
    request = ActionRequest(action=action, actor=actor, at=at, **kw)
    wf.act(ref, request, now=at, plan=plan if action is Action.SUBMIT_PLAN else None)


def close(wf: Workflow, ref: str) -> None:
    t = NOW + timedelta(hours=1)
    act(wf, ref, Action.NOTIFY, t)
    act(wf, ref, Action.SUBMIT_PLAN, t + timedelta(hours=1), actor=LI)
    act(wf, ref, Action.ACCEPT_PLAN, t + timedelta(hours=2), note="Good")
    act(wf, ref, Action.REPORT_REMEDIATION, t + timedelta(hours=3), actor=LI)
    act(wf, ref, Action.VERIFY, t + timedelta(hours=4), note="Checked")


@pytest.fixture
def suppliers(world: World) -> Workflow:
    """Four suppliers; their scores under the test rules (points = 10 x weight x level):

    - Acme Electronics AB (SE): 70 = site VN 0.75 (15) + contracts in force 2.5 M (5) + one
      open critical (40) + a factory audit 2025-01-01, 426 days before NOW (10); its ended
      contract of 50 M does not count;
    - Nordic IT Supply AB (SE): 52.5 = site CN (20) + one open major (10) + one closed major
      (2.5) + never audited (20); a withdrawn critical factory-audit finding in MY never counts;
    - Baltic Office Tech UAB and Zeta Components UAB (LT): 40 each = LT, unlisted (10) +
      contracts of 20 M (10) + never audited (20).
    """
    wf = world.workflow
    world.finding()  # major, open, site CN
    close(wf, world.finding(title="Blocked fire exits"))
    withdrawn = log(wf, world.contract, severity=Severity.CRITICAL, site="Penang",
                    site_country="MY", source=Source.FACTORY_AUDIT)  # fmt: skip
    act(wf, withdrawn, Action.WITHDRAW, NOW + timedelta(hours=1), reason="Wrong supplier")
    supplier(wf, ACME, "Acme Electronics AB", "SE",
             contract("AC-1", ACME, "2000000"), contract("AC-2", ACME, "500000", date(2026, 3, 3)),
             contract("AC-OLD", ACME, "50000000", date(2026, 3, 2)))  # fmt: skip
    log(wf, "AC-1", severity=Severity.CRITICAL, source=Source.FACTORY_AUDIT, site="Hanoi",
        site_country="VN", found_on=date(2025, 1, 1))  # fmt: skip
    supplier(wf, ZETA, "Zeta Components UAB", "LT", contract("ZC-1", ZETA, "20000000"))
    supplier(wf, BALTIC, "Baltic Office Tech UAB", "LT", contract("BO-1", BALTIC, "20000000"))
    return wf


def points(risk: SupplierRisk) -> dict[str, float]:
    return {f.factor: f.points for f in risk.factors}


def test_it_lists_every_supplier_highest_first_equal_scores_by_name(suppliers: Workflow) -> None:
    risks = suppliers.supplier_risks(now=NOW)
    assert [(r.name, r.score) for r in risks] == [
        ("Acme Electronics AB", 70.0),
        ("Nordic IT Supply AB", 52.5),
        ("Baltic Office Tech UAB", 40.0),
        ("Zeta Components UAB", 40.0),
    ]
    assert [r.top_factor for r in risks] == [
        "open_findings", "country", "last_audit", "last_audit"
    ]  # fmt: skip
    assert all(r.as_of == date(2026, 3, 3) for r in risks)


def test_it_scores_from_the_suppliers_contracts_findings_and_audits(suppliers: Workflow) -> None:
    acme = suppliers.supplier_risk(ACME, now=NOW)
    assert points(acme) == {"country": 15.0, "contract_value": 5.0, "open_findings": 40.0,
                            "past_findings": 0.0, "last_audit": 10.0}  # fmt: skip
    raw = {f.factor: f.raw for f in acme.factors}
    # AC-2 ends on the day: still in force; AC-OLD ended the day before.
    assert raw["contract_value"] == Decimal("2500000")
    assert raw["last_audit"] == 426
    assert [(c.country, c.registered, c.sites) for c in acme.countries] == [
        ("SE", True, ()),
        ("VN", False, ("Hanoi",)),
    ]

    nordic = suppliers.supplier_risk("556000-1234", now=NOW)
    assert points(nordic) == {"country": 20.0, "contract_value": 0.0, "open_findings": 10.0,
                              "past_findings": 2.5, "last_audit": 20.0}  # fmt: skip
    details = {f.factor: f.detail for f in nordic.factors}
    assert details["open_findings"] == "1 major"  # not the withdrawn critical
    assert details["past_findings"] == "1 major"
    assert details["last_audit"] == "never audited"  # the withdrawn audit finding is no audit
    assert [(c.country, c.sites) for c in nordic.countries] == [
        ("CN", ("Final assembly, Dongguan",)),
        ("SE", ()),
    ]  # no MY: only the withdrawn finding was there


def test_one_supplier_is_scored_as_in_the_list(suppliers: Workflow) -> None:
    listed = {r.org_number: r for r in suppliers.supplier_risks(now=NOW)}
    for org in (ACME, "556000-1234", BALTIC, ZETA):
        assert suppliers.supplier_risk(org, now=NOW) == listed[org]


def test_a_later_day_ages_the_last_audit(suppliers: Workflow) -> None:
    later = NOW + timedelta(days=730 - 426)  # 2 years after the audit of 2025-01-01
    assert points(suppliers.supplier_risk(ACME, now=later))["last_audit"] == 20.0
    before = later - timedelta(days=1)
    assert points(suppliers.supplier_risk(ACME, now=before))["last_audit"] == 10.0


def test_it_refuses_an_unknown_supplier(world: World) -> None:
    with pytest.raises(NotFound) as info:
        world.workflow.supplier_risk("000000-0000", now=NOW)
    assert info.value.message == (
        "supplier: no supplier with organisation number 000000-0000 (see `cap supplier list`)"
    )


def test_no_suppliers_no_risks(workflow: Workflow) -> None:
    assert workflow.supplier_risks(now=NOW) == []


@contextmanager
def statements() -> Iterator[list[str]]:
    executed: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        executed.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield executed
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_the_number_of_queries_does_not_grow_with_the_suppliers(suppliers: Workflow) -> None:
    with statements() as few:
        suppliers.supplier_risks(now=NOW)
    for n in range(20):
        org = f"556900-{n:04d}"
        supplier(suppliers, org, f"Supplier {n:02d}", "CN", contract(f"S-{n}", org, "100"))
        log(suppliers, f"S-{n}", site="Shenzhen", site_country="CN")
    with statements() as many:
        risks = suppliers.supplier_risks(now=NOW)
    assert len(risks) == 24
    selects = [s for s in many if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == len([s for s in few if s.lstrip().upper().startswith("SELECT")]) == 5
