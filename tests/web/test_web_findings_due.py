"""A page of the list reads its own findings only (both databases); the SQL deadline it sorts
and filters by is tested in tests/test_current_deadline_sql.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event

from cap.domain.inputs import FindingInput
from cap.domain.model import Area, Severity, Source
from cap.store.models import Finding
from cap.workflow import listing
from cap.workflow.listing import PAGE_SIZE, FindingQuery
from tests.conftest import ANNA, NOW, World

EARLY, LATE = date(2026, 3, 1), date(2026, 3, 20)
TODAY = date(2026, 3, 10)


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
