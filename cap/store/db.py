"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session

from cap.errors import CapError, InvalidInput

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.dialects import postgresql, sqlite

MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest migration. Every command checks the database against it without loading Alembic
#: (a third of a second at each start); tests/test_storage.py keeps it equal to Alembic's head.
SCHEMA_HEAD = "0019"


def insert_for(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``table`` that can say ON CONFLICT, in ``dialect``'s own form.

    The dialect's module is imported when first asked for: a process on SQLite never loads
    PostgreSQL's (a few hundredths of a second at every command's start)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


class DatabaseUnavailable(CapError):
    exit_code = 3


def unavailable_reason(exc: OperationalError) -> str:
    """The first line of the driver's message, for people (its SQL and details are for logs)."""
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets WAL, a busy timeout, foreign keys and writes that
    begin with ``BEGIN IMMEDIATE`` (so a read-then-write never fails half-way on a lock)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput(f"CAP_DATABASE_URL: {url!r} is not a database URL ({exc})") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise InvalidInput(
        f"CAP_DATABASE_URL: {parsed.get_backend_name()!r} is not supported; "
        "use sqlite:///path.db or postgresql+psycopg://user@host/db"
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Leave transaction control to us: pysqlite would otherwise BEGIN late and DEFERRED.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's own lower() folds A-Z only: a search for "överarbete" would miss "Överarbete".
    # Python's str.lower folds every letter, as PostgreSQL's lower() does in a UTF-8 database.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _sqlite_on_begin(connection: Any) -> None:
    read_only = connection.get_execution_options().get("cap_read_only", False)
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


class Database:
    """One engine and the two kinds of transaction the application uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._read_engine = self.engine.execution_options(cap_read_only=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only (on SQLite it does not take the write lock)."""
        with Session(self._read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    def alembic_config(self) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return config

    def upgrade(self) -> tuple[str | None, str]:
        """Create or upgrade the schema to the newest migration; returns (before, after)."""
        from alembic import command

        before = self.current_revision()
        with self.engine.begin() as connection:
            config = self.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return before, self.head_revision()

    def current_revision(self) -> str | None:
        try:
            with self.engine.connect() as connection:
                if not inspect(connection).has_table("alembic_version"):
                    return None
                version = connection.execute(text("SELECT version_num FROM alembic_version"))
                return version.scalar()
        except OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot open the database {self.safe_url}: {unavailable_reason(exc)}"
            ) from None

    def head_revision(self) -> str:
        return SCHEMA_HEAD

    def require_current(self) -> None:
        """Refuse to work on a database that is missing or older than this version of cap."""
        missing = self._missing_file()
        if missing is not None:
            # Connecting would create an empty file that later looks like a database.
            raise DatabaseUnavailable(
                f"there is no database at {missing}; run `cap init` to create it, or point "
                "CAP_DATABASE_URL at the one you use"
            )
        current = self.current_revision()
        if current is None:
            raise DatabaseUnavailable(
                f"the database {self.safe_url} is not initialised; run `cap init` first"
            )
        if current != self.head_revision():
            raise DatabaseUnavailable(
                f"the database {self.safe_url} is at schema {current}, this cap needs "
                f"{self.head_revision()}; run `cap init` to upgrade it (back it up first)"
            )

    def _missing_file(self) -> Path | None:
        """The SQLite file this URL names, if it does not exist (None for other databases)."""
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        path = Path(url.database)
        return None if path.exists() else path

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)
