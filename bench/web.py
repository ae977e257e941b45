"""Web desk benchmark: how long the desk's pages take on a large database, under load.

Run ``python bench/web.py [--quick] [--findings N] [--suppliers N] [--clients N]
[--requests N] [--rebuild] [--profile]``. It builds a SQLite database with 100,000 findings
(``--quick``: 5,000) under 5,000 suppliers and their contracts, starts the web application in
a separate process (uvicorn on 127.0.0.1, as ``cap serve`` runs it, without the worker), and
drives it with 8 concurrent clients, each signed in through the real ``/login`` form with its
CSRF token (round-robin over the four roles), N requests per page (200; ``--quick`` 20) after
a warm-up: ``/health`` (the floor: a request that reads one small table), the dashboard, the
list's first page, a filtered page, a search, random findings' pages and the CSV export. It
prints one table: each page's median and 95th percentile beside the floor's p95 measured in
the same run, and the target (p95 at most 150 ms) with PASS/FAIL. For each page that fails
(every page with ``--profile``; none with ``--quick`` unless asked) it then loads that page
once in this process and lists its slowest SQL statements with SQLite's EXPLAIN QUERY PLAN.
It is a report, not a test: the exit code is always 0.

The data set is made from the demo's fifteen findings (:func:`cap.demo.seed`, written by the
real use cases, so every row has the shape the application writes): each finding of the data
set is a copy of one of them, in a state drawn by realistic weights, its dates (events, plans,
deadlines, ladder marks) moved by a random number of days, so that some are overdue, some due
soon and the closed ones closed over the last twelve months; its supplier, contract, title,
site, area and severity are drawn afresh. Rows go in by bulk inserts (Core ``insert`` with
executemany); building is not measured. The database is kept in a temporary folder under a
name made of its parameters and reused by later runs (``--rebuild`` builds it again; it is
rebuilt anyway once a week old, as its dates are relative to the day it was built).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy
from pydantic import SecretStr
from sqlalchemy import Connection, Engine, Table, event, insert, select
from sqlmodel import SQLModel

from cap.config import Settings
from cap.domain.model import Area, Language, Severity, StaffRole, State
from cap.store.db import SCHEMA_HEAD, Database
from cap.store.models import NO_DEADLINE, Setting, search_text
from cap.workflow import Workflow

from common import (
    HOST,
    Row,
    describe,
    parser,
    percentile,
    print_report,
    progress,
    ratio,
    run_report,
    verdict,
)

BENCH = Path(__file__).resolve().parent
TARGET = 0.150  # seconds: the 95th percentile of every page of the desk
EXPORT_TARGET = 2.0  # seconds: the 95th percentile of a CSV export of ~5,000 findings
#: Bump when the data set changes: databases built before are rebuilt.
GENERATOR = 4
#: A cached database older than this is rebuilt: its deadlines are relative to its build day.
MAX_AGE = timedelta(days=7)
PASSWORD = "bench-password-of-the-desk"  # every bench user's; the database is thrown away
WARM_UP = 2  # requests per client and page before the measured ones
ALONE = 5  # requests of each page by one client alone, one at a time, before the others
BARRIER_TIMEOUT = 600.0  # seconds the clients wait for each other's warm-up
#: Longer than uvicorn's default (5 s): a client idle while slower pages finish elsewhere
#: would otherwise send on a connection the server is closing, and get no answer.
KEEP_ALIVE = 120
BATCH = 5_000  # findings per bulk insert (with their events, plans, decisions, evidence)
#: The word of the search: in a few of the titles (see PHRASES).
SEARCH_WORD = "dormitory"
#: Characters of a statement shown by the profile (its start and its end).
SQL_SHOWN = 600
#: The setting in which the database records how it was built.
BUILT = "bench:web"


@dataclass(frozen=True)
class Sizes:
    findings: int
    suppliers: int
    requests: int  # per page


DEFAULT = Sizes(findings=100_000, suppliers=5_000, requests=200)
QUICK = Sizes(findings=5_000, suppliers=250, requests=20)

# -- the data set ----------------------------------------------------------------------------

#: How a region's findings are spread over the states after a few years of use.
STATE_WEIGHTS: dict[State, float] = {
    State.OPEN: 2,
    State.AWAITING_PLAN: 14,
    State.PLAN_REVIEW: 4,
    State.REMEDIATING: 22,
    State.VERIFYING: 5,
    State.SANCTION_REVIEW: 1.5,
    State.CLOSED: 45,
    State.TERMINATED: 0.5,
    State.WITHDRAWN: 6,
}
#: How far back (days) a copy of a demo finding in each state may be moved; forward it may
#: move as far as its last event allows (up to a day before now). Deadlines end up spread:
#: some passed, most ahead; closed findings closed over the last year.
BACK_DAYS: dict[State, int] = {
    State.OPEN: 7,
    State.AWAITING_PLAN: 10,
    State.PLAN_REVIEW: 20,
    State.REMEDIATING: 30,
    State.VERIFYING: 20,
    State.SANCTION_REVIEW: 60,
    State.CLOSED: 300,
    State.TERMINATED: 300,
    State.WITHDRAWN: 300,
}
SEVERITY_WEIGHTS = {Severity.MINOR: 45, Severity.MAJOR: 45, Severity.CRITICAL: 10}
PHRASES: tuple[tuple[Area, str], ...] = (
    (Area.WORKING_HOURS, "Excessive overtime on the SMT line"),
    (Area.WORKING_HOURS, "No weekly rest day in peak season"),
    (Area.WORKING_HOURS, "Overtime not voluntary for agency workers"),
    (Area.WAGES, "Overtime premiums unpaid"),
    (Area.WAGES, "Dormitory fees deducted from wages without consent"),
    (Area.WAGES, "Wages below the legal minimum for trainees"),
    (Area.HEALTH_AND_SAFETY, "Overcrowded dormitory rooms"),
    (Area.HEALTH_AND_SAFETY, "Emergency exits blocked in the warehouse"),
    (Area.HEALTH_AND_SAFETY, "No hearing protection at the stamping presses"),
    (Area.PROCESS_CHEMICALS, "Safety data sheets missing in the local language"),
    (Area.PROCESS_CHEMICALS, "Solvent fumes without local exhaust ventilation"),
    (Area.FORCED_LABOUR, "Recruitment fees paid by migrant workers"),
    (Area.FORCED_LABOUR, "Passports held by the employer"),
    (Area.CHILD_LABOUR, "Age verification missing for student workers"),
    (Area.FREEDOM_OF_ASSOCIATION, "Worker representatives appointed by management"),
    (Area.DISCRIMINATION, "Pregnancy tests required at hiring"),
    (Area.ANTI_CORRUPTION, "Gifts to an inspector not recorded"),
    (Area.RESPONSIBLE_MINERALS, "Smelter list incomplete for tin and tantalum"),
    (Area.ENVIRONMENT, "Wastewater discharge permit expired"),
    (Area.TRANSPARENCY, "Final assembly sites not disclosed"),
)
SITES: tuple[tuple[str, str], ...] = (
    ("Final assembly, Dongguan", "CN"),
    ("PCB assembly, Shenzhen", "CN"),
    ("Display modules, Suzhou", "CN"),
    ("Cable assembly, Penang", "MY"),
    ("Keyboards, Ho Chi Minh City", "VN"),
    ("Hard disk drives, Bangkok", "TH"),
    ("Servers, Tijuana", "MX"),
    ("Monitors, Pardubice", "CZ"),
    ("Headsets, Chennai", "IN"),
    ("Power supplies, Batam", "ID"),
)
_NAME_FIRST = ("Nordic", "Baltic", "Alpine", "Atlantic", "Coastal", "Northern", "Central",
               "Pacific", "Polar", "Granite", "Silver", "Harbour")  # fmt: skip
_NAME_SECOND = ("IT Supply", "Office Tech", "Data Systems", "Circuit Works", "Display Solutions",
                "Server Systems", "Network Products", "Peripherals", "Computing")  # fmt: skip
_FORMS = (("AB", "SE"), ("GmbH", "DE"), ("ApS", "DK"), ("UAB", "LT"), ("Oy", "FI"),
          ("AS", "NO"), ("B.V.", "NL"), ("s.r.o.", "CZ"), ("Sp. z o.o.", "PL"))  # fmt: skip
CATEGORIES = ("Personal computers", "Monitors", "Thin clients", "Network and security products",
              "Servers and storage systems", "ICT desktop equipment")  # fmt: skip
#: The contract managers the contracts are spread over (the first is the bench's user).
MANAGERS = tuple(f"manager{i + 1:02d}@region.example" for i in range(12))
USERS: dict[StaffRole, str] = {
    StaffRole.CONTRACT_MANAGER: MANAGERS[0],
    StaffRole.SUSTAINABILITY_MANAGER: "sustainability@region.example",
    StaffRole.ADMIN: "admin@region.example",
    StaffRole.VIEWER: "viewer@region.example",
}


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


@dataclass
class Prototype:
    """A demo finding and its rows, read back as the use cases wrote them."""

    finding: dict[str, Any]
    events: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    people: dict[str, str]  # "manager", "contact": the demo's addresses, replaced in copies
    forward: int  # days it may move forward and still lie wholly before now


def prototypes(folder: Path, now: datetime) -> dict[State, list[Prototype]]:
    """The demo's findings with their rows, by state: seeded into a database of their own at
    ``now`` by the real use cases (:func:`cap.demo.seed`)."""
    from cap.demo import seed

    url = f"sqlite:///{folder / 'prototypes.db'}"
    db = Database(url)
    try:
        db.upgrade()
        seed(Workflow(db, Settings(database_url=url, mail_dir=folder / "mail")), now=now)
        with db.engine.connect() as conn:

            def rows(name: str) -> dict[int, list[dict[str, Any]]]:
                found: dict[int, list[dict[str, Any]]] = {}
                for row in conn.execute(select(table(name)).order_by(table(name).c.id)).mappings():
                    found.setdefault(row["finding_id"], []).append(dict(row))
                return found

            events, plans = rows("event"), rows("plan")
            decisions, evidence = rows("decision"), rows("evidence")
            contract, contact = table("contract"), table("supplier_contact")
            managers = dict(conn.execute(select(contract.c.id, contract.c.manager_email)).all())
            contacts = dict(conn.execute(select(contact.c.supplier_id, contact.c.email)).all())
            by_state: dict[State, list[Prototype]] = {}
            for row in conn.execute(select(table("finding"))).mappings():
                finding = dict(row)
                mine = events[finding["id"]]
                last = max(e["at"] for e in mine)
                by_state.setdefault(State(finding["state"]), []).append(
                    Prototype(
                        finding=finding,
                        events=mine,
                        plans=plans.get(finding["id"], []),
                        decisions=decisions.get(finding["id"], []),
                        evidence=evidence.get(finding["id"], []),
                        people={
                            "manager": managers[finding["contract_id"]],
                            "contact": contacts[finding["supplier_id"]],
                        },
                        forward=max(0, (now - last).days - 1),
                    )
                )
    finally:
        db.engine.dispose()
    missing = [s.value for s in STATE_WEIGHTS if s not in by_state]
    if missing:
        raise RuntimeError(f"the demo data set has no finding in state(s) {', '.join(missing)}")
    return by_state


def _shift(value: Any, by: timedelta) -> Any:
    """``value`` moved by ``by`` if it is a date or an instant (a datetime is a date); "no
    deadline" (Finding.due_order) stays what it is."""
    if value == NO_DEADLINE:
        return value
    return value + by if isinstance(value, date) else value


