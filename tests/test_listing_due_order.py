"""The findings list by deadline, read from the stored Finding.due_order: the earliest first
or the latest first, findings without a deadline last either way, equal dates in the order the
findings were logged, page after page (across the two parts of the descending list) and in the
export; the due-before and overdue filters on both sides of their dates (both databases)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cap.domain.lifecycle import Action, ActionRequest, is_overdue
from cap.domain.model import Severity
from cap.store.mapping import case_of
from cap.store.models import NO_DEADLINE, Finding
from cap.workflow import listing
from cap.workflow.listing import FindingQuery
from tests.conftest import ANNA, NOW, World

LOGGED = NOW - timedelta(days=70)
FOUND = date(2025, 12, 1)
#: When the lists are read: some deadlines have passed, others have not.
LATER = NOW + timedelta(days=3)
PAGE = 3  # findings on a page here, so that a few findings make several pages


def logged(world: World, count: int) -> list[str]:
    """``count`` findings, logged in this order (the minor ones at odd places)."""
    severities = (Severity.MAJOR, Severity.MINOR)
    return [
        world.finding(
            title=f"Finding {i}", severity=severities[i % 3 == 1], found_on=FOUND, now=LOGGED
        )
        for i in range(count)
    ]


def notified(world: World, ref: str, days_before_now: int) -> None:
    at = NOW - timedelta(days=days_before_now)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, at), now=at, view=False)


def due_of(world: World, ref: str) -> date | None:
    return world.workflow.show_finding(ref, now=LATER).due


def expected(world: World, refs: list[str], *, descending: bool) -> list[str]:
    """``refs`` (in the order they were logged) by deadline: equal dates keep that order
    either way (a stable sort), findings without a deadline come last, also in that order."""
    dues = {ref: due_of(world, ref) for ref in refs}
    dated = [ref for ref in refs if dues[ref] is not None]
    undated = [ref for ref in refs if dues[ref] is None]
    return sorted(dated, key=lambda ref: dues[ref] or NO_DEADLINE, reverse=descending) + undated


def every_page(world: World, query: FindingQuery) -> tuple[list[str], int, int]:
    """The refs of every page of ``query`` in turn, its total and its number of pages; the
    page after the last is empty and says the same total."""
    first = world.workflow.findings_page(query, now=LATER)
    refs = [f.ref for f in first.findings]
    for number in range(2, first.pages + 1):
        page = world.workflow.findings_page(replace(query, page=number), now=LATER)
        assert len(page.findings) == (PAGE if number < first.pages else len(page.findings))
        assert (page.total, page.pages) == (first.total, first.pages)
        refs += [f.ref for f in page.findings]
    beyond = world.workflow.findings_page(replace(query, page=first.pages + 1), now=LATER)
    assert beyond.findings == () and (beyond.total, beyond.pages) == (first.total, first.pages)
    return refs, first.total, first.pages


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "PAGE_SIZE", PAGE)


@pytest.mark.usefixtures("small_pages")
def test_without_a_deadline_last_both_ways_page_after_page(world: World) -> None:
    refs = logged(world, 8)
    # Five with a deadline, two of them notified the same day (the same date: a tie); the
    # other three without one (not notified yet).
    for ref, days in zip(refs[:5], (30, 10, 20, 10, 40), strict=True):
        notified(world, ref, days)
    assert [due_of(world, ref) is None for ref in refs] == [False] * 5 + [True] * 3
    assert due_of(world, refs[1]) == due_of(world, refs[3])
    for descending in (False, True):
        order = expected(world, refs, descending=descending)
        query = FindingQuery(sort="due", descending=descending)
        # 8 findings on pages of 3. Descending, the second page ends the findings with a
        # deadline and starts those without; the third starts past them (they are counted).
        assert every_page(world, query) == (order, 8, 3), descending
        # The export: the same order, every page.
        exported = world.workflow.export_findings(query, now=LATER)
        assert [f.ref for f in exported] == order, descending
        # Narrowed, the order holds the same: the minor ones (two dated, one not).
        minor = [ref for ref in order if ref in (refs[1], refs[4], refs[7])]
        narrowed = replace(query, severity=Severity.MINOR)
        assert every_page(world, narrowed) == (minor, 3, 1), descending
    # Not an accident of the order they were logged in, nor of the latest date first:
    ascending = expected(world, refs, descending=False)
    assert ascending[:5] != refs[:5] and ascending[:5] != list(reversed(refs[:5]))
    # The default list is the ascending one.
    assert every_page(world, FindingQuery())[0] == ascending


@pytest.mark.usefixtures("small_pages")
def test_only_findings_without_a_deadline_or_only_with_one(world: World) -> None:
    refs = logged(world, 4)
    for descending in (False, True):
        query = FindingQuery(sort="due", descending=descending)
        assert every_page(world, query) == (refs, 4, 2)  # none dated: the order logged
    for ref, days in zip(refs, (5, 6, 7, 8), strict=True):
        notified(world, ref, days)
    latest_first = expected(world, refs, descending=True)
    assert latest_first == list(refs)  # notified later: due later
    assert every_page(world, FindingQuery(sort="due", descending=True)) == (latest_first, 4, 2)
    assert every_page(world, FindingQuery()) == (list(reversed(refs)), 4, 2)


def test_due_before_and_overdue_on_both_sides_of_their_dates(world: World) -> None:
    refs = logged(world, 4)
    for ref, days in zip(refs[:3], (60, 20, 1), strict=True):
        notified(world, ref, days)
    dues = [due_of(world, ref) for ref in refs]
    first, second, third, none = dues
    assert first is not None and second is not None and third is not None and none is None

    def found(query: FindingQuery) -> set[str]:
        page = world.workflow.findings_page(query, now=LATER)
        assert page.total == len(page.findings)
        return {f.ref for f in page.findings}

    assert found(FindingQuery(due_before=second)) == set(refs[:2])
    assert found(FindingQuery(due_before=second - timedelta(days=1))) == {refs[0]}
    assert found(FindingQuery(due_before=first - timedelta(days=1))) == set()
    # The last date there is: every finding with a deadline, never one without.
    assert found(FindingQuery(due_before=date(9999, 12, 31))) == set(refs[:3])
    # Overdue: the deadline in force has passed, as the lifecycle says, on both sides of it.
    for now in (LATER, NOW + timedelta(days=400)):
        with world.workflow.db.read() as session:
            stored = session.execute(select(Finding)).scalars().all()
            late = {
                f.ref
                for f in stored
                if is_overdue(case_of(f), world.workflow.settings.calendar, now)
            }
        page = world.workflow.findings_page(FindingQuery(overdue=True), now=now)
        assert {f.ref for f in page.findings} == late
        assert all(f.overdue for f in page.findings)
    assert late == set(refs[:3])  # a year on, every deadline has passed
    page = world.workflow.findings_page(FindingQuery(overdue=True), now=LATER)
    assert {f.ref for f in page.findings} == {refs[0]}  # only the first, at LATER
