"""Audits and the yearly plan on SQLite and PostgreSQL: a plan saved, replaced, and standing once
an audit is recorded against it; audits recorded, refused and listed; a finding naming its
audit; and the last_audit risk factor counting recorded audits."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.config import Settings
from cap.domain.inputs import ContractInput, FindingInput
from cap.domain.model import Area, Severity, Source
from cap.domain.planning import AuditKind
from cap.errors import ActionRefused, InvalidInput, NotFound
from cap.store.models import Finding
from cap.workflow import Workflow
from cap.workflow.audits import AuditInput, AuditView
from tests.conftest import ANNA, BO, NOW, World, database_for, make_world
from tests.test_risk_scoring import rules_file
from tests.test_supplier_risk import ACME, BALTIC, ZETA, contract, log, supplier

NORDIC = "556000-1234"


@pytest.fixture
def world(settings: Settings, tmp_path: Path) -> World:
    """The conftest world scored by tests/test_risk_scoring.py's rules (weights adding up to
    10, so a factor's points are 10 x weight x level)."""
    scored = settings.model_copy(update={"risk_rules": rules_file(tmp_path)})
    return make_world(Workflow(database_for(scored.database_url), scored))


@pytest.fixture
def wf(world: World) -> Workflow:
    """Three suppliers with contracts in force in 2026, by score on NOW (2026-03-03):

    - Nordic IT Supply AB (SE): 50 = a site in CN (20) + one open major (10) + never audited
      (20); its contract RS-2019-ICT-01 runs from 2019-05-01;
    - Baltic Office Tech UAB and Zeta Components UAB (LT): 40 each = LT (10) + 20 M in
      contracts (10) + never audited (20); their contracts run from 2020-01-01.
    """
    world.finding()
    supplier(world.workflow, ZETA, "Zeta Components UAB", "LT", contract("ZC-1", ZETA, "20000000"))
    supplier(world.workflow, BALTIC, "Baltic Office Tech UAB", "LT",
             contract("BO-1", BALTIC, "20000000"))  # fmt: skip
    return world.workflow


def audit(wf: Workflow, org: str, held_on: date, **fields: Any) -> AuditView:
    data: dict[str, Any] = {"supplier": org, "kind": AuditKind.DESKTOP, "date": held_on,
                            "auditor": "Ethica Consulting", "report": "ETH-2026-04"}  # fmt: skip
    data.update(fields)
    return wf.add_audit(AuditInput(**data), actor=ANNA, now=NOW)


def chosen(wf: Workflow, year: int = 2026) -> list[tuple[str, float, str]]:
    return [(c.org_number, c.score, c.why) for c in wf.show_audit_plan(year).chosen]


NORDIC_WHY = (NORDIC, 50.0, "score 50.0, top factor country; never audited")
BALTIC_WHY = (BALTIC, 40.0, "score 40.0, top factor last_audit; never audited")
ZETA_WHY = (ZETA, 40.0, "score 40.0, top factor last_audit; never audited")


def test_a_plan_is_saved_and_shown(wf: Workflow) -> None:
    plan = wf.plan_audits(2026, "2", actor=BO, now=NOW)
    assert (plan.year, plan.capacity, plan.in_force, plan.saved) == (2026, "2", 3, True)
    assert [(c.org_number, c.score, c.why) for c in plan.chosen] == [NORDIC_WHY, BALTIC_WHY]
    assert plan.left_out == ()
    assert (plan.created_at, plan.created_by) == (NOW, BO)

    shown = wf.show_audit_plan(2026)
    assert chosen(wf) == [NORDIC_WHY, BALTIC_WHY]
    assert [(c.name, c.audits) for c in shown.chosen] == [
        ("Nordic IT Supply AB", ()), ("Baltic Office Tech UAB", ())
    ]  # fmt: skip
    assert (shown.capacity, shown.in_force, shown.left_out) == ("2", None, None)
    assert (shown.created_at, shown.created_by) == (NOW, BO)