def _shift_iso(value: str | None, by: timedelta) -> str | None:
    if not value:
        return value
    if len(value) == 10:  # YYYY-MM-DD
        return (date.fromisoformat(value) + by).isoformat()
    return (datetime.fromisoformat(value) + by).isoformat()


def shifted(row: Mapping[str, Any], by: timedelta, **changes: Any) -> dict[str, Any]:
    """A copy of ``row`` with every date and instant moved by ``by``, then ``changes``."""
    copy = {key: _shift(value, by) for key, value in row.items() if key != "id"}
    copy.update(changes)
    return copy


@dataclass(frozen=True)
class Contracted:
    id: int
    supplier_id: int
    manager: str
    contact: str


@dataclass
class Built:
    """How the database was built (kept in it, as the setting :data:`BUILT`)."""

    built_at: datetime
    seconds: float
    findings: int
    suppliers: int
    contracts: int
    events: int
    states: dict[str, int]
    search_matches: int

    def as_json(self) -> str:
        values = dict(vars(self), built_at=self.built_at.isoformat())
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> Built:
        values = json.loads(text)
        return cls(**dict(values, built_at=datetime.fromisoformat(values["built_at"])))


def build(path: Path, sizes: Sizes, seed: int = 12) -> Built:
    """A new database at ``path`` with ``sizes``' findings and suppliers, and one user per
    role (:data:`USERS`, password :data:`PASSWORD`)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    url = f"sqlite:///{path}"
    db = Database(url)
    try:
        db.upgrade()
        with tempfile.TemporaryDirectory(prefix="cap-bench-web-") as scratch:
            protos = prototypes(Path(scratch), now)
        progress(f"  demo findings seeded as prototypes ({time.perf_counter() - started:.1f} s)")
        with db.engine.begin() as conn:
            contracts = _directory(conn, sizes.suppliers, rng, now)
            progress(f"  {sizes.suppliers:,} suppliers, {len(contracts):,} contracts")
            states, events, matches = _findings(conn, sizes.findings, contracts, protos, rng, now)
            links = _links(conn, rng, now)
            progress(f"  {links:,} supplier links")
        workflow = Workflow(db, Settings(database_url=url))
        for role, email in USERS.items():
            workflow.add_user(email, role, PASSWORD, name=f"Bench {role.value}", now=now)
        built = Built(
            built_at=now,
            seconds=time.perf_counter() - started,
            findings=sizes.findings,
            suppliers=sizes.suppliers,
            contracts=len(contracts),
            events=events,
            states={state.value: states[state] for state in State},
            search_matches=matches,
        )
        with db.write() as session:
            session.add(Setting(key=BUILT, value=built.as_json(), updated_at=now))
        return built
    finally:
        db.engine.dispose()
        # Everything into the main file (it is renamed next): SQLite does it as the last
        # connection closes, but a lingering one must not keep rows in the write-ahead log.
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


#: The share of the links emailed to suppliers that they opened.
OPENED = 0.7


def _links(conn: Connection, rng: random.Random, now: datetime) -> int:
    """A link to its supplier's contact for each finding the supplier owes something on,
    sent when it was notified, OPENED of them opened since: what the dashboard's "at risk"
    list reads."""
    f, c = table("finding").c, table("supplier_contact").c
    owing = conn.execute(
        select(f.id, f.supplier_id, c.email, f.notified_at)
        .join_from(table("finding"), table("supplier_contact"), c.supplier_id == f.supplier_id)
        .where(f.state.in_([State.AWAITING_PLAN, State.PLAN_REVIEW, State.REMEDIATING]))
    ).all()
    rows = []
    for finding_id, supplier_id, email, notified in owing:
        sent = notified or now - timedelta(days=10)
        opened = sent + timedelta(hours=rng.randint(1, 72)) if rng.random() < OPENED else None
        rows.append({"supplier_id": supplier_id, "finding_id": finding_id, "address": email,
                     "address_key": email.lower(), "created_at": sent,
                     "expires_at": sent + timedelta(days=60), "revoked_at": None,
                     "first_opened_at": opened, "last_opened_at": opened,
                     "uses": 1 if opened else 0})  # fmt: skip
    if rows:
        conn.execute(insert(table("supplier_link")), rows)
    return len(rows)


def _directory(conn: Connection, count: int, rng: random.Random, now: datetime) -> list[Contracted]:
    """``count`` suppliers, one contact each, and one or two contracts each."""
    suppliers: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    contracts: list[dict[str, Any]] = []
    found: list[Contracted] = []
    for i in range(1, count + 1):
        form, country = _FORMS[i % len(_FORMS)]
        name = f"{rng.choice(_NAME_FIRST)} {rng.choice(_NAME_SECOND)} {form}"
        contact = f"contact{i}@supplier{i}.example"
        suppliers.append({"id": i, "name": name, "org_number": f"55{i:04d}-{i * 7919 % 10000:04d}",
                          "country": country, "created_at": now - timedelta(days=800)})  # fmt: skip
        contacts.append({"supplier_id": i, "name": f"Contact {i}", "email": contact,
                         "language": Language.SV if country == "SE" else Language.EN})  # fmt: skip
        for _ in range(1 + (i % 3 == 0)):
            n = len(contracts) + 1
            start = date(2018 + n % 8, 1 + n % 12, 1)
            manager = MANAGERS[n % len(MANAGERS)]
            contracts.append({"id": n, "reference": f"RS-{start.year}-ICT-{n:05d}",
                              "supplier_id": i, "category": CATEGORIES[n % len(CATEGORIES)],
                              "manager_email": manager, "start_date": start,
                              "value": Decimal(rng.randrange(500, 40_000) * 1000),
                              "created_at": now - timedelta(days=790)})  # fmt: skip
            found.append(Contracted(id=n, supplier_id=i, manager=manager, contact=contact))
    conn.execute(insert(table("supplier")), suppliers)
    conn.execute(insert(table("supplier_contact")), contacts)
    conn.execute(insert(table("contract")), contracts)
    return found


@dataclass(frozen=True)
class Planned:
    """A finding of the data set before its id: a prototype, moved, under a contract."""

    created_at: datetime
    prototype: Prototype
    by: timedelta
    contract: Contracted
    phrase: int
    site: int
    severity: Severity


def _findings(
    conn: Connection,
    count: int,
    contracts: Sequence[Contracted],
    protos: Mapping[State, Sequence[Prototype]],
    rng: random.Random,
    now: datetime,
) -> tuple[Counter[State], int, int]:
    """``count`` findings, in batches with their rows; returns the findings per state, the
    events written and the findings whose title holds :data:`SEARCH_WORD`."""
    states = rng.choices(list(STATE_WEIGHTS), weights=list(STATE_WEIGHTS.values()), k=count)
    planned = []
    for state in states:
        proto = rng.choice(protos[state])
        by = timedelta(days=rng.randint(-BACK_DAYS[state], proto.forward))
        planned.append(
            Planned(
                created_at=proto.finding["created_at"] + by,
                prototype=proto,
                by=by,
                contract=rng.choice(contracts),
                phrase=rng.randrange(len(PHRASES)),
                site=rng.randrange(len(SITES)),
                severity=rng.choices(list(SEVERITY_WEIGHTS), list(SEVERITY_WEIGHTS.values()))[0],
            )
        )
    planned.sort(key=lambda p: p.created_at)  # ids and refs follow the time they were logged
    numbers: Counter[int] = Counter()
    events = matches = 0
    for start in range(0, count, BATCH):
        rows: dict[str, list[dict[str, Any]]] = {
            name: [] for name in ("finding", "event", "plan", "decision", "evidence")
        }
        for finding_id, p in enumerate(planned[start : start + BATCH], start=start + 1):
            year = p.created_at.year
            numbers[year] += 1
            area, phrase = PHRASES[p.phrase]
            site, country = SITES[p.site]
            matches += SEARCH_WORD in phrase.lower()
            proto = p.prototype
            people = {proto.people["manager"]: p.contract.manager,
                      proto.people["contact"]: p.contract.contact}  # fmt: skip
            ref, title = f"NC-{year}-{numbers[year]:04d}", f"{phrase} ({site.split(', ')[-1]})"
            rows["finding"].append(
                shifted(
                    proto.finding,
                    p.by,
                    id=finding_id,
                    ref=ref,
                    supplier_id=p.contract.supplier_id,
                    contract_id=p.contract.id,
                    external_id=None,
                    title=title,
                    # What the list's search reads: a copy would keep the prototype's.
                    search_text=search_text(ref, title, site),
                    description=f"{phrase}: found at the site {site}; details in the report.",
                    site=site,
                    site_country=country,
                    area=area,
                    severity=p.severity,
                    created_by=people.get(proto.finding["created_by"], p.contract.manager),
                    ladder={
                        kind: {key: _shift_iso(value, p.by) for key, value in mark.items()}
                        for kind, mark in proto.finding["ladder"].items()
                    },
                )
            )
            for e in proto.events:
                rows["event"].append(shifted(e, p.by, finding_id=finding_id,
                                             actor=people.get(e["actor"], e["actor"])))  # fmt: skip
            for plan in proto.plans:
                actions = [dict(a, due=_shift_iso(a["due"], p.by)) for a in plan["actions"]]
                rows["plan"].append(shifted(plan, p.by, finding_id=finding_id, actions=actions))
            for name, copies in (("decision", proto.decisions), ("evidence", proto.evidence)):
                rows[name].extend(shifted(r, p.by, finding_id=finding_id) for r in copies)
        for name, batch in rows.items():
            if batch:
                conn.execute(insert(table(name)), batch)
        events += len(rows["event"])
        progress(f"  {min(start + BATCH, count):,} findings, {events:,} events")
    if numbers:
        conn.execute(insert(table("ref_counter")),
                     [{"year": y, "last": n} for y, n in sorted(numbers.items())])  # fmt: skip
    return Counter(states), events, matches


def cached_database(folder: Path, sizes: Sizes, rebuild: bool) -> tuple[Path, Built, bool]:
    """The database for ``sizes`` in ``folder``: the one built before, or a new one; returns
    it, how it was built, and whether it was built now."""
    path = folder / f"web-f{sizes.findings}-s{sizes.suppliers}-g{GENERATOR}-{SCHEMA_HEAD}.db"
    if path.exists() and not rebuild:
        built = read_built(path)
        if built is not None and datetime.now(UTC) - built.built_at < MAX_AGE:
            return path, built, False
        progress(f"{path} is older than {MAX_AGE.days} days (or unreadable): building it again")
    folder.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    # This one's files, and those of the same sizes made by an older generator or schema.
    for old in folder.glob(f"web-f{sizes.findings}-s{sizes.suppliers}-*"):
        old.unlink(missing_ok=True)
    progress(f"building {path}: {sizes.findings:,} findings, {sizes.suppliers:,} suppliers")
    built = build(building, sizes)
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    building.rename(path)  # only a finished database is ever found under the cached name
    return path, built, True


def read_built(path: Path) -> Built | None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            found = conn.execute("SELECT value FROM cap_setting WHERE key = ?", (BUILT,)).fetchone()
        return Built.from_json(found[0]) if found else None
    except (sqlite3.Error, ValueError, KeyError, TypeError):
        return None


def sample_refs(path: Path, count: int, rng: random.Random) -> list[str]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        refs = [r[0] for r in conn.execute("SELECT ref FROM finding")]
    return rng.sample(refs, min(count, len(refs)))


# -- the server (a separate process) ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def environment(path: Path, base_url: str, mail_dir: Path) -> dict[str, str]:
    return {key: v for key, v in os.environ.items() if not key.startswith("CAP_")} | {
        "CAP_DATABASE_URL": f"sqlite:///{path}",
        "CAP_SECRET_KEY": os.urandom(32).hex(),
        "CAP_BASE_URL": base_url,
        "CAP_MAIL_DIR": str(mail_dir),
    }


class WebServer:
    """``python -m cap.web.serving`` on :data:`HOST` over ``path`` with ``processes`` web
    processes (as ``cap serve --web-processes`` runs them, without the worker)."""

    def __init__(self, path: Path, log: Path, processes: int = 1) -> None:
        port = _free_port()
        self.url = f"http://{HOST}:{port}"
        command = [sys.executable, "-m", "cap.web.serving", "--host", HOST, "--port", str(port),
                   "--processes", str(processes), "--keep-alive", str(KEEP_ALIVE)]  # fmt: skip
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                env=environment(path, self.url, log.parent / "mail"),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/health", timeout=2)  # 503 without a worker: up all the same
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the web server did not start: {self.output()}") from None
                time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


# -- the clients -----------------------------------------------------------------------------

_TOKEN_FIELD = '<input type="hidden" name="csrftoken" value="'


def csrf_token(page: str) -> str:
    start = page.find(_TOKEN_FIELD)
    if start < 0:
        raise RuntimeError("no CSRF field on the sign-in page")
    start += len(_TOKEN_FIELD)
    return page[start : page.index('"', start)]


def api_token(path: Path) -> str:
    """A viewer's API token on the bench database, for the API's rows (a row more each run)."""
    url = f"sqlite:///{path}"
    db = Database(url)
    try:
        workflow = Workflow(db, Settings(database_url=url))
        made = workflow.create_token("bench", StaffRole.VIEWER, expires_days=1,
                                     now=datetime.now(UTC))  # fmt: skip
        return made.token
    finally:
        db.engine.dispose()


def signed_in(base_url: str, email: str) -> httpx.Client:
    """A client (a cookie jar) signed in as ``email`` through the sign-in form."""
    client = httpx.Client(base_url=base_url, timeout=60, headers={"accept-language": "en"})
    form = {"csrftoken": csrf_token(client.get("/login").text), "email": email,
            "password": PASSWORD}  # fmt: skip
    answer = client.post("/login", data=form)
    if answer.status_code != 303:
        client.close()
        raise RuntimeError(f"signing in as {email}: {answer.status_code} {answer.text[:200]}")
    return client


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # "{ref}": a random finding's, per request
    ok: frozenset[int] = frozenset({200})
    target: float = TARGET  # seconds, the 95th percentile

    def url(self, rng: random.Random, refs: Sequence[str]) -> str:
        return self.path.replace("{ref}", quote(rng.choice(refs))) if refs else self.path


FLOOR = Page("health (the floor)", "/health", frozenset({200, 503}))  # 503: no worker runs
PAGES = (
    FLOOR,
    Page("dashboard", "/desk"),
    Page("findings, first page", "/findings"),
    Page("findings, filtered", "/findings?state=remediating&severity=major"),
    Page("findings, search", f"/findings?q={SEARCH_WORD}"),
    Page("finding page (random refs)", "/findings/{ref}"),
    # Not a page but a download of thousands of rows (the target is for pages): a
    # user waits for a file, with 8 people downloading one at once.
    Page("CSV export, verifying", "/findings.csv?state=verifying", target=EXPORT_TARGET),
    # The API for other systems (a viewer's token): its list, its search, one finding.
    Page("API: findings, first page", "/api/v1/findings"),
    Page("API: findings, search", f"/api/v1/findings?q={SEARCH_WORD}"),
    Page("API: a finding (random refs)", "/api/v1/findings/{ref}"),
)


@dataclass
class Sample:
    page: Page
    seconds: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)  # 0: no answer (see failures)
    failures: Counter[str] = field(default_factory=Counter)  # why requests got no answer
    alone: list[float] = field(default_factory=list)  # one client, one request at a time
    wall: float = math.nan
    missing: bool = False  # the page answered 404: not built (yet)
    error: str | None = None

    @property
    def bad(self) -> int:
        return sum(n for status, n in self.statuses.items() if status not in self.page.ok)

    def p(self, q: float) -> float:
        return percentile(self.seconds, q)


def timed_get(client: httpx.Client, url: str) -> tuple[float, int, str | None]:
    """Seconds from sending to the body read, the status (0: no answer) and why not."""
    began = time.perf_counter()
    try:
        status, failure = client.get(url).status_code, None
    except httpx.HTTPError as exc:
        status, failure = 0, describe(exc)[:80]
    return time.perf_counter() - began, status, failure


def run_page(
    clients: Sequence[httpx.Client], page: Page, requests: int, refs: Sequence[str], seed: int
) -> Sample:
    """:data:`ALONE` GETs of ``page`` by one client, one at a time; then ``requests`` GETs
    shared by ``clients`` at once, after :data:`WARM_UP` each."""
    sample = Sample(page)
    rng = random.Random(seed)
    probe = clients[0].get(page.url(rng, refs))
    if probe.status_code == 404:
        sample.missing = True
        return sample
    for _ in range(ALONE):
        sample.alone.append(timed_get(clients[0], page.url(rng, refs))[0])
    start = threading.Barrier(len(clients), timeout=BARRIER_TIMEOUT)
    lock = threading.Lock()
    taken = 0

    def drive(index: int) -> list[tuple[float, int, str | None]]:
        nonlocal taken
        client, rng = clients[index], random.Random(seed * 100 + index)
        try:
            for _ in range(WARM_UP):
                timed_get(client, page.url(rng, refs))
            start.wait()
        except BaseException:
            start.abort()  # the others stop waiting for this one
            raise
        timings: list[tuple[float, int, str | None]] = []
        while True:
            with lock:
                if taken >= requests:
                    return timings
                taken += 1
            timings.append(timed_get(client, page.url(rng, refs)))

    began = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(drive, range(len(clients))))
    sample.wall = time.perf_counter() - began
    for timings in results:
        for seconds, status, failure in timings:
            sample.seconds.append(seconds)
            sample.statuses[status] += 1
            if failure is not None:
                sample.failures[failure] += 1
    return sample


# -- profiling: one request in this process, its SQL -----------------------------------------


@dataclass
class Statement:
    seconds: float
    sql: str
    parameters: Any


@contextlib.contextmanager
def statements_recorded() -> Iterator[list[Statement]]:
    """Every statement any engine runs meanwhile, with its time (single statements only)."""
    found: list[Statement] = []

    def before(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        began = conn.info["bench_started"].pop()
        if not many:
            found.append(Statement(time.perf_counter() - began, sql, params))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)


def profile(path: Path, pages: Sequence[Page], refs: Sequence[str]) -> list[str]:
    """For each page: one request (after one to warm up) in this process, signed in as the
    contract manager; its total time, its SQL time and its slowest statements, each run again
    alone (every row fetched) with SQLite's EXPLAIN QUERY PLAN."""
    import asyncio

    return asyncio.run(_profile(path, pages, refs))


