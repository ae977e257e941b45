"""The findings list's search index on SQLite: an FTS5 table of ``finding.search_text`` with
the trigram tokenizer (SQLite 3.34 and later, built with FTS5: migration 0010 makes it only
there), kept by triggers.

A search is a substring of the stored, lower-cased text (cap.workflow.listing). PostgreSQL and
a SQLite without FTS5 read it with LIKE; on SQLite the index finds the findings holding a
substring of three characters or more without reading every finding (bench/web.py measures
both). Its matches are the LIKE's: the tokenizer is case sensitive (the text and what is
typed are lower-cased already) and the substring is one quoted phrase.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlmodel import Session, col

from cap.store.models import Finding

#: The FTS5 table; it and its shadow tables (finding_search_data, ...) are not SQLModel's.
SEARCH_TABLE = "finding_search"
#: The shortest substring the trigram index finds (shorter ones are read with LIKE).
SHORTEST = 3

_known: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's include_name: everything but the index and its shadow tables, which the
    models do not declare (autogenerate and the models' comparison leave them alone)."""
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_TABLE))


def has_index(session: Session) -> bool:
    """Whether the database of ``session`` has the index (looked up once per engine)."""
    engine = session.get_bind().engine
    found = _known.get(engine)
    if found is None:
        found = engine.dialect.name == "sqlite" and bool(
            session.execute(
                text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
                {"name": SEARCH_TABLE},
            ).first()
        )
        _known[engine] = found
    return found


def _matching(text_: str) -> ColumnElement[bool]:
    """The index's rows whose text holds ``text_`` (lower-cased, SHORTEST characters or more,
    no line break): the text as one FTS5 phrase, a double quote in it doubled, so nothing in
    it is query syntax."""
    phrase = '"' + text_.replace('"', '""') + '"'
    return literal_column(SEARCH_TABLE).op("MATCH")(bindparam("phrase", phrase))


def indexed(text_: str) -> ColumnElement[bool]:
    """The findings whose search_text holds ``text_``, found through the index."""
    matching: Select[Any] = (
        select(literal_column("rowid")).select_from(table(SEARCH_TABLE)).where(_matching(text_))
    )
    return col(Finding.id).in_(matching)


def count(session: Session, text_: str) -> int:
    """How many findings hold ``text_``, from the index alone (it has a row per finding)."""
    statement = select(func.count()).select_from(table(SEARCH_TABLE)).where(_matching(text_))
    return int(session.execute(statement).scalar_one())
