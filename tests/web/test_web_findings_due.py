"""A page of the list reads its own findings only (both databases); the SQL deadline it sorts
and filters by is tested in tests/test_current_deadline_sql.py and tests/test_listing_*.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event

from cap.domain.inputs import FindingInput
from cap.domain.model import Area, Severity, Source
from cap.workflow import listing
from cap.workflow.listing import PAGE_SIZE, FindingQuery
from tests.conftest import ANNA, NOW, World

EARLY, LATE = date(2026, 3, 1), date(2026, 3, 20)
TODAY = date(2026, 3, 10)


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL ``engine`` runs while the block runs, with its parameters."""
    run: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        run.append((sql, params))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield run
    finally:
        event.remove(engine, "before_cursor_execute", before)


def titles_read(engine: Engine, run: list[tuple[str, Any]]) -> list[str]:
    """The refs of the findings whose titles the statements in ``run`` read: each statement
    that reads titles is run again, and what it returns is counted."""
    refs: list[str] = []
    with engine.connect() as connection:
        for sql, params in run:
            if "finding.title" in sql:
                refs += [row._mapping["ref"] for row in connection.exec_driver_sql(sql, params)]
    return refs


def test_a_page_reads_its_own_findings_only(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "EXPORT_BATCH", 40)  # the export reads several batches
    count = 3 * PAGE_SIZE + 7
    rows = [
        FindingInput(contract=world.contract, severity=Severity.MAJOR, area=Area.WAGES,
                     source=Source.DESKTOP_AUDIT, title=f"Finding {i}", found_on=date(2026, 1, 5))
        for i in range(count)
    ]  # fmt: skip
    refs = world.workflow.log_findings(rows, actor=ANNA, now=NOW, allow_duplicates=True).refs
    engine = world.workflow.db.engine
    with statements_run(engine) as run:
        page = world.workflow.findings_page(FindingQuery(page=2, sort="ref"), now=NOW)
    assert page.total == count and page.pages == 4
    assert [f.ref for f in page.findings] == list(refs[PAGE_SIZE : 2 * PAGE_SIZE])
    # Its own findings, and the next one (which tells that the list goes on): not the others.
    assert titles_read(engine, run) == list(refs[PAGE_SIZE : 2 * PAGE_SIZE + 1])
    # The last page: its own findings only.
    with statements_run(engine) as run:
        last = world.workflow.findings_page(FindingQuery(page=4, sort="ref"), now=NOW)
    assert [f.ref for f in last.findings] == list(refs[3 * PAGE_SIZE :]) and last.total == count
    assert titles_read(engine, run) == list(refs[3 * PAGE_SIZE :])
    with statements_run(engine) as run:
        exported = world.workflow.export_findings(FindingQuery(page=2, sort="ref"), now=NOW)
        assert run == []  # nothing is read before the export is read
        assert [f.ref for f in exported] == list(refs)  # every page