async def _profile(path: Path, pages: Sequence[Page], refs: Sequence[str]) -> list[str]:
    from cap.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="cap-bench-web-profile-") as folder:
        base = "http://bench.example"
        settings = Settings(
            database_url=f"sqlite:///{path}",
            secret_key=SecretStr(os.urandom(32).hex()),
            base_url=base,
            mail_dir=Path(folder) / "mail",
        )
        transport = httpx.ASGITransport(app=create_app(settings))
        lines: list[str] = []
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            form = {"csrftoken": csrf_token((await client.get("/login")).text),
                    "email": USERS[StaffRole.CONTRACT_MANAGER], "password": PASSWORD}  # fmt: skip
            await client.post("/login", data=form)
            rng = random.Random(7)
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as raw:
                for page in pages:
                    url = page.url(rng, refs)
                    await client.get(url)
                    with statements_recorded() as recorded:
                        began = time.perf_counter()
                        status = (await client.get(url)).status_code
                        total = time.perf_counter() - began
                    sql = sum(s.seconds for s in recorded)
                    lines.append(
                        f"{page.name} ({url}, status {status}): {total * 1e3:.1f} ms alone in "
                        f"this process; {len(recorded)} SQL statements, {sql * 1e3:.1f} ms to "
                        "their first rows"
                    )
                    for s in sorted(recorded, key=lambda s: -s.seconds)[:3]:
                        lines += explained(raw, s)
        return lines


