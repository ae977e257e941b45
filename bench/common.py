"""Helpers the benchmark scripts share: the report, the scenario's supplier and contract,
PostgreSQL set-up and the SMTP server child process.

Each script runs as ``python bench/NAME.py``, which puts bench/ first on ``sys.path``, so it
imports this module as ``common`` (so do the child processes the scripts spawn). SQLAlchemy,
asyncio and cap's workflow are imported inside the helpers that use them: the lifecycle
benchmark measures the memory of child processes that need none of them.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import signal
import socket
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, NoReturn, Protocol

if TYPE_CHECKING:
    import asyncio
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from cap.store.db import Database
    from cap.workflow import Workflow

HOST = "127.0.0.1"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/cap_bench"

# The scenario's people, supplier and contract.
BUYER = "anna.manager@region.example"
SUPPLIER_EMAIL = "li.wei@nordic-supply.example"
ORG_NUMBER = "556000-1234"
CONTRACT = "RS-2019-ICT-01"

# Started at import, before the scripts' own imports (bench/ruff.toml puts `common` last).
_STARTED = time.perf_counter()
_LOAD_AT_START = os.getloadavg()[0]

# -- the report ------------------------------------------------------------------------------

Row = tuple[str, ...]
HEADER = ("#", "measure", "cap", "compared with (same run)", "ratio", "target", "result")


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def describe(exc: BaseException) -> str:
    """``Type: message``, its first line."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def info(measure: str, figure: str, compared: str = "") -> Row:
    """A row of figures with no target."""
    return ("i", measure, figure, compared, "", "", "info")


def error_row(number: str, what: str, message: str, width: int = len(HEADER)) -> Row:
    """An ERROR row ``width`` cells wide (a table with its own header passes its width)."""
    return (number, what, "ERROR", message[:70], *[""] * (width - 5), "FAIL")


def measured(number: str, what: str, section: Callable[[], list[Row]]) -> list[Row]:
    """The rows of ``section``, or one ERROR row when it raises (traceback on stderr): one
    failing measurement does not cost the others theirs."""
    try:
        return section()
    except Exception as exc:
        traceback.print_exc()
        return [error_row(number, what, describe(exc))]


def rate(count: float, seconds: float = 1.0) -> str:
    return f"{count / seconds:,.0f}/s" if count and seconds > 0 else "n/a"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if a and b and not (math.isnan(a) or math.isnan(b)) else "n/a"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def secs(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds:.2f} s"


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0-100); NaN without values."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1] if ordered else math.nan


def format_table(header: Row, rows: Sequence[Row], numeric_columns: Collection[int]) -> str:
    """``header``, a dashed rule and ``rows``, in columns two spaces apart. The cells of
    ``numeric_columns`` (indices) are right-aligned, except in the header; the rest left."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: Row, numeric: Collection[int]) -> str:
        cells = [
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header, ()), rule, *(line(row, numeric_columns) for row in rows)])


def print_report(
    title: str,
    versions: Sequence[str],
    rows: Sequence[Row],
    notes: Sequence[str],
    *,
    header: Row = HEADER,
    numeric_columns: Collection[int] = (2, 4),
) -> None:
    """The title, the machine and its load, the table (``header``, :data:`HEADER` unless
    given; ``numeric_columns`` right-aligned) and the notes."""
    print(title)
    print(
        f"Python {platform.python_version()}, {', '.join(versions)}, {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs; load average (1 min) {_LOAD_AT_START:.2f} "
        f"at start, {os.getloadavg()[0]:.2f} at end: other work on the machine slows both sides "
        f"of a comparison; {time.perf_counter() - _STARTED:.0f} s in all"
    )
    print()
    print(format_table(header, rows, numeric_columns))
    if notes:
        print("\nnotes:")
    for note in notes:
        print(textwrap.fill(note, 100, initial_indent="  ", subsequent_indent="     "))


def progress(message: str) -> None:
    """``message`` on stderr after the seconds since the benchmark started."""
    print(f"[{time.perf_counter() - _STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


def parser(doc: str | None, quick: str) -> argparse.ArgumentParser:
    """The script's arguments: ``--quick`` (``quick`` says what it measures)."""
    parsed = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parsed.add_argument("--quick", action="store_true", help=quick)
    return parsed


def run_report(main: Callable[[], int]) -> NoReturn:
    """Run ``main`` and exit 0 whatever happens: a benchmark is a report, not a test."""
    try:
        main()
    except Exception:
        traceback.print_exc()
    sys.exit(0)


# -- the scenario ----------------------------------------------------------------------------


