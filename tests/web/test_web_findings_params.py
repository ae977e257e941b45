"""A bad parameter of the findings list or its export is a 400 page with one line naming the
parameter and what it takes: never a 422 JSON, never a traceback (both databases for the
pages; the parsing itself is pure)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

import pytest

from cap.errors import InvalidInput
from cap.workflow.listing import FindingQuery, parse_query
from tests.conftest import BO, World
from tests.web.desk_client import Desk

_ERRORS = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.DOTALL)

STATES = (
    "open, awaiting_plan, plan_review, remediating, verifying, sanction_review, closed, "
    "terminated, withdrawn"
)
SORTS = "ref, title, supplier, contract, state, severity, area, due, found_on"
PAGE = "page: must be a whole number from 1 to 1000000"
BAD: list[tuple[str, str]] = [
    ("page=abc", PAGE),
    ("page=0", PAGE),
    ("page=-1", PAGE),
    ("page=1.5", PAGE),
    ("page=1000001", PAGE),
    ("page=99999999999999999999999", PAGE),
    ("due_before=2026-13-45", "due_before: 2026-13-45 is not a date (YYYY-MM-DD)"),
    ("due_before=2026-02-30", "due_before: 2026-02-30 is not a date (YYYY-MM-DD)"),
    ("due_before=20260301", "due_before: 20260301 is not a date (YYYY-MM-DD)"),
    ("due_before=3%2F1%2F2026", "due_before: 3/1/2026 is not a date (YYYY-MM-DD)"),
    ("sort=colour", f"sort: choose one of {SORTS}"),
    ("sort=title&sort=ref", "sort: give it once"),
    ("order=up", "order: choose asc or desc"),
    ("state=done", f"state: done is not a state; choose one of {STATES}"),
    ("state=open&state=Closed", f"state: Closed is not a state; choose one of {STATES}"),
    ("severity=high", "severity: high is not a severity; choose one of minor, major, critical"),
    ("area=wage", "area: wage is not an area; choose one of child_labour, forced_labour, "
     "freedom_of_association, discrimination, working_hours, wages, health_and_safety, "
     "process_chemicals, anti_corruption, responsible_minerals, environment, transparency, "
     "other"),
    ("overdue=yes", "overdue: use overdue=1 for overdue findings only, or leave it out"),
    ("q=" + "x" * 201, "q: at most 200 characters"),
    ("supplier=a&supplier=b", "supplier: give it once"),
    ("colour=red", "colour: not a parameter of the findings list; use state, supplier, "
     "contract, area, severity, overdue, due_before, q, sort, order, page"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "message"), BAD, ids=[q[:30] for q, _ in BAD])
def test_a_bad_parameter_is_named(query: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_query(parse_qsl(query, keep_blank_values=True))
    assert raised.value.message == message


def test_good_parameters_are_read() -> None:
    query = parse_query(
        [("state", "closed"), ("state", ""), ("state", "open"), ("state", "closed"),
         ("supplier", " 556000-1234 "), ("q", " 50% "), ("due_before", "2026-04-07"),
         ("overdue", "1"), ("sort", "title"), ("order", "desc"), ("page", "3")]
    )  # fmt: skip
    assert [s.value for s in query.states] == ["closed", "open"]
    assert (query.supplier, query.q, query.overdue, query.page) == ("556000-1234", "50%", True, 3)
    assert query.descending and query.sort == "title" and query.narrowed
    assert query.params(page=False) == [
        ("state", "closed"), ("state", "open"), ("supplier", "556000-1234"), ("overdue", "1"),
        ("due_before", "2026-04-07"), ("q", "50%"), ("sort", "title"), ("order", "desc"),
    ]  # fmt: skip
    assert parse_query(query.params()) == query  # a link gives the list back
    assert parse_query([]) == FindingQuery() and not FindingQuery(page=2).narrowed


@pytest.fixture
def bo(signed_in: Callable[[str], Desk]) -> Desk:
    return signed_in(BO)


@pytest.mark.parametrize("path", ["/findings", "/findings.csv"])
def test_the_page_says_what_is_wrong_and_nothing_else(
    path: str, desk_world: World, bo: Desk
) -> None:
    desk_world.finding(title="A finding that must not be listed")
    for query, message in [*BAD[::3], ("state=<b>x</b>", "")]:
        response = bo.get(f"{path}?{query}")
        assert response.status_code == 400, query
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-store"
        errors = [html.unescape(e) for e in _ERRORS.findall(response.text)]
        assert len(errors) == 1 and errors[0].startswith(query.split("=")[0] + ": "), errors
        if message:
            assert errors == [message]
        assert "<table" not in response.text and "must not be listed" not in response.text
        assert "Traceback" not in response.text
    hostile = bo.get(f"{path}?state=<b>x</b>").text
    assert "<b>x</b>" not in hostile and "&lt;b&gt;x&lt;/b&gt;" in hostile
    # Blank values and an export's page are not errors.
    assert bo.get(f"{path}?state=&sort=&order=&page=").status_code == 200