def explained(raw: sqlite3.Connection, statement: Statement) -> list[str]:
    """``statement`` run again with every row fetched: its time, SQL and query plan."""
    parameters = statement.parameters or ()
    try:
        began = time.perf_counter()
        rows = len(raw.execute(statement.sql, parameters).fetchall())
        alone = time.perf_counter() - began
        plan = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement.sql}", parameters)]
    except sqlite3.Error as exc:
        return [f"  ({describe(exc)}): {' '.join(statement.sql.split())}"]
    sql = " ".join(statement.sql.split())
    if len(sql) > SQL_SHOWN:
        sql = f"{sql[: SQL_SHOWN // 2]} ... {sql[-SQL_SHOWN // 2 :]}"
    return [
        f"  {alone * 1e3:.1f} ms for {rows:,} rows run again alone: {sql}",
        *(f"      plan: {step}" for step in plan),
    ]


# -- the report ------------------------------------------------------------------------------

HEADER: Row = ("#", "page", "path", "1 client", "requests", "ok", "median", "p95",
               "p95 / floor p95", "req/s", "target", "result")  # fmt: skip


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e3:.1f} ms"


def median(sample: Sample) -> float:
    return statistics.median(sample.seconds) if sample.seconds else math.nan


def summary(sample: Sample) -> str:
    if sample.error is not None:
        return f"ERROR {sample.error}"
    if sample.missing:
        return "404, not built yet"
    alone = ms(statistics.median(sample.alone)) if sample.alone else "n/a"
    return (
        f"1 client {alone}; {len(sample.seconds)} requests: median {ms(median(sample))}, "
        f"p95 {ms(sample.p(95))}, statuses {dict(sample.statuses)}"
    )


