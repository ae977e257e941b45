"""Shared fixtures: real SQLite and PostgreSQL databases, migrated with cap's own migrations.

PostgreSQL comes from ``CAP_TEST_POSTGRES_URL`` (default: the local server, database
``cap_test``, created when missing). Without a reachable server its tests are skipped locally
and fail under CI (``CI`` set), so a green CI run always covered both databases.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from cap.config import Settings
from cap.domain.inputs import ContractInput, FindingInput, SupplierInput
from cap.domain.model import Area, Language, Severity, Source
from cap.store.db import Database
from cap.workflow import Workflow
from tests.cli_runner import Cap
from tests.smtp_server import Handler, smtp_server

PG_URL = os.environ.get(
    "CAP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/cap_test"
)

# Personas: who does what in the tests.
ANNA = "anna.manager@region.example"  # contract manager
BO = "bo.sustainability@region.example"  # sustainability manager
CECILIA = "cecilia.director@region.example"  # decision maker
DAVID = "david.director@region.example"  # second decision maker
LI = "li.wei@nordic-supply.example"  # the supplier's contact

#: The smallest valid set of deadlines: a default rule for each of the five kinds.
DEFAULT_DEADLINES = """
[[deadline]]
id = "D-plan"
kind = "plan"
period = "1 month"

[[deadline]]
id = "D-plan-revision"
kind = "plan_revision"
period = "14 days"

[[deadline]]
id = "D-plan-review"
kind = "plan_review"
period = "14 days"

[[deadline]]
id = "D-remediation"
kind = "remediation"
period = "6 months"