def test_a_dry_run_saves_nothing(wf: Workflow) -> None:
    plan = wf.plan_audits(2026, "34%", actor=BO, now=NOW, save=False)  # 34% of 3: 1
    assert plan.saved is False and plan.created_at is None
    assert [c.org_number for c in plan.chosen] == [NORDIC]
    with pytest.raises(NotFound) as info:
        wf.show_audit_plan(2026)
    assert info.value.message == (
        "year: there is no audit plan for 2026 (see `cap plan audits --year 2026`)"
    )


def test_a_plan_is_replaced_while_no_audit_is_recorded_against_it(wf: Workflow) -> None:
    wf.plan_audits(2026, "2", actor=BO, now=NOW)
    later = NOW + timedelta(days=1)
    wf.plan_audits(2026, "100%", actor=ANNA, now=later)
    shown = wf.show_audit_plan(2026)
    assert (shown.capacity, shown.created_at, shown.created_by) == ("100%", later, ANNA)
    assert chosen(wf) == [NORDIC_WHY, BALTIC_WHY, ZETA_WHY]
    # Another year's plan is another plan.
    wf.plan_audits(2027, "1", actor=BO, now=NOW)
    assert chosen(wf, 2027) == [NORDIC_WHY] and len(chosen(wf)) == 3


def test_once_an_audit_is_recorded_against_it_the_plan_stands(wf: Workflow) -> None:
    wf.plan_audits(2026, "2", actor=BO, now=NOW)
    recorded = audit(wf, BALTIC, date(2026, 2, 10), contract="BO-1")
    assert recorded.plan_year == 2026
    assert wf.show_audit_plan(2026).chosen[1].audits == (recorded.id,)
    with pytest.raises(ActionRefused) as info:
        wf.plan_audits(2026, "3", actor=ANNA, now=NOW + timedelta(days=1))
    assert info.value.message == (
        "year: the audit plan for 2026 has 1 audit recorded against it, so it stands as made "
        f"on 2026-03-03 by {BO}; nothing was changed (see `cap plan show --year 2026`)"
    )
    shown = wf.show_audit_plan(2026)
    assert (shown.capacity, shown.created_by, len(shown.chosen)) == ("2", BO, 2)
    # Looking is still allowed: a dry run writes nothing.
    assert wf.plan_audits(2026, "3", actor=ANNA, now=NOW, save=False).saved is False


def test_an_audit_counts_against_its_years_plan_only_if_that_chose_the_supplier(
    wf: Workflow,
) -> None:
    wf.plan_audits(2026, "2", actor=BO, now=NOW)
    assert audit(wf, ZETA, date(2026, 1, 15)).plan_year is None  # not chosen
    assert audit(wf, BALTIC, date(2025, 11, 3)).plan_year is None  # no plan for 2025
    assert all(c.audits == () for c in wf.show_audit_plan(2026).chosen)
    wf.plan_audits(2026, "1", actor=BO, now=NOW)  # still replaceable


def test_an_audit_with_a_bad_date_supplier_or_contract_is_refused(wf: Workflow) -> None:
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"date": date(2026, 3, 4)}, InvalidInput,
         "date: 2026-03-04 is in the future (today is 2026-03-03); record an audit once it "
         "has been held"),
        ({"date": date(1995, 12, 31)}, InvalidInput,
         "date: 1995-12-31 is before 1996-01-01, more than 30 years ago; check the year"),
        ({"supplier": "000000-0000"}, NotFound,
         "supplier: no supplier with organisation number 000000-0000 (see `cap supplier "
         "list`)"),
        ({"contract": "NO-SUCH"}, NotFound,
         "contract: NO-SUCH does not exist (see `cap contract list`)"),
        ({"contract": "ZC-1"}, InvalidInput,
         f"contract: ZC-1 is not a contract of Baltic Office Tech UAB ({BALTIC})"),
    ]  # fmt: skip
    for fields, error, message in cases:
        data = {"supplier": BALTIC, "kind": AuditKind.DESKTOP, "date": date(2026, 3, 3),
                "auditor": "Ethica Consulting", "report": "ETH-2026-04", **fields}  # fmt: skip
        with pytest.raises(error) as info:
            wf.add_audit(AuditInput(**data), actor=ANNA, now=NOW)
        assert str(info.value) == message
    assert wf.list_audits() == []
    # Both sides of each bound: today, and the first day of the oldest year.
    assert audit(wf, BALTIC, date(2026, 3, 3)).held_on == date(2026, 3, 3)
    assert audit(wf, BALTIC, date(1996, 1, 1)).held_on == date(1996, 1, 1)


