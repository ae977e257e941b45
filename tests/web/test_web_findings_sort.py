"""Sorting the findings list by each column, both ways, in a stable order; and its pages: 50 a
page, previous and next, a page past the last (both databases)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from cap.domain.inputs import FindingInput
from cap.domain.model import Area, Severity, Source, State
from cap.workflow import FindingView
from cap.workflow.listing import PAGE_SIZE, SORTS
from tests.conftest import ANNA, BO, World
from tests.web.desk_client import Desk
from tests.web.test_web_findings_list import LOGGED, listed, mixed, shown

#: How each column orders findings, from what the finding page shows.
KEYS: dict[str, Callable[[FindingView], Any]] = {
    "ref": lambda f: int(f.ref.rsplit("-", 1)[1]),
    "title": lambda f: f.title.lower(),
    "supplier": lambda f: f.supplier.lower(),
    "contract": lambda f: f.contract.lower(),
    "state": lambda f: list(State).index(f.state),
    "severity": lambda f: list(Severity).index(f.severity),
    "area": lambda f: list(Area).index(f.area),
    "due": lambda f: f.due,
    "found_on": lambda f: f.found_on,
}


def expected(findings: list[FindingView], sort: str, descending: bool) -> list[str]:
    """``findings`` (in the order they were logged) sorted by ``sort``: equal keys keep that
    order either way, and findings without a deadline come last."""
    key = KEYS[sort]
    dated = [f for f in findings if key(f) is not None]
    undated = [f for f in findings if key(f) is None]
    return [f.ref for f in sorted(dated, key=key, reverse=descending) + undated]


@pytest.fixture
def bo(signed_in: Callable[[str], Desk]) -> Desk:
    return signed_in(BO)


def test_every_column_sorts_both_ways_with_ties_in_a_stable_order(
    desk_world: World, bo: Desk
) -> None:
    refs = mixed(desk_world)
    findings = [shown(desk_world, ref) for ref in refs.values()]
    assert set(KEYS) == set(SORTS)
    for sort in SORTS:
        for order in ("asc", "desc"):
            page = bo.get(f"/findings?sort={sort}&order={order}")
            assert listed(page) == expected(findings, sort, order == "desc"), (sort, order)
    # Not an accident of the order they were logged in:
    assert expected(findings, "due", False) != list(refs.values())
    assert expected(findings, "severity", True) != list(refs.values())
    # The default: the earliest deadline first.
    assert listed(bo.get("/findings")) == expected(findings, "due", False)


def test_the_headers_sort_and_flip_keeping_the_filters(desk_world: World, bo: Desk) -> None:
    mixed(desk_world)
    page = bo.get("/findings?severity=critical&sort=title").text
    header = re.search(r'<th scope="col" aria-sort="ascending">\s*<a href="([^"]+)">Title', page)
    assert header and header.group(1) == "/findings?severity=critical&amp;sort=title&amp;order=desc"
    assert page.count("aria-sort=") == 1
    assert '<a href="/findings?severity=critical&amp;sort=area">Area</a>' in page
    assert '<a href="/findings?severity=critical">Due</a>' in page  # the default sort
    assert "<caption>Findings, sorted by Title (ascending)</caption>" in page
    # The filter form keeps the sort when filters change.
    assert '<input type="hidden" name="sort" value="title">' in page
    flipped = bo.get("/findings?severity=critical&sort=title&order=desc").text
    assert '<th scope="col" aria-sort="descending">' in flipped
    assert '<a href="/findings?severity=critical&amp;sort=title">Title' in flipped
    assert '<input type="hidden" name="order" value="desc">' in flipped
    assert "sorted by Title (descending)" in flipped


def _log_many(world: World, count: int) -> list[str]:
    rows = [
        FindingInput(contract=world.contract, severity=Severity.MAJOR, area=Area.WAGES,
                     source=Source.DESKTOP_AUDIT, title=f"Finding {i:03d}",
                     found_on=date(2025, 12, 1) + timedelta(days=i % 3))
        for i in range(count)
    ]  # fmt: skip
    result = world.workflow.log_findings(rows, actor=ANNA, now=LOGGED, allow_duplicates=True)
    return list(result.refs)


def test_fifty_findings_are_one_page_and_fifty_one_two(desk_world: World, bo: Desk) -> None:
    refs = _log_many(desk_world, PAGE_SIZE)
    one = bo.get("/findings")
    assert listed(one) == refs  # no deadlines: the order they were logged in
    assert "pagination" not in one.text and "Next" not in one.text
    refs += _log_many(desk_world, 1)
    first = bo.get("/findings")
    assert listed(first) == refs[:50]
    assert '<p id="found">51 findings found' in first.text
    assert '<a href="/findings" aria-current="page">Page 1 of 2</a>' in first.text
    assert '<a href="/findings?page=2" rel="next">Next</a>' in first.text
    assert 'rel="prev"' not in first.text
    last = bo.get("/findings?page=2")
    assert listed(last) == refs[50:]
    assert '<a href="/findings?page=2" aria-current="page">Page 2 of 2</a>' in last.text
    assert (
        '<a href="/findings" rel="prev">Previous</a>' in last.text and 'rel="next"' not in last.text
    )
    # Past the last page: an empty page that says where the list ends (not an error).
    beyond = bo.get("/findings?page=7")
    assert listed(beyond) == []
    assert "There are no findings on this page: the list ends at page 2." in beyond.text
    assert '<a href="/findings?page=2" rel="prev">Previous</a>' in beyond.text
    assert "Page 7 of 2" in beyond.text


def test_pages_keep_the_filters_and_sort_and_never_repeat_a_finding(
    desk_world: World, bo: Desk
) -> None:
    refs = _log_many(desk_world, 2 * PAGE_SIZE + 3)
    # Every finding has the same severity: the order of the pages rests on the tie-break.
    query = "severity=major&sort=severity&order=desc"
    pages = [listed(bo.get(f"/findings?{query}&page={n}")) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [50, 50, 3]
    assert pages[0] + pages[1] + pages[2] == refs
    second = bo.get(f"/findings?{query}&page=2").text
    assert f'<a href="/findings?{query.replace("&", "&amp;")}&amp;page=3" rel="next">' in second
    assert f'<a href="/findings?{query.replace("&", "&amp;")}" rel="prev">' in second
    # By finding date (three dates, many ties): still each finding once, in date order.
    by_date = [listed(bo.get(f"/findings?sort=found_on&page={n}")) for n in (1, 2, 3)]
    flat = [ref for page in by_date for ref in page]
    assert sorted(flat) == sorted(refs) and len(set(flat)) == len(refs)
