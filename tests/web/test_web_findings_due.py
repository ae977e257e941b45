"""The list's deadline in SQL agrees with the lifecycle's, and a page of the list reads its
findings only (both databases)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select
from sqlmodel import col

from cap.domain.inputs import FindingInput
from cap.domain.lifecycle import current_deadline
from cap.domain.model import Area, Severity, Source, State
from cap.store.mapping import case_of
from cap.store.models import Finding
from cap.workflow import listing
from cap.workflow.listing import PAGE_SIZE, FindingQuery, current_due
from cap.workflow.views import overdue_clause
from tests.conftest import ANNA, NOW, World

EARLY, LATE = date(2026, 3, 1), date(2026, 3, 20)
TODAY = date(2026, 3, 10)


def test_the_sql_deadline_is_the_lifecycles_in_every_state(world: World) -> None:
    template_ref = world.finding()
    calendar = world.workflow.settings.calendar
    now = calendar.end_of_day(TODAY) - timedelta(hours=1)
    with world.workflow.db.write() as session:
        template = session.execute(
            select(Finding).where(col(Finding.ref) == template_ref)
        ).scalar_one()
        number = 0
        # Every state with every deadline absent, early or late (ties included).
        for state in State:
            for plan, review, remediation, verification in itertools.product(
                (None, EARLY, LATE), repeat=4
            ):
                number += 1
                session.add(
                    Finding(
                        ref=f"T-{number}", supplier_id=template.supplier_id,
                        contract_id=template.contract_id, source=template.source,
                        area=template.area, severity=template.severity, title="t",
                        found_on=template.found_on, state=state, plan_due=plan,
                        review_due=review, remediation_due=remediation,
                        verification_due=verification, created_at=NOW, created_by=ANNA,
                    )
                )  # fmt: skip
    with world.workflow.db.read() as session:
        rows = session.execute(
            select(Finding, current_due(), overdue_clause(TODAY)).where(
                col(Finding.ref).startswith("T-")
            )
        ).all()
        assert len(rows) == len(State) * 3**4
        wrong = []
        for finding, due, overdue in rows:
            current = current_deadline(case_of(finding))
            expected = current[1] if current else None
            late = current is not None and calendar.is_overdue(current[1], now)
            if due != expected or bool(overdue) != late:
                wrong.append((finding.ref, finding.state, due, overdue))
        assert wrong == []
        dated = {due for _, due, _ in rows}
        assert dated == {None, EARLY, LATE}


@contextmanager
def loaded_findings() -> Iterator[list[str]]:
    """The refs of the findings the ORM builds from rows while the block runs."""
    loaded: list[str] = []

    def on_load(finding: Finding, _: object) -> None:
        loaded.append(finding.ref)

    event.listen(Finding, "load", on_load)
    try:
        yield loaded
    finally:
        event.remove(Finding, "load", on_load)


def test_a_page_reads_its_own_findings_only(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "EXPORT_BATCH", 40)  # the export reads several batches
    count = 3 * PAGE_SIZE + 7
    rows = [
        FindingInput(contract=world.contract, severity=Severity.MAJOR, area=Area.WAGES,
                     source=Source.DESKTOP_AUDIT, title=f"Finding {i}", found_on=date(2026, 1, 5))
        for i in range(count)
    ]  # fmt: skip
    refs = world.workflow.log_findings(rows, actor=ANNA, now=NOW, allow_duplicates=True).refs
    with loaded_findings() as loaded:
        page = world.workflow.findings_page(FindingQuery(page=2, sort="ref"), now=NOW)
    assert page.total == count and page.pages == 4
    assert [f.ref for f in page.findings] == list(refs[PAGE_SIZE : 2 * PAGE_SIZE])
    assert sorted(loaded) == sorted(f.ref for f in page.findings)
    with loaded_findings() as loaded:
        exported = world.workflow.export_findings(FindingQuery(page=2, sort="ref"), now=NOW)
        assert loaded == []  # nothing is read before the export is read
        assert [f.ref for f in exported] == list(refs)  # every page