def test_audits_are_listed_latest_first_and_by_supplier(wf: Workflow) -> None:
    wf.plan_audits(2026, "1", actor=BO, now=NOW)
    first = audit(wf, BALTIC, date(2025, 5, 2), kind=AuditKind.SITE)
    second = audit(wf, NORDIC, date(2026, 2, 1), contract="RS-2019-ICT-01", report="EW-17")
    third = audit(wf, BALTIC, date(2025, 5, 2))
    listed = wf.list_audits()
    assert [a.id for a in listed] == [second.id, third.id, first.id]
    assert listed[0] == AuditView(
        id=second.id, supplier_org_number=NORDIC, supplier="Nordic IT Supply AB",
        contract="RS-2019-ICT-01", kind=AuditKind.DESKTOP, held_on=date(2026, 2, 1),
        auditor="Ethica Consulting", report="EW-17", plan_year=2026, created_at=NOW,
        created_by=ANNA,
    )  # fmt: skip
    assert [a.id for a in wf.list_audits(BALTIC)] == [third.id, first.id]
    assert wf.list_audits(ZETA) == []
    with pytest.raises(NotFound):
        wf.list_audits("000000-0000")


def finding_input(contract_ref: str) -> FindingInput:
    return FindingInput(contract=contract_ref, severity=Severity.MAJOR, area=Area.WAGES,
                        source=Source.DESKTOP_AUDIT, title="No payslips",
                        found_on=date(2026, 2, 1))  # fmt: skip


def audit_of(wf: Workflow, ref: str) -> int | None:
    with wf.db.read() as session:
        value: int | None = session.execute(
            select(col(Finding.audit_id)).where(col(Finding.ref) == ref)
        ).scalar_one()
    return value


def test_a_finding_names_the_audit_it_comes_from(wf: Workflow) -> None:
    held = audit(wf, NORDIC, date(2026, 2, 1))
    ref = wf.log_finding(finding_input("RS-2019-ICT-01"), actor=ANNA, now=NOW, audit=held.id)
    assert audit_of(wf, ref) == held.id
    plain = wf.log_finding(finding_input("RS-2019-ICT-01"), actor=ANNA, now=NOW)
    assert audit_of(wf, plain) is None


def test_a_finding_may_not_name_another_suppliers_audit_or_none(wf: Workflow) -> None:
    baltic = audit(wf, BALTIC, date(2026, 2, 1))
    with pytest.raises(InvalidInput) as info:
        wf.log_finding(finding_input("RS-2019-ICT-01"), actor=ANNA, now=NOW, audit=baltic.id)
    assert info.value.message == (
        f"audit: audit {baltic.id} is of Baltic Office Tech UAB ({BALTIC}), not of Nordic IT "
        "Supply AB (556000-1234), the supplier of contract RS-2019-ICT-01"
    )
    with pytest.raises(NotFound) as missing:
        wf.log_finding(finding_input("RS-2019-ICT-01"), actor=ANNA, now=NOW, audit=999)
    assert missing.value.message == "audit: there is no audit 999 (see `cap audit list`)"
    assert len(wf.list_audits()) == 1
    with wf.db.read() as session:
        assert len(session.execute(select(Finding)).all()) == 1  # the fixture's, alone


def last_audit(wf: Workflow, org: str) -> tuple[Any, str]:
    risk = wf.supplier_risk(org, now=NOW)
    factor = next(f for f in risk.factors if f.factor == "last_audit")
    return factor.raw, factor.detail


