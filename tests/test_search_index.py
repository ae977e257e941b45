"""The findings list's search index (cap.store.search, migration 0010): on SQLite a search of
three characters or more is counted, and when it matches few findings read, through an FTS5
trigram index kept by triggers; PostgreSQL reads it with LIKE. Either way a page holds what a
plain substring test of the stored text says, in the list's order, on both sides of
FEW_MATCHES; what is typed is text, never FTS5 query syntax."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import text

from cap.domain.inputs import FindingInput
from cap.domain.model import Severity, Source, State
from cap.store import search
from cap.workflow import listing
from cap.workflow.listing import FindingQuery
from tests.conftest import ANNA, NOW, World

TITLES = (
    "Dormitory overcrowded", 'He said "no" to the union', "NEAR(wages) OR fees", "Fee * 3",
    "Dormitory fire exits locked", "Wages 50% below minimum", "Overtime in the dormitory",
    "Passports held", "Dormitory: no heating",
)  # fmt: skip
QUERIES = ("dormitory", "dor", '"no"', 'said "no', "near(", "or fees", "* 3", "50%", "ed",
           "nc-", "ormitory: n", "nothing like it", "dormitory fire")  # fmt: skip


def log_all(world: World) -> list[str]:
    return list(
        world.workflow.log_findings(
            [FindingInput(contract=world.contract, severity=Severity.MAJOR, area="wages",
                          source=Source.FACTORY_AUDIT, title=title, site=None,
                          found_on=date(2026, 1, 1 + i)) for i, title in enumerate(TITLES)],
            actor=ANNA,
            now=NOW,
        ).refs
    )  # fmt: skip


def listed(world: World, q: str, *, filtered: bool = False) -> tuple[int, list[str]]:
    """The total and the refs of every page of the search ``q``, page after page; filtered:
    by a state too (every finding here is open), so the search is one condition of several."""
    refs: list[str] = []
    page = 1
    states = (State.OPEN,) if filtered else ()
    while True:
        found = world.workflow.findings_page(FindingQuery(q=q, states=states, page=page), now=NOW)
        refs += [f.ref for f in found.findings]
        if page >= found.pages:
            return found.total, refs
        page += 1


def expected(world: World, refs: list[str], q: str) -> list[str]:
    """The refs whose ref or title holds ``q`` in lower case, in the list's order (every
    finding here is open with no deadline: in the order they were logged)."""
    return [ref for ref, title in zip(refs, TITLES, strict=True)
            if q.lower() in f"{ref}\n{title}\n".lower()]  # fmt: skip


def test_sqlite_has_the_index_and_postgresql_reads_with_like(world: World) -> None:
    with world.workflow.db.read() as session:
        assert search.has_index(session) == (world.workflow.db.dialect == "sqlite")


@pytest.mark.parametrize("filtered", [False, True], ids=["alone", "filtered"])
@pytest.mark.parametrize("few", [listing.FEW_MATCHES, 0])
def test_a_search_lists_what_the_text_holds_either_way(
    world: World, few: int, filtered: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "FEW_MATCHES", few)  # 0: every search matches many
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)  # pages, so offsets too
    refs = log_all(world)
    for q in QUERIES:
        want = expected(world, refs, q)
        assert listed(world, q, filtered=filtered) == (len(want), want), q


def test_the_index_follows_a_changed_text(world: World) -> None:
    refs = log_all(world)
    with world.workflow.db.write() as session:
        session.execute(
            text("UPDATE finding SET search_text = :new WHERE ref = :ref"),
            {"new": f"{refs[7].lower()}\npassports returned\n", "ref": refs[7]},
        )
    assert listed(world, "passports returned") == (1, [refs[7]])
    assert listed(world, "passports held") == (0, [])


def test_downgrading_drops_it_and_upgrading_builds_it_over_the_findings(
    sqlite_world: World,
) -> None:
    world = sqlite_world
    refs = log_all(world)
    db = world.workflow.db
    config = db.alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
        tables = connection.execute(text("SELECT name FROM sqlite_master")).scalars().all()
        assert not [name for name in tables if name.startswith(search.SEARCH_TABLE)]
        command.upgrade(config, "head")
    assert listed(world, "dormitory") == (4, expected(world, refs, "dormitory"))
    with db.engine.connect() as connection:
        indexed = connection.execute(
            text("SELECT count(*) FROM finding_search WHERE finding_search MATCH '\"nc-\"'")
        ).scalar_one()
    assert indexed == len(TITLES)
