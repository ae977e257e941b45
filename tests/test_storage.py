"""The store: migrations match the models, SQLite is set up for safe writes, instants stay UTC."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import cap.store.models  # noqa: F401
from cap.errors import InvalidInput
from cap.store.db import SCHEMA_HEAD, Database, DatabaseUnavailable
from cap.store.models import Supplier
from cap.store.search import include_name


def test_the_migrations_build_exactly_the_models(db_url: str) -> None:
    db = Database(db_url)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    db.engine.dispose()
    assert diff == [], (
        "models and migrations differ: add a migration (alembic revision --autogenerate)"
    )


def test_the_calendar_feed_migration_goes_down_and_up_again(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    db = Database(db_url)
    config = db.alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        assert {c["name"] for c in inspect(connection).get_columns("calendar_feed")} == {
            "id", "user_id", "token_hash", "prefix", "created_at", "revoked_at", "last_used_at"
        }  # fmt: skip
        command.downgrade(config, "0016")
        assert not inspect(connection).has_table("calendar_feed")
        command.upgrade(config, "head")
        unique = inspect(connection).get_unique_constraints("calendar_feed")
        assert [u["column_names"] for u in unique] == [["token_hash"]]
    assert db.current_revision() == SCHEMA_HEAD
    db.engine.dispose()


def test_the_schema_head_constant_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    config = Database("sqlite://").alembic_config()
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD


def test_init_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(DatabaseUnavailable, match=r"there is no database at .*run `cap init`"):
        db.require_current()
    assert not (tmp_path / "new.db").exists()
    before, after = db.upgrade()
    assert before is None and after == db.head_revision()
    assert db.upgrade() == (after, after)
    db.require_current()


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_sqlite_enforces_foreign_keys(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    with pytest.raises(Exception, match="FOREIGN KEY"), db.write() as session:
        session.execute(
            text(
                "INSERT INTO supplier_contact (supplier_id, email, language) "
                "VALUES (999, 'x@y.example', 'sv')"
            )
        )


def test_a_naive_instant_is_never_stored(db_url: str) -> None:
    db = Database(db_url)
    with pytest.raises(Exception, match="naive datetime"), db.write() as session:
        session.add(
            Supplier(name="A", org_number="1", country="SE", created_at=datetime(2026, 1, 1))
        )
        session.flush()
    db.engine.dispose()


def test_a_bad_database_url_is_named() -> None:
    with pytest.raises(InvalidInput, match="CAP_DATABASE_URL"):
        Database("not a url")
    with pytest.raises(InvalidInput, match="'mysql' is not supported"):
        Database("mysql://root@localhost/cap")
