"""Sharing results between buyers: Region Stockholm exports, Region Uppsala imports into a
database of its own; the results are kept as shared ones, once, updated by a newer export;
a supplier known otherwise is a conflict; staff data stays home unless asked for; a bad file
writes nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from sqlalchemy import func, select

from cap.config import Settings
from cap.domain.inputs import SupplierInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import DecisionOutcome, Severity, State
from cap.domain.planning import AuditKind
from cap.errors import ActionRefused, InvalidInput
from cap.store.db import Database
from cap.store.models import Finding, SharedAudit, SharedFinding, Supplier
from cap.workflow import Workflow
from cap.workflow.audits import AuditInput
from cap.workflow.sharing import ShareDocument, parse_share_document
from tests.conftest import ANNA, BO, LI, NOW, World, database_for, empty_pg, migrated_pg_schema

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "docs" / "share-format.schema.json").read_text("utf-8")
)
STOCKHOLM = "Region Stockholm"
UPPSALA = "Region Uppsala"


@pytest.fixture(scope="session")
def pg_other_url() -> Iterator[str]:
    """A second migrated PostgreSQL schema: another buyer's database."""
    with migrated_pg_schema("test_other") as url:
        yield url


@pytest.fixture
def uppsala(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Workflow:
    """Region Uppsala's cap: another, empty database of the same kind as the test's."""
    if db_url.startswith("sqlite"):
        target = tmp_path / "uppsala.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("pg_other_url")
        empty_pg(url)
    settings = Settings(database_url=url, mail_dir=tmp_path / "uppsala-mail", buyer_name=UPPSALA)
    return Workflow(db=database_for(url), settings=settings)


def act(world: World, ref: str, action: Action, at: datetime, **kw: Any) -> None:
    world.workflow.act(ref, ActionRequest(action=action, at=at, **kw), now=at, view=False)


def shared(world: World, *, at: datetime = NOW, **kw: Any) -> dict[str, Any]:
    """Stockholm's export, checked against the published schema."""
    document = world.workflow.export_results(now=at, **kw).document
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        document
    )
    # What the file holds is JSON: what leaves is what is read back.
    loaded: dict[str, Any] = json.loads(json.dumps(document))
    return loaded


def read(document: dict[str, Any], name: str = "stockholm.json") -> ShareDocument:
    return parse_share_document(document, name=name)


def stockholm(world: World) -> str:
    """An audit and the finding it found, notified to the supplier."""
    world.workflow.add_audit(
        AuditInput(supplier=world.org_number, kind=AuditKind.SITE, date=date(2026, 1, 15),
                   auditor="Amfori", report="AM-2026-01"),
        actor=BO, now=NOW,
    )  # fmt: skip
    ref = world.finding()
    with world.workflow.db.write() as session:
        finding = session.execute(select(Finding)).scalar_one()
        finding.audit_id = 1
    act(world, ref, Action.NOTIFY, NOW, actor=ANNA)
    return ref


def rows(workflow: Workflow, model: type[Any]) -> list[Any]:
    with workflow.db.read() as session:
        return list(session.execute(select(model).order_by(model.id)).scalars())