def test_the_last_audit_factor_counts_recorded_audits_before_findings(wf: Workflow) -> None:
    supplier(wf, ACME, "Acme Electronics AB", "SE", contract("AC-1", ACME, "100"))
    log(wf, "AC-1", source=Source.FACTORY_AUDIT, found_on=date(2025, 1, 1))
    assert last_audit(wf, ACME) == (426, "426 days since 2025-01-01")  # the stand-in
    audit(wf, ACME, date(2026, 1, 2), kind=AuditKind.SITE)
    assert last_audit(wf, ACME) == (60, "60 days since 2026-01-02")
    # A recorded audit wins over a later finding of an audit: the audits are the record.
    log(wf, "AC-1", source=Source.DESKTOP_AUDIT, found_on=date(2026, 2, 1))
    assert last_audit(wf, ACME) == (60, "60 days since 2026-01-02")
    # The latest recorded counts, and only the supplier's own.
    audit(wf, ACME, date(2025, 6, 1), kind=AuditKind.SITE)
    audit(wf, BALTIC, date(2026, 3, 1), kind=AuditKind.SITE)
    assert last_audit(wf, ACME) == (60, "60 days since 2026-01-02")
    assert last_audit(wf, NORDIC) == (None, "never audited")
    # The list scores as one supplier does.
    listed = {r.org_number: r for r in wf.supplier_risks(now=NOW)}
    assert listed[ACME] == wf.supplier_risk(ACME, now=NOW)
    # The plan gives the same last audit as its reason.
    plan = wf.plan_audits(2026, "100%", actor=BO, now=NOW, save=False)
    whys = {c.org_number: c.why for c in plan.chosen}
    assert whys[ACME].endswith("; last audit 2026-01-02")


def test_a_desktop_audit_in_the_contract_period_leaves_a_supplier_out(wf: Workflow) -> None:
    # A visit is no desktop audit: Baltic stays in the plan (its score drops to 20: audited
    # 305 days ago).
    audit(wf, BALTIC, date(2025, 5, 2), kind=AuditKind.SITE)
    plan = wf.plan_audits(2026, "3", actor=BO, now=NOW)
    assert [(c.org_number, c.score) for c in plan.chosen] == [
        (NORDIC, 50.0), (ZETA, 40.0), (BALTIC, 20.0)
    ]  # fmt: skip
    assert plan.left_out == ()
    audit(wf, BALTIC, date(2025, 5, 2))
    plan = wf.plan_audits(2026, "3", actor=BO, now=NOW)
    assert [c.org_number for c in plan.chosen] == [NORDIC, ZETA]
    assert [(o.org_number, o.score, o.reason) for o in plan.left_out or ()] == [
        (BALTIC, 20.0, "desktop audit already held in the period of BO-1 (2020-01-01..open) "
                       "on 2025-05-02"),
    ]  # fmt: skip
    assert plan.in_force == 3
    # A new contract period is another: a contract from 2026 on needs its own desktop audit.
    wf.add_contract(ContractInput(reference="BO-2", supplier=BALTIC, category="Monitors",
                                  manager=ANNA, start=date(2026, 1, 1)), now=NOW)  # fmt: skip
    plan = wf.plan_audits(2026, "3", actor=BO, now=NOW)
    assert [c.org_number for c in plan.chosen] == [NORDIC, ZETA, BALTIC]
    assert plan.left_out == ()


def test_a_bad_year_or_capacity_is_refused_before_anything_is_written(wf: Workflow) -> None:
    for year, capacity, message in [
        (2101, "1", "year: 2101 is outside the years the calendar covers (1953-2100)"),
        (2026, "150%", "capacity: '150%' is not a share of the suppliers; give more than 0% "
                       "and at most 100%"),
        (2026, "0", "capacity: '0' plans no audit; give 1 or more"),
    ]:  # fmt: skip
        with pytest.raises(InvalidInput) as info:
            wf.plan_audits(year, capacity, actor=BO, now=NOW)
        assert info.value.message == message
    with pytest.raises(NotFound):
        wf.show_audit_plan(2026)