[[deadline]]
id = "D-verification"
kind = "verification"
period = "30 days"
"""

#: A fixed "now" for tests that do not care about the date: a Tuesday in Stockholm winter.
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def _ensure_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


@contextmanager
def migrated_pg_schema(prefix: str) -> Iterator[str]:
    """The URL of a new PostgreSQL schema (``prefix``, the process and a random part: runs
    side by side do not collide) migrated to the head; dropped afterwards."""
    try:
        _ensure_pg_database(PG_URL)
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = Database(PG_URL)
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    db = Database(rendered)
    db.upgrade()
    db.engine.dispose()
    try:
        yield rendered
    finally:
        if rendered in _EMPTYING:
            _EMPTYING.pop(rendered)[0].engine.dispose()
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.engine.dispose()


#: Modules whose point is what PostgreSQL does with several writers at once (row locks, a
#: unique index making a second writer wait): on both databases in the quick loop too.
BOTH_IN_THE_QUICK_LOOP = {"test_api_idempotency.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The PostgreSQL half of the tests that run on both databases is slow: the quick loop
    (-m "not slow") runs them on SQLite, the whole suite (CI) on both. Code differs between
    the two only in the store and in a few statements, and those have tests of their own
    that run on PostgreSQL alone, which stay in the quick loop."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (
            callspec is not None
            and callspec.params.get("db_url") == "postgresql"
            and item.path.name not in BOTH_IN_THE_QUICK_LOOP
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated schema of its own for this test run."""
    with migrated_pg_schema("test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cap.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.engine.dispose()
    return path


#: Per PostgreSQL URL of this test process: an engine and the statement that empties its
#: schema (kept for the whole run: a new engine per test would connect again each time).
_EMPTYING: dict[str, tuple[Database, str]] = {}


def empty_pg(url: str) -> None:
    """Every table of the test's schema emptied (Alembic's version kept) and its sequences
    restarted: DELETE, as the tables hold a few rows (TRUNCATE rewrites every table and its
    indexes, ten times slower here), children before parents."""
    if url not in _EMPTYING:
        db = Database(url)
        with db.engine.connect() as conn:
            sequences = conn.execute(
                text(
                    "SELECT sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = current_schema()"
                )
            ).scalars()
            statements = [
                f'DELETE FROM "{t.name}"' for t in reversed(SQLModel.metadata.sorted_tables)
            ]
            statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        _EMPTYING[url] = (db, "; ".join(statements))
    db, statement = _EMPTYING[url]
    with db.engine.begin() as conn:
        conn.exec_driver_sql(statement)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL; every test that takes it runs on both databases."""
    if request.param == "sqlite":
        target = tmp_path / "cap.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    empty_pg(url)
    return url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "cap.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def cap(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cap:
    """The ``cap`` command line on the test's SQLite database, acting as Anna, with
    CAP_MAIL_DIR=tmp_path/"mail". It runs in tmp_path: relative paths land there."""
    monkeypatch.chdir(tmp_path)
    return Cap(sqlite_url, tmp_path, actor=ANNA)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, mail_dir=tmp_path / "mail")


@pytest.fixture
def workflow(settings: Settings) -> Iterator[Workflow]:
    yield Workflow(db=database_for(settings.database_url), settings=settings)


#: The Database (one engine) of each URL a test uses, shared by its Workflow and its web
#: pages (tests/web/desk_client.py): an engine is not free to build, and each compiles its
#: statements anew.
_DATABASES: dict[str, Database] = {}


def database_for(url: str) -> Database:
    """The test's Database for ``url`` (closed when the test ends)."""
    if url not in _DATABASES:
        _DATABASES[url] = Database(url)
    return _DATABASES[url]


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    yield
    while _DATABASES:
        _DATABASES.popitem()[1].engine.dispose()


@dataclass(frozen=True)
class World:
    """A supplier with a contract, ready for findings."""

    workflow: Workflow
    contract: str = "RS-2019-ICT-01"
    org_number: str = "556000-1234"

    def finding(
        self,
        severity: Severity = Severity.MAJOR,
        area: Area = Area.WORKING_HOURS,
        title: str = "Forced overtime at final assembly",
        found_on: date = date(2026, 1, 20),
        now: datetime = NOW,
    ) -> str:
        return self.workflow.log_finding(
            FindingInput(
                contract=self.contract,
                severity=severity,
                area=area,
                source=Source.MONITORING_REPORT,
                title=title,
                description="Workers report 80-hour weeks in peak season.",
                site="Final assembly, Dongguan",
                site_country="CN",
                found_on=found_on,
            ),
            actor=ANNA,
            now=now,
        )


def make_world(workflow: Workflow) -> World:
    world = World(workflow)
    workflow.add_supplier(
        SupplierInput(
            name="Nordic IT Supply AB",
            org_number=world.org_number,
            country="SE",
            email=LI,
            contact_name="Li Wei",
            language=Language.EN,
        ),
        now=NOW,
    )
    workflow.add_contract(
        ContractInput(
            reference=world.contract,
            supplier=world.org_number,
            category="Personal computers",
            manager=ANNA,
            start=date(2019, 5, 1),
        ),
        now=NOW,
    )
    return world


@pytest.fixture
def world(workflow: Workflow) -> World:
    return make_world(workflow)


@pytest.fixture
def sqlite_world(sqlite_url: str, tmp_path: Path) -> World:
    """The world on SQLite alone, for what only SQLite has (its query plans, its search
    index)."""
    settings = Settings(database_url=sqlite_url, mail_dir=tmp_path / "mail")
    return make_world(Workflow(database_for(sqlite_url), settings))


@pytest.fixture
def server() -> Iterator[tuple[Handler, int]]:
    """A real SMTP server on loopback (aiosmtpd), with its handler."""
    with smtp_server() as running:
        yield running


@pytest.fixture
def smtp_world(server: tuple[Handler, int], settings: Settings) -> World:
    """The world with mail going to :func:`server`."""
    _, port = server
    configured = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_tls": "none",
            "mail_from": "cap@region.example",
            "smtp_timeout": 5.0,
        }
    )
    return make_world(Workflow(Database(configured.database_url), configured))