def count(workflow: Workflow, model: type[Any]) -> int:
    with workflow.db.read() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_an_export_is_kept_by_another_buyer_as_shared_results(
    world: World, uppsala: Workflow
) -> None:
    ref = stockholm(world)
    document = shared(world)
    assert (document["format"], document["version"], document["buyer"]) == (
        "cap-share", 1, STOCKHOLM
    )  # fmt: skip
    assert document["suppliers"] == [
        {"org_number": world.org_number, "name": "Nordic IT Supply AB", "country": "SE"}
    ]

    result = uppsala.import_results(read(document), now=NOW + timedelta(hours=1))

    assert (result.imported, result.updated, result.unchanged, result.conflicts) == (2, 0, 0, ())
    assert result.suppliers_created == 1 and result.buyer == STOCKHOLM
    [supplier] = rows(uppsala, Supplier)
    assert (supplier.org_number, supplier.name, supplier.country) == (
        world.org_number, "Nordic IT Supply AB", "SE"
    )  # fmt: skip
    [audit] = rows(uppsala, SharedAudit)
    assert (audit.origin_buyer, audit.origin_id, audit.supplier_id, audit.kind, audit.held_on,
            audit.auditor, audit.report, audit.recorded_by) == (
        STOCKHOLM, 1, supplier.id, AuditKind.SITE, date(2026, 1, 15), "Amfori", "AM-2026-01",
        None,
    )  # fmt: skip
    [finding] = rows(uppsala, SharedFinding)
    assert (finding.origin_buyer, finding.origin_ref, finding.supplier_id, finding.state,
            finding.severity, finding.title, finding.site_country, finding.found_on,
            finding.notified_on, finding.closed_on, finding.audit_origin_id,
            finding.description) == (
        STOCKHOLM, ref, supplier.id, State.AWAITING_PLAN, Severity.MAJOR,
        "Forced overtime at final assembly", "CN", date(2026, 1, 20), date(2026, 3, 3), None, 1,
        "Workers report 80-hour weeks in peak season.",
    )  # fmt: skip
    # Shared results are not Uppsala's own findings: they have no lifecycle there.
    assert count(uppsala, Finding) == 0


def test_importing_the_same_file_again_changes_nothing(world: World, uppsala: Workflow) -> None:
    stockholm(world)
    document = read(shared(world))
    uppsala.import_results(document, now=NOW)
    before = [(r.id, r.imported_at) for r in rows(uppsala, SharedFinding)]

    again = uppsala.import_results(document, now=NOW + timedelta(days=1))

    assert (again.imported, again.updated, again.unchanged, again.suppliers_created) == (
        0, 0, 2, 0
    )  # fmt: skip
    assert (again.findings.unchanged, again.audits.unchanged) == (1, 1)
    assert [(r.id, r.imported_at) for r in rows(uppsala, SharedFinding)] == before
    assert count(uppsala, Supplier) == 1


def test_a_newer_export_updates_the_shared_finding_and_an_older_one_does_not(
    world: World, uppsala: Workflow
) -> None:
    ref = stockholm(world)
    first = read(shared(world, at=NOW))
    uppsala.import_results(first, now=NOW)
    later = NOW + timedelta(days=10)
    act(world, ref, Action.WITHDRAW, later, actor=ANNA, reason="Logged twice")

    newer = uppsala.import_results(read(shared(world, at=later)), now=later)

    assert (newer.findings.updated, newer.findings.unchanged, newer.audits.unchanged) == (1, 0, 1)
    [finding] = rows(uppsala, SharedFinding)
    assert (finding.state, finding.closed_on, finding.exported_at) == (
        State.WITHDRAWN, date(2026, 3, 13), later
    )  # fmt: skip
    # The first file again: it knows less than the export the row came from.
    stale = uppsala.import_results(first, now=later)
    assert (stale.updated, stale.older, stale.unchanged) == (0, 1, 1)
    assert rows(uppsala, SharedFinding)[0].state is State.WITHDRAWN


def test_a_supplier_known_under_another_name_is_a_conflict_and_kept(
    world: World, uppsala: Workflow
) -> None:
    stockholm(world)
    uppsala.add_supplier(
        SupplierInput(name="Nordic Supply", org_number=world.org_number, country="FI", email=LI),
        now=NOW,
    )

    result = uppsala.import_results(read(shared(world)), now=NOW)

    assert [(c.org_number, c.field, c.ours, c.theirs) for c in result.conflicts] == [
        (world.org_number, "name", "Nordic Supply", "Nordic IT Supply AB"),
        (world.org_number, "country", "FI", "SE"),
    ]
    assert (result.imported, result.suppliers_created) == (2, 0)
    [supplier] = rows(uppsala, Supplier)
    assert (supplier.name, supplier.country) == ("Nordic Supply", "FI")
    assert rows(uppsala, SharedFinding)[0].supplier_id == supplier.id