def page_row(number: int, sample: Sample, floor: Sample | None) -> Row:
    page = sample.page
    label = (str(number), page.name, page.path)
    if sample.error is not None:
        return (*label, "", "ERROR", sample.error[:60], "", "", "", "", "", "FAIL")
    if sample.missing:
        return (*label, "", "", "404", "", "", "", "", "not built yet", "SKIP")
    count = len(sample.seconds)
    figures = (
        ms(statistics.median(sample.alone)) if sample.alone else "n/a",
        str(count),
        f"{count - sample.bad}/{count}",
        ms(median(sample)),
        ms(sample.p(95)),
    )
    per_second = f"{count / sample.wall:,.0f}" if sample.wall > 0 else "n/a"
    if page is FLOOR:
        return (*label, *figures, "1.00x", per_second, "the floor",
                "info" if not sample.bad else "FAIL")  # fmt: skip
    floor_p95 = floor.p(95) if floor is not None and floor.seconds else math.nan
    passed = sample.p(95) <= page.target and not sample.bad
    return (*label, *figures, ratio(sample.p(95), floor_p95), per_second,
            f"p95 <= {page.target * 1e3:,.0f} ms", verdict(passed))  # fmt: skip


def main() -> int:
    arguments = parser(__doc__, "5,000 findings, 250 suppliers, 20 requests per page")
    arguments.add_argument("--findings", type=int, help="findings in the database (100,000)")
    arguments.add_argument("--suppliers", type=int, help="suppliers (5,000), with contracts")
    arguments.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    arguments.add_argument(
        "--processes", type=int, default=1,
        help="web processes (1, as `cap serve` runs; `cap serve --web-processes N`)",
    )  # fmt: skip
    arguments.add_argument("--requests", type=int, help="measured requests per page (200)")
    arguments.add_argument("--rebuild", action="store_true", help="build the database again")
    arguments.add_argument(
        "--profile",
        action="store_true",
        help="list the SQL of every page, not only of those that fail",
    )
    arguments.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "cap-bench-web",
        help="where built databases are kept (a folder under the system's temporary one)",
    )
    args = arguments.parse_args()
    # A SIGTERM unwinds like Ctrl-C: the web server is stopped, not left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    base = QUICK if args.quick else DEFAULT
    sizes = Sizes(
        findings=args.findings or base.findings,
        suppliers=args.suppliers or base.suppliers,
        requests=args.requests or base.requests,
    )
    clients_wanted = max(1, args.clients)
    path, built, fresh = cached_database(args.cache_dir, sizes, args.rebuild)
    how = "built now" if fresh else f"cached, built {built.built_at:%Y-%m-%d %H:%M} UTC"
    progress(f"database {path} ({how}, {built.seconds:.1f} s to build)")
    refs = sample_refs(path, 5_000, random.Random(3))

    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="cap-bench-web-") as folder:
        server = WebServer(path, Path(folder) / "uvicorn.log", processes=args.processes)
        clients: list[httpx.Client] = []
        try:
            progress(f"web server pid {server.process.pid} at {server.url}")
            roles = list(USERS)
            # At once: each sign-in verifies an argon2 hash, deliberately slow.
            with ThreadPoolExecutor(clients_wanted) as pool:
                emails = [USERS[roles[i % len(roles)]] for i in range(clients_wanted)]
                clients.extend(pool.map(lambda email: signed_in(server.url, email), emails))
            progress(f"{len(clients)} clients signed in")
            # The desk reads the cookie, the API the token: each client carries both.
            bearer = f"Bearer {api_token(path)}"
            for client in clients:
                client.headers["authorization"] = bearer
            for i, page in enumerate(PAGES):
                try:
                    samples.append(run_page(clients, page, sizes.requests, refs, seed=i + 1))
                except Exception as exc:
                    samples.append(Sample(page, error=describe(exc)))
                progress(f"  {page.name}: {summary(samples[-1])}")
        finally:
            for client in clients:
                client.close()
            code = server.stop()
            server_log = server.output().strip()
    floor = samples[0] if samples and samples[0].page is FLOOR else None
    rows = [page_row(i + 1, s, floor) for i, s in enumerate(samples)]
    size = sum(
        Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
    )
    failed = [s for s in samples if s.page is not FLOOR and (s.error or s.bad or
              (s.seconds and s.p(95) > s.page.target))]  # fmt: skip
    missing = [s.page.name for s in samples if s.missing]
    notes = [
        f"building the database took {built.seconds:.1f} s ({how}; not measured): "
        f"{built.findings:,} findings ({', '.join(f'{n:,} {s}' for s, n in built.states.items())}"
        f"), {built.suppliers:,} suppliers, {built.contracts:,} contracts, {built.events:,} "
        f"events, {size / 2**20:,.0f} MiB; {built.search_matches:,} titles hold "
        f"'{SEARCH_WORD}'.",
        f"{len(clients)} clients (threads, one httpx.Client each, signed in through /login "
        "with its CSRF token, as the roles in turn: "
        f"{', '.join(r.value for r in list(USERS)[: len(clients)])}) share the requests of one "
        f"page at a time; each first makes {WARM_UP} unmeasured requests. '1 client': the "
        f"median of {ALONE} requests by one client alone, one at a time, just before (the "
        "page's own cost, no queue). Times are from the "
        "request sent to the body read, on this machine, the clients and the server "
        f"({args.processes} uvicorn process(es), as `cap serve --web-processes "
        f"{args.processes}` runs them, without the worker) sharing its CPUs.",
        "/health answers 503 here (no worker runs): it still reads the database, the floor "
        "any page stands on.",
    ]
    if code not in (0, -signal.SIGTERM) or server_log:
        notes.append(f"the server exited with {code}; its log: {server_log[-300:]}")
    for sample in samples:
        for failure, n in sample.failures.most_common(3):
            notes.append(f"{sample.page.name}: {n} request(s) without an answer: {failure}")
    if missing:
        notes.append(f"not measured (404, not built yet): {', '.join(missing)}")
    if failed:
        notes.append("FAIL: " + ", ".join(s.page.name for s in failed) +
                     " over their p95 target (or with errors)")  # fmt: skip
    print_report(
        f"cap web desk: {sizes.findings:,} findings, {sizes.suppliers:,} suppliers (SQLite); "
        f"{len(clients)} concurrent clients x {sizes.requests} requests per page",
        [
            f"SQLAlchemy {sqlalchemy.__version__}",
            f"httpx {httpx.__version__}",
            f"SQLite {sqlite3.sqlite_version}",
        ],
        rows,
        notes,
        header=HEADER,
        numeric_columns=(3, 4, 6, 7, 8, 9),
    )
    chosen = [s.page for s in samples if not s.missing and (args.profile or s in failed)]
    if chosen and args.quick and not args.profile:
        print("\nprofile: skipped with --quick (add --profile)")
    elif chosen:
        print("\nprofile (one request in this process, signed in as the contract manager):")
        try:
            for line in profile(path, chosen, refs):
                print(f"  {line}")
        except Exception as exc:
            print(f"  profiling failed: {describe(exc)}")
    return 0


if __name__ == "__main__":
    run_report(main)
