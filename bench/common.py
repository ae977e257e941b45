"""Helpers the benchmark scripts share: the report table, progress lines, PostgreSQL set-up and
the SMTP server child process.

Each script runs as ``python bench/NAME.py``, which puts bench/ first on ``sys.path``, so it
imports this module as ``common`` (so do the child processes the scripts spawn: they inherit
``sys.path``). SQLAlchemy and asyncio are imported inside the helpers that use them, not at
the top: the lifecycle benchmark never needs them and measures its processes' memory.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, NoReturn, Protocol

if TYPE_CHECKING:
    import asyncio
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

HOST = "127.0.0.1"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/cap_bench"

# -- the report ------------------------------------------------------------------------------


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def describe(exc: BaseException) -> str:
    """``Type: message``, its first line."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def format_table(
    header: tuple[str, ...], rows: Sequence[tuple[str, ...]], numeric_columns: Collection[int]
) -> str:
    """``header``, a dashed rule and ``rows``, in columns two spaces apart. The cells of
    ``numeric_columns`` (indices) are right-aligned, except in the header; the rest left."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: tuple[str, ...], numeric: Collection[int]) -> str:
        cells = [
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header, ()), rule, *(line(row, numeric_columns) for row in rows)])


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """``message`` on stderr after the seconds since the benchmark started."""
    print(f"[{time.perf_counter() - _STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


def run_report(main: Callable[[], int]) -> NoReturn:
    """Run ``main`` and exit 0 whatever happens: a benchmark is a report, not a test."""
    try:
        main()
    except Exception:
        traceback.print_exc()
    sys.exit(0)


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