def _sanctioned(world: World) -> str:
    ref = stockholm(world)
    act(world, ref, Action.ESCALATE, NOW + timedelta(days=1), actor=BO, reason="No answer")
    act(world, ref, Action.WARN, NOW + timedelta(days=2), actor=BO, reason="Formal warning sent")
    return ref


def test_staff_and_internal_notes_stay_home_unless_included(
    world: World, uppsala: Workflow
) -> None:
    _sanctioned(world)
    document = shared(world, at=NOW + timedelta(days=3))
    [finding] = document["findings"]
    assert finding["decision"] == {"outcome": "warning", "decided_on": "2026-03-05"}
    assert finding["escalation_level"] >= 0 and "recorded_by" not in finding
    assert "recorded_by" not in document["audits"][0]
    # No staff address, contact, or note anywhere in the file.
    flat = json.dumps(document)
    for private in (ANNA, BO, LI, "Li Wei", "Formal warning sent", "region.example"):
        assert private not in flat

    full = shared(world, at=NOW + timedelta(days=3), include_staff=True)
    [finding] = full["findings"]
    assert finding["recorded_by"] == ANNA
    assert finding["decision"] == {
        "outcome": "warning", "decided_on": "2026-03-05", "rationale": "Formal warning sent",
        "decided_by": BO,
    }  # fmt: skip
    assert full["audits"][0]["recorded_by"] == BO
    assert LI not in json.dumps(full)  # supplier contacts never leave

    uppsala.import_results(read(full), now=NOW)
    [row] = rows(uppsala, SharedFinding)
    assert (row.decision, row.decided_on, row.recorded_by, row.decision_rationale) == (
        DecisionOutcome.WARNING, date(2026, 3, 5), ANNA, "Formal warning sent"
    )  # fmt: skip


def test_since_keeps_what_changed_on_or_after_the_day(world: World) -> None:
    ref = stockholm(world)  # logged, audited and notified on 2026-03-03
    assert len(shared(world, since=date(2026, 3, 3))["findings"]) == 1
    after = shared(world, since=date(2026, 3, 4))
    assert (after["findings"], after["audits"], after["suppliers"], after["since"]) == (
        [], [], [], "2026-03-04"
    )  # fmt: skip
    act(world, ref, Action.WITHDRAW, NOW + timedelta(days=2), actor=ANNA, reason="Duplicate")
    changed = shared(world, since=date(2026, 3, 4))
    assert [f["origin"]["ref"] for f in changed["findings"]] == [ref]
    assert changed["audits"] == []  # the audit itself did not change


def test_importing_our_own_export_is_refused(world: World) -> None:
    stockholm(world)
    with pytest.raises(ActionRefused, match=r"stockholm.json: buyer: this is an export of "
                       r"Region Stockholm, this buyer"):  # fmt: skip
        world.workflow.import_results(read(shared(world)), now=NOW)
    assert count(world.workflow, SharedFinding) == 0


def _broken(document: dict[str, Any], where: str, key: str, value: Any) -> dict[str, Any]:
    broken: dict[str, Any] = json.loads(json.dumps(document))
    kind, index = where.split(":")
    broken[kind][int(index)][key] = value
    return broken