def add_supplier_and_contract(wf: Workflow, now: datetime) -> None:
    """The supplier (one contact, English) and the contract every finding is logged under."""
    from cap.domain.inputs import ContractInput, SupplierInput
    from cap.domain.model import Language

    supplier = SupplierInput(
        name="Nordic IT Supply AB",
        org_number=ORG_NUMBER,
        country="SE",
        email=SUPPLIER_EMAIL,
        contact_name="Li Wei",
        language=Language.EN,
    )
    wf.add_supplier(supplier, now=now)
    contract = ContractInput(
        reference=CONTRACT,
        supplier=ORG_NUMBER,
        category="Personal computers",
        manager=BUYER,
        start=date(2019, 5, 1),
    )
    wf.add_contract(contract, now=now)


def log_findings(wf: Workflow, n: int, now: datetime, found_on: date | None = None) -> list[str]:
    """The supplier and contract, and ``n`` open findings under it; returns their refs."""
    from cap.domain.inputs import FindingInput
    from cap.domain.model import Area, Severity, Source

    add_supplier_and_contract(wf, now)
    rows = [
        FindingInput(
            contract=CONTRACT,
            severity=Severity.MAJOR,
            area=Area.WORKING_HOURS,
            source=Source.MONITORING_REPORT,
            title=f"Excessive overtime, line {i + 1}",
            description="Workers report 80-hour weeks in peak season.",
            site="Final assembly, Dongguan",
            site_country="CN",
            found_on=found_on,
        )
        for i in range(n)
    ]
    return list(wf.log_findings(rows, actor=BUYER, now=now).refs)


# -- PostgreSQL ------------------------------------------------------------------------------


def postgres_url() -> str:
    """``CAP_TEST_POSTGRES_URL``, else :data:`DEFAULT_POSTGRES_URL`."""
    return os.environ.get("CAP_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def safe_url(url: str) -> str:
    """``url`` with its password hidden, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def prepare_postgres(url: str) -> str:
    """Create the database if missing; returns the server version. Raises when unreachable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    if not name:
        raise ValueError(f"{parsed.render_as_string(hide_password=True)} names no database")
    admin = create_engine(
        parsed.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with admin.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar_one())
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        admin.dispose()
    return version


def probe_postgres(url: str) -> tuple[str, str | None]:
    """:func:`prepare_postgres`: the server version and None, or "" and why it failed (the
    first line, at most 200 characters)."""
    try:
        return prepare_postgres(url), None
    except Exception as exc:
        return "", describe(exc)[:200]


def schema_url(url: str, schema: str) -> str:
    """``url`` with ``schema`` first on the search path."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def reset_schema(url: str, schema: str, *, create: bool) -> None:
    """Drop ``schema`` with everything in it, if it exists; then create it empty if ``create``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            if create:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()


@contextmanager
def migrated(url: str, schema: str | None = None) -> Iterator[Database]:
    """The database at ``url`` migrated (a new SQLite file, say); with ``schema``, that
    PostgreSQL schema, dropped and recreated for it and dropped after."""
    from cap.store.db import Database

    if schema is not None:
        reset_schema(url, schema, create=True)
    db = Database(url if schema is None else schema_url(url, schema))
    try:
        db.upgrade()
        yield db
    finally:
        db.engine.dispose()
        if schema is not None:
            reset_schema(url, schema, create=False)


# -- the SMTP server (a separate process) ----------------------------------------------------


class SharedInt(Protocol):
    """A shared 64-bit integer: ``multiprocessing.Value("q", lock=False)``; one writer."""

    value: int


async def serve_until_sigterm(
    server: asyncio.Server, port_conn: Connection, stop: asyncio.Event
) -> None:
    """The child's side of :class:`ServerProcess`: send the port ``server`` listens on over
    ``port_conn``, then serve until SIGTERM (or until ``stop`` is set otherwise)."""
    import asyncio

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    port_conn.send(server.sockets[0].getsockname()[1])
    port_conn.close()
    async with server:
        await stop.wait()


class ServerProcess:
    """An SMTP server in a child process on :data:`HOST`, at the port the child chose."""

    def __init__(
        self, process: BaseProcess, port_conn: Connection, *child_ends: Connection
    ) -> None:
        """Start ``process``, close the ``child_ends`` of its pipes here, wait for the port it
        sends on ``port_conn`` and for its SMTP banner. Raises when it does not come up."""
        self._process = process
        self._process.start()
        for end in child_ends:
            end.close()
        if not port_conn.poll(60):
            self.stop()
            raise RuntimeError("the SMTP server process did not start within 60 s")
        try:
            self.port: int = port_conn.recv()
        except EOFError:
            self.stop()
            raise RuntimeError(
                f"the SMTP server process exited (code {self._process.exitcode})"
            ) from None
        finally:
            port_conn.close()
        self._wait_for_banner()

    def _wait_for_banner(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=2) as s:
                    banner = s.recv(512)
                    s.sendall(b"QUIT\r\n")
                    s.recv(512)
                if banner.startswith(b"220"):
                    return
                raise RuntimeError(f"unexpected SMTP banner {banner!r}")
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def stop(self) -> int | None:
        """SIGTERM (a clean shutdown), then SIGKILL if it lingers; returns the exit code."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        return self._process.exitcode
