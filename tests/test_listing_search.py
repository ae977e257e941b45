"""Searching the findings list: the ref, title or site holds what is typed, in any case for
every letter (not A-Z only), each field on its own; Finding.search_text, what the search reads,
is written by every way findings go in (one, many, a bulk Core insert) and filled in by the
migration that added it (both databases)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from alembic import command
from sqlalchemy import insert, select, text
from sqlmodel import col

from cap.domain.inputs import FindingInput
from cap.domain.model import Severity, Source
from cap.store.models import Finding, search_text
from cap.workflow.listing import FindingQuery
from tests.conftest import ANNA, NOW, World

FOUND = date(2026, 1, 20)


def log(world: World, title: str, site: str | None) -> str:
    return world.workflow.log_finding(
        FindingInput(contract=world.contract, severity=Severity.MAJOR, area="wages",
                     source=Source.FACTORY_AUDIT, title=title, site=site, found_on=FOUND),
        actor=ANNA,
        now=NOW,
    )  # fmt: skip


def searched(world: World, q: str) -> list[str]:
    page = world.workflow.findings_page(FindingQuery(q=q), now=NOW)
    assert page.total == len(page.findings)
    return [f.ref for f in page.findings]


def stored(world: World) -> dict[str, str]:
    """Each finding's search_text, by ref."""
    with world.workflow.db.read() as session:
        rows = session.execute(select(col(Finding.ref), col(Finding.search_text))).all()
    return dict(rows)


def test_every_letter_in_any_case_in_each_field_on_its_own(world: World) -> None:
    swedish = log(world, "ÖVERTID utan ersättning", "Lager i Älmhult")
    greek = log(world, "Ωράριο ΕΡΓΑΣΙΑΣ", None)
    plain = log(world, "Overtime without pay", "Assembly, Dongguan")
    assert searched(world, "övertid") == [swedish]
    assert searched(world, "ÖVERTID UTAN") == [swedish]
    assert searched(world, "ERSÄTTNING") == [swedish]
    assert searched(world, "älmhult") == [swedish] == searched(world, "ÄLMHULT")
    assert searched(world, "ωράριο εργασιας") == [greek]
    assert searched(world, "ΩΡΆΡΙΟ") == [greek]
    # A letter is not its neighbour without the dots: o is not ö.
    assert searched(world, "overtid") == []
    assert searched(world, "overtime") == [plain]
    # The ref, in any case.
    assert searched(world, swedish.lower()) == [swedish]
    # Each field on its own: the end of the title and the start of the site are not one text.
    assert searched(world, "pay assembly") == []
    assert searched(world, "pay\nassembly") == []
    assert searched(world, f"{plain}\novertime") == []
    # What nothing holds, and what every finding holds.
    assert searched(world, "nothing like it") == []
    assert sorted(searched(world, "nc-")) == sorted([swedish, greek, plain])


def test_search_text_is_written_however_findings_go_in(world: World) -> None:
    one = log(world, "Passports HELD by the employer", "Dormitory, Penang")
    many = world.workflow.log_findings(
        [FindingInput(contract=world.contract, severity=Severity.MINOR, area="wages",
                      source=Source.DESKTOP_AUDIT, title=f"Fee {i} ÅTERBETALD", site=None,
                      found_on=FOUND) for i in range(2)],
        actor=ANNA,
        now=NOW,
    ).refs  # fmt: skip
    # A bulk insert (Core, executemany) that does not give it, as a data set's builder does.
    with world.workflow.db.write() as session:
        template = session.execute(select(Finding).where(col(Finding.ref) == one)).scalar_one()
        copy: dict[str, Any] = {
            c.name: getattr(template, c.name)
            for c in Finding.__table__.columns  # type: ignore[attr-defined]
            if c.name not in ("id", "search_text")
        }
        session.execute(
            insert(Finding),
            [
                dict(copy, ref="NC-2026-9001", title="Bulk ÉTÉ", site="Lyon"),
                dict(copy, ref="NC-2026-9002", title="Bulk two", site=None, external_id="x"),
            ],
        )
    texts = stored(world)
    assert texts[one] == f"{one.lower()}\npassports held by the employer\ndormitory, penang"
    assert [texts[ref] for ref in many] == [f"{r.lower()}\nfee {i} återbetald\n"
                                            for i, r in enumerate(many)]  # fmt: skip
    assert texts["NC-2026-9001"] == "nc-2026-9001\nbulk été\nlyon"
    assert texts["NC-2026-9002"] == "nc-2026-9002\nbulk two\n"
    assert searched(world, "ÉTÉ") == ["NC-2026-9001"]
    assert sorted(searched(world, "återbetald")) == sorted(many)
    assert searched(world, "held") == [one]
    assert all(text == search_text(*key) for key, text in _rows(world).items())


def _rows(world: World) -> dict[tuple[str, str, str | None], str]:
    with world.workflow.db.read() as session:
        rows = session.execute(
            select(
                col(Finding.ref), col(Finding.title), col(Finding.site), col(Finding.search_text)
            )
        ).all()
    return {(ref, title, site): text for ref, title, site, text in rows}


def test_the_migration_fills_it_in(world: World) -> None:
    refs = [
        log(world, "ÖVERTID", "Älmhult"),
        log(world, "Wages 50% below", None),
        log(world, "Ünpaid overtime", "Izmir"),
    ]
    db = world.workflow.db
    config = db.alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
        command.upgrade(config, "head")
    with db.engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM finding")).scalar_one() == 3
    texts = stored(world)
    assert texts[refs[0]] == f"{refs[0].lower()}\növertid\nälmhult"
    assert texts[refs[1]] == f"{refs[1].lower()}\nwages 50% below\n"
    assert searched(world, "ÜNPAID") == [refs[2]]
    assert searched(world, "50%") == [refs[1]]
    # And findings logged after it get theirs.
    later = world.workflow.log_finding(
        FindingInput(contract=world.contract, severity=Severity.MAJOR, area="wages",
                     source=Source.FACTORY_AUDIT, title="Later ÖVERTID", found_on=FOUND),
        actor=ANNA,
        now=NOW + timedelta(hours=1),
    )  # fmt: skip
    assert sorted(searched(world, "övertid")) == sorted([refs[0], later])