@pytest.mark.parametrize(
    ("where", "key", "value", "message"),
    [
        ("findings:1", "severity", "huge", r"findings\[1\]: severity: 'huge' is not one of"),
        ("findings:1", "origin", {"buyer": STOCKHOLM}, r"findings\[1\]: origin.ref: is required"),
        ("findings:1", "supplier", "999999-0000",
         r"findings\[1\]: supplier: 999999-0000 is not among the file's suppliers"),
        ("audits:0", "held_on", "01/15/2026", r"audits\[0\]: held_on: '01/15/2026' is not a date"),
        ("suppliers:0", "contact", LI, r"suppliers\[0\]: contact: is not a known field"),
        ("findings:1", "origin", {"buyer": "Region Skåne", "ref": "NC-1"},
         r"findings\[1\]: origin.buyer: 'Region Skåne' is not the file's buyer"),
    ],
)  # fmt: skip
def test_a_bad_record_is_named_and_nothing_is_imported(
    world: World, uppsala: Workflow, where: str, key: str, value: Any, message: str
) -> None:
    stockholm(world)
    world.finding(title="Unpaid overtime")
    document = shared(world)
    assert len(document["findings"]) == 2  # the first is good: it is not imported either
    with pytest.raises(InvalidInput, match=rf"^stockholm.json: {message}"):
        uppsala.import_results(read(_broken(document, where, key, value)), now=NOW)
    assert count(uppsala, SharedFinding) == count(uppsala, SharedAudit) == 0
    assert count(uppsala, Supplier) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something-else"}, r"format: 'something-else' is not 'cap-share'"),
        ({"version": 2}, r"version: 2 is not supported; this cap reads version 1"),
        ({"findings": {}}, r"findings: \{\} is not a list"),
        ({"exported_at": "2026-03-03T09:00:00"}, r"exported_at: .*"),
    ],
)
def test_a_document_of_another_format_or_version_is_refused(
    world: World, change: dict[str, Any], message: str
) -> None:
    stockholm(world)
    document = {**shared(world), **change}
    with pytest.raises(InvalidInput, match=rf"^stockholm.json: {message}"):
        read(document)


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(
    world: World, uppsala: Workflow
) -> None:
    stockholm(world)
    result = uppsala.import_results(read(shared(world)), now=NOW, dry_run=True)
    assert (result.dry_run, result.imported, result.suppliers_created) == (True, 2, 1)
    assert count(uppsala, SharedFinding) == count(uppsala, Supplier) == 0


def test_the_shared_results_migration_goes_down_and_up_again(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    db = Database(db_url)
    config = db.alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")
        assert not inspect(connection).has_table("shared_finding")
        assert not inspect(connection).has_table("shared_audit")
        command.upgrade(config, "head")
        for table, key in (("shared_audit", "origin_id"), ("shared_finding", "origin_ref")):
            unique = inspect(connection).get_unique_constraints(table)
            assert [u["column_names"] for u in unique] == [["origin_buyer", key]]
    db.engine.dispose()


def test_an_audit_another_buyer_shared_counts_as_held(world: World, uppsala: Workflow) -> None:
    """So that no supplier is audited twice: Uppsala's risk counts the days since Stockholm's
    audit, and Uppsala's plan leaves out a supplier Stockholm audited at its desk this
    contract period."""
    from cap.domain.inputs import ContractInput

    stockholm(world)
    world.workflow.add_audit(
        AuditInput(supplier=world.org_number, kind=AuditKind.DESKTOP, date=date(2026, 2, 10),
                   auditor="Ethica", report="ETH-26-03"),
        actor=BO, now=NOW,
    )  # fmt: skip
    uppsala.import_results(read(shared(world)), now=NOW)
    uppsala.add_contract(
        ContractInput(reference="RU-2025-7", supplier=world.org_number, category="Laptops",
                      manager="eva@uppsala.example", start=date(2025, 6, 1)),
        now=NOW,
    )  # fmt: skip

    risk = uppsala.supplier_risk(world.org_number, now=NOW)
    [last_audit] = [f for f in risk.factors if f.factor == "last_audit"]
    assert last_audit.detail == "21 days since 2026-02-10"

    plan = uppsala.plan_audits(2026, "100%", actor="eva@uppsala.example", now=NOW, save=False)
    assert plan.chosen == () and plan.left_out is not None
    [left_out] = plan.left_out
    assert left_out.org_number == world.org_number
    assert "2026-02-10" in left_out.reason
