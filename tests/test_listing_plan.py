"""How SQLite reads the findings list (its EXPLAIN QUERY PLAN): no page reads the whole finding
table or sorts every finding it lets through. The first page, a state with a severity, the
latest deadline first, overdue, due before a date: ranges of an index, in its order. A search
is counted through the search index (cap.store.search); a few matches are read through it and
put in order (at most FEW_MATCHES of them), many are read from an index in the list's order,
what is searched being in it, never from the table. The plan is
SQLite's and depends on the indexes, not on how many findings there are (no statistics are
gathered), so a few findings show what 100,000 get."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from cap.domain.model import Severity, State
from cap.workflow import listing
from cap.workflow.listing import FindingQuery
from tests.conftest import NOW, World
from tests.web.test_web_findings_due import statements_run

QUERIES = {
    "first page": FindingQuery(),
    "a page further": FindingQuery(page=3),
    "state and severity": FindingQuery(states=(State.REMEDIATING,), severity=Severity.MAJOR),
    "latest deadline first": FindingQuery(descending=True, page=2),
    "overdue": FindingQuery(overdue=True),
    "due before": FindingQuery(due_before=date(2026, 4, 1)),
    "search": FindingQuery(q="dormitory"),
    "search, many matches": FindingQuery(q="dormitory"),
}


def plan_of(engine: Engine, sql: str, params: Any) -> list[tuple[int, int, str]]:
    """SQLite's plan of ``sql``: (id, parent id, what it does) for each step."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    return [(row[0], row[1], row[3]) for row in rows]


def in_subquery(plan: list[tuple[int, int, str]]) -> list[str]:
    """The steps under a subquery (where a page's findings are chosen)."""
    parents = {step: parent for step, parent, _ in plan}
    subqueries = {step for step, _, what in plan if "SUBQUERY" in what}

    def under(step: int) -> bool:
        while step in parents:
            step = parents[step]
            if step in subqueries:
                return True
        return False

    return [what for step, _, what in plan if under(step)]


@pytest.mark.parametrize("name", QUERIES)
def test_a_page_reads_ranges_of_indexes(
    sqlite_world: World, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = sqlite_world
    if name == "search, many matches":
        monkeypatch.setattr(listing, "FEW_MATCHES", 2)  # the 3 findings below are many
    for i in range(3):
        world.finding(title=f"Dormitory {i}")
    engine = world.workflow.db.engine
    with statements_run(engine) as run:
        world.workflow.findings_page(QUERIES[name], now=NOW)
    selects = [(sql, params) for sql, params in run if sql.lstrip().upper().startswith("SELECT")
               and "sqlite_master" not in sql]  # fmt: skip
    assert selects, name
    chose_them = searched = False
    for sql, params in selects:
        plan = plan_of(engine, sql, params)
        steps = [what for _, _, what in plan]
        # Never the table itself from end to end (an index, or rows by their ids).
        assert not [s for s in steps if s.startswith("SCAN") and "INDEX" not in s], (name, steps)
        searched |= any("VIRTUAL TABLE" in s for s in steps)
        chosen = in_subquery(plan)
        if any("VIRTUAL TABLE" in s for s in chosen):
            # Counted through the search index; a few matches also chosen by their ids there,
            # then put in order.
            chose_them |= name == "search"
            continue
        if chosen:
            chose_them = True
            # The page's findings come in the index's order: no sort of all it lets through
            # (descending, only findings due the same day are put in order of their ids).
            assert "USE TEMP B-TREE FOR ORDER BY" not in chosen, (name, chosen)
            assert any("USING COVERING INDEX" in s for s in chosen), (name, chosen)
    assert chose_them, name
    assert searched == name.startswith("search"), name  # counted through the search index
