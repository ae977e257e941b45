"""Delivery benchmark: messages per second from cap's outbox to a real SMTP server.

Run ``python bench/delivery.py [--messages N] [--quick]``. It prints one table in which each
figure of cap stands beside the peer and the limit, all measured in this run against the same
aiosmtpd server (a separate process on 127.0.0.1 that accepts and counts messages), with the
target and PASS/FAIL. It is a report, not a test: the exit code is always 0.

- cap: N outbox rows pre-queued in a migrated database (SQLite in a temporary folder; also
  PostgreSQL when reachable), then one ``Delivery(db, settings).run_pass(lambda: now)`` with
  ``smtp_tls="none"``, timed end to end (claim, send, mark sent per message, committed).
  Afterwards every row must be ``sent`` and the server must have counted N messages.
- the peer: what a user would otherwise write, ``aiosmtplib.send(...)`` per message, i.e. a
  new connection per message, no database.
- the limit: the same bytes over ONE ``aiosmtplib.SMTP`` connection (``sendmail`` per
  message), no database.

Target: cap >= 2x the peer. The messages are real: every kind of email rendered once in both
languages by ``cap.notify.render.Renderer``; each row (unique key and Message-ID) holds what
``cap.notify.outbox.queue`` stores for the outbox layout the schema has (the message's bytes,
or its rendered parts), and the peer and the limit send the bytes ``build_message`` makes
from the same parts, built before timing.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sqlite3
import statistics
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

import aiosmtplib
import sqlalchemy
from sqlalchemy import func, select
from sqlmodel import col

from cap.config import Settings
from cap.notify.delivery import Delivery, Outgoing
from cap.notify.message import build_message, message_id_for
from cap.notify.outbox import insert_rows
from cap.notify.render import KINDS, RenderedEmail, Renderer
from cap.notify.samples import sample_context
from cap.store.db import Database
from cap.store.models import OutboxMessage, OutboxStatus

from common import (
    HOST,
    Row,
    ServerProcess,
    SharedInt,
    describe,
    error_row,
    migrated,
    parser,
    postgres_url,
    print_report,
    probe_postgres,
    progress,
    ratio,
    run_report,
    safe_url,
    serve_until_sigterm,
    verdict,
)

# -- the scenario ----------------------------------------------------------------------------

SENDER = "cap@region-stockholm.example"
BUYER_NAME = "Region Stockholm"
CONTRACT_MANAGER = "erik.johansson@region-stockholm.example"
#: The instant the rows are due and the delivery pass runs at.
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
QUEUED_AT = NOW - timedelta(minutes=5)
PG_SCHEMA = "bench_delivery"

TARGET = 2.0  # cap >= 2x the peer


@dataclass(frozen=True)
class Sizes:
    messages: int
    warmup: int  # messages delivered by each path before it is timed (not counted)
    rounds: int  # each path is timed this many times; the median is reported
    split: int  # messages in the instrumented pass per database ("where the time goes")
    #: A round after the first starts only if it is expected to end within this many seconds
    #: of the start (the run stays near its time budget on a slow or busy machine).
    budget: float


DEFAULT = Sizes(messages=2_000, warmup=50, rounds=3, split=400, budget=88.0)
QUICK = Sizes(messages=300, warmup=20, rounds=2, split=200, budget=30.0)


@dataclass(frozen=True)
class Variant:
    """One kind of email in one language, rendered once."""

    kind: str
    language: str
    rendered: RenderedEmail
    recipient: str
    recipient_name: str | None
    role: str

    @property
    def reply_to(self) -> str | None:
        return CONTRACT_MANAGER if self.role == "supplier" else None


@dataclass(frozen=True)
class Mail:
    """One outbox row's worth: the row cap queues, and the bytes the peer and limit send."""

    key: str
    variant: Variant
    message_id: str
    data: bytes

    def row(self, columns: Collection[str]) -> dict[str, Any]:
        """The row as ``cap.notify.outbox.queue`` builds it, for whichever outbox layout the
        schema has: the message's bytes (``message``) or its rendered parts (``text_body``...),
        from which cap assembles the same bytes at delivery."""
        v = self.variant
        row = {
            "key": self.key,
            "finding_id": None,
            "kind": v.kind,
            "language": v.language,
            "recipient": v.recipient,
            "recipient_role": v.role,
            "recipient_name": v.recipient_name,
            "reply_to": v.reply_to,
            "subject": v.rendered.subject[:300],
            "text_body": v.rendered.text,
            "html_body": v.rendered.html,
            "message_id": self.message_id,
            "message": self.data,
            "status": OutboxStatus.QUEUED,
            "attempts": 0,
            "next_attempt_at": QUEUED_AT,
            "queued_at": QUEUED_AT,
            "created_at": QUEUED_AT,
        }
        return {name: value for name, value in row.items() if name in columns}


def render_variants() -> list[Variant]:
    """Every kind in both languages, rendered once with the shipped templates."""
    renderer = Renderer()
    variants = []
    for kind in KINDS:
        for language in ("sv", "en"):
            context = sample_context(kind, language)
            person = context["recipient"]
            rendered = renderer.render(kind, language, context)
            variants.append(
                Variant(
                    kind, language, rendered, person["email"], person["name"], str(person["role"])
                )
            )
    return variants


def build_mails(variants: Sequence[Variant], count: int, prefix: str) -> list[Mail]:
    """``count`` distinct messages (unique key and Message-ID), cycling through the variants.
    The bytes are built by ``cap.notify.message.build_message`` from what the row holds (no
    finding: the rows have ``finding_id`` NULL, so no X-Cap-Finding header)."""
    mails = []
    for i in range(count):
        v = variants[i % len(variants)]
        key = f"{prefix}/{i + 1:05d}/{v.kind}/{v.recipient.casefold()}"
        message_id = message_id_for(key, SENDER)
        data = build_message(
            rendered=v.rendered,
            sender=SENDER,
            sender_name=BUYER_NAME,
            recipient=v.recipient,
            recipient_name=v.recipient_name,
            message_id=message_id,
            date=QUEUED_AT,
            reply_to=v.reply_to,
            headers={"X-Cap-Kind": v.kind},
        )
        mails.append(Mail(key, v, message_id, data))
    return mails


# -- the SMTP server (a separate process) ----------------------------------------------------


Counters = tuple[SharedInt, SharedInt, SharedInt]  # messages, bytes, connections


class CountingHandler:
    """Accept every message; count messages and bytes. Nothing else."""

    def __init__(self, messages: SharedInt, octets: SharedInt) -> None:
        self.messages = messages
        self.octets = octets

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.value += 1
        self.octets.value += len(envelope.original_content or b"")
        return "250 2.0.0 OK"


def serve(conn: Connection, counters: Counters) -> None:
    """The server process: aiosmtpd on 127.0.0.1, an OS-chosen port sent back on ``conn``,
    until SIGTERM. ``counters``: messages, bytes, connections."""
    logging.getLogger("mail.log").disabled = True  # no per-connection logging work
    asyncio.run(_serve(conn, counters))


async def _serve(conn: Connection, counters: Counters) -> None:
    from aiosmtpd.smtp import SMTP

    messages, octets, connections = counters

    class CountingSMTP(SMTP):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            connections.value += 1
            super().connection_made(transport)

    loop = asyncio.get_running_loop()
    handler = CountingHandler(messages, octets)
    # An explicit hostname: aiosmtpd would otherwise call socket.getfqdn() per connection.
    server = await loop.create_server(
        lambda: CountingSMTP(handler, hostname="smtp.bench.example", ident="bench"), HOST, 0
    )
    await serve_until_sigterm(server, conn, asyncio.Event())


class SMTPServerProcess(ServerProcess):
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._counters: Counters = tuple(ctx.Value("q", 0, lock=False) for _ in range(3))
        parent, child = ctx.Pipe(duplex=False)
        process = ctx.Process(target=serve, args=(child, self._counters), daemon=True)
        super().__init__(process, parent, child)

    def counts(self) -> tuple[int, int, int]:
        """Messages, bytes and connections the server has accepted so far."""
        messages, octets, connections = self._counters
        return messages.value, octets.value, connections.value


# -- the three ways to deliver ---------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    sent: int
    connections: int = 0  # SMTP connections the server saw during the run
    octets: int = 0  # bytes of message content the server received during the run
    checks: list[str] = field(default_factory=list)  # problems found by the verification


def check_server(
    run: Run, server: SMTPServerProcess, before: tuple[int, int, int], mails: Sequence[Mail]
) -> None:
    messages, octets, connections = (a - b for a, b in zip(server.counts(), before, strict=True))
    run.connections, run.octets = connections, octets
    if messages != len(mails):
        run.checks.append(f"server counted {messages:,} of {len(mails):,} messages")


async def peer_send(mails: Sequence[Mail], port: int) -> None:
    for mail in mails:
        errors, _ = await aiosmtplib.send(
            mail.data,
            sender=SENDER,
            recipients=[mail.variant.recipient],
            hostname=HOST,
            port=port,
            start_tls=False,
            use_tls=False,
        )
        if errors:
            raise RuntimeError(f"refused: {errors}")


async def limit_send(mails: Sequence[Mail], port: int) -> None:
    smtp = aiosmtplib.SMTP(hostname=HOST, port=port, start_tls=False, use_tls=False)
    await smtp.connect()
    try:
        for mail in mails:
            errors, _ = await smtp.sendmail(SENDER, [mail.variant.recipient], mail.data)
            if errors:
                raise RuntimeError(f"refused: {errors}")
    finally:
        await smtp.quit()


def time_client(
    send: Callable[[Sequence[Mail], int], Coroutine[Any, Any, None]],
    mails: Sequence[Mail],
    server: SMTPServerProcess,
) -> Run:
    before = server.counts()
    started = time.perf_counter()
    asyncio.run(send(mails, server.port))
    run = Run(time.perf_counter() - started, len(mails))
    check_server(run, server, before, mails)
    return run


def settings_for(url: str, port: int) -> Settings:
    return Settings(
        database_url=url,
        smtp_host=HOST,
        smtp_port=port,
        smtp_tls="none",
        smtp_username="",
        smtp_password=None,
        smtp_timeout=30.0,
        mail_from=SENDER,
        buyer_name=BUYER_NAME,
    )


def queue_rows(db: Database, mails: Sequence[Mail]) -> None:
    columns = set(OutboxMessage.__table__.columns.keys())  # type: ignore[attr-defined]
    with db.write() as session:
        insert_rows(session, [m.row(columns) for m in mails])


def status_counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        rows = session.execute(
            select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
        ).all()
    return {str(status): int(n) for status, n in rows}


def time_cap(
    db: Database,
    settings: Settings,
    mails: Sequence[Mail],
    warm: Sequence[Mail],
    server: SMTPServerProcess,
) -> Run:
    """On a freshly migrated ``db``: deliver the warm-up rows, queue ``mails``, time one pass."""
    queue_rows(db, warm)
    warmed = asyncio.run(Delivery(db, settings).run_pass(lambda: NOW))
    if warmed.sent != len(warm):
        raise RuntimeError(f"warm-up: {warmed.as_dict()} {warmed.errors[:3]}")
    queue_rows(db, mails)
    before = server.counts()
    started = time.perf_counter()
    # A new Delivery and transport, as `cap deliver` makes them: timed end to end.
    delivery = Delivery(db, settings)
    report = asyncio.run(delivery.run_pass(lambda: NOW))
    run = Run(time.perf_counter() - started, report.sent)
    check_server(run, server, before, mails)
    counts = (report.claimed, report.sent, report.failed, report.retrying, report.lost_lease)
    if counts != (len(mails), len(mails), 0, 0, 0):
        run.checks.append(f"report {report.as_dict()} {report.errors[:2]}")
    statuses = status_counts(db)
    if statuses != {OutboxStatus.SENT.value: len(mails) + len(warm)}:
        run.checks.append(f"rows by status {statuses}, expected all {len(mails) + len(warm)} sent")
    return run


@dataclass
class Split:
    """Where one pass's time goes, per message (a separate, instrumented pass)."""

    messages: int
    total: float = 0.0
    claim: float = 0.0
    send: float = 0.0
    mark_sent: float = 0.0
    build: float | None = None  # assembling the MIME message at delivery, when cap does that

    def per_message(self, seconds: float) -> str:
        return f"{seconds / self.messages * 1e3:.2f} ms"


def split_cap(db: Database, settings: Settings, mails: Sequence[Mail]) -> Split:
    """One pass over ``mails`` with ``claim``, ``transport.send``, ``mark_sent`` and, when the
    claimed rows assemble their message at delivery, ``Outgoing.message`` wrapped in timers
    (on the instances; cap's code is unchanged)."""
    queue_rows(db, mails)
    delivery = Delivery(db, settings)
    split = Split(len(mails))
    claim, mark_sent_many = delivery.claim, delivery.mark_sent_many

    def timed_build(build: Callable[..., bytes]) -> Callable[..., bytes]:
        def timed(*args: Any, **kwargs: Any) -> bytes:
            started = time.perf_counter()
            try:
                return build(*args, **kwargs)
            finally:
                split.build = (split.build or 0.0) + time.perf_counter() - started

        return timed

    def timed_claim(now: datetime, limit: int, skip: Collection[int] = ()) -> list[Outgoing]:
        started = time.perf_counter()
        try:
            items = claim(now, limit, skip)
        finally:
            split.claim += time.perf_counter() - started
        for item in items:
            build = getattr(item, "message", None)
            if callable(build):  # this version of cap builds the message at delivery
                setattr(item, "message", timed_build(build))  # noqa: B010
        return items

    def timed_mark_sent_many(message_ids: list[int], now: datetime) -> set[int]:
        started = time.perf_counter()
        try:
            return mark_sent_many(message_ids, now)
        finally:
            split.mark_sent += time.perf_counter() - started

    def timed_send(send: Callable[[str, str, bytes], Awaitable[None]]) -> Any:
        async def timed(sender: str, recipient: str, message: bytes) -> None:
            started = time.perf_counter()
            try:
                await send(sender, recipient, message)
            finally:
                split.send += time.perf_counter() - started

        return timed

    delivery.claim = timed_claim  # type: ignore[method-assign]
    delivery.mark_sent_many = timed_mark_sent_many  # type: ignore[method-assign]
    for transport in delivery.transports:
        setattr(transport, "send", timed_send(transport.send))  # noqa: B010
    started = time.perf_counter()
    report = asyncio.run(delivery.run_pass(lambda: NOW))
    split.total = time.perf_counter() - started
    if report.sent != len(mails):
        raise RuntimeError(f"instrumented pass: {report.as_dict()} {report.errors[:2]}")
    return split


# -- the report ------------------------------------------------------------------------------

HEADER = ("#", "measure", "cap", "peer (same run)", "limit (same run)", "cap/peer",
          "cap/limit", "target", "result")  # fmt: skip
NUMERIC_COLUMNS = {2, 3, 4, 5, 6}  # right-aligned: cap, peer, limit and the two ratios


@dataclass
class Series:
    """The timed runs of one path."""

    runs: list[Run] = field(default_factory=list)
    error: str | None = None
    split: Split | None = None

    @property
    def rates(self) -> list[float]:
        return [r.sent / r.seconds for r in self.runs if r.seconds > 0]

    @property
    def median(self) -> float:
        return statistics.median(self.rates) if self.rates else 0.0

    @property
    def checks(self) -> list[str]:
        return [c for r in self.runs for c in r.checks]

    @property
    def ok(self) -> bool:
        return bool(self.runs) and not self.checks and self.error is None

    def figure(self) -> str:
        if self.error is not None:
            return "ERROR"
        if not self.rates:
            return "n/a"
        text = f"{self.median:,.0f}/s"
        if len(self.rates) > 1:
            text += f" ({min(self.rates):,.0f}-{max(self.rates):,.0f})"
        return text

    def per_message(self) -> str:
        return f"{1000 / self.median:.2f} ms" if self.median else ""

    def connections(self) -> str:
        values = sorted({r.connections for r in self.runs})
        return "/".join(f"{v:,}" for v in values)

    def octets(self) -> str:
        values = sorted({round(r.octets / r.sent) for r in self.runs if r.sent})
        return "/".join(f"{v:,} B" for v in values)


def cap_rows(number: str, what: str, cap: Series, peer: Series, limit: Series) -> list[Row]:
    target = f">= {TARGET:g}x peer"
    if cap.error is not None:
        return [error_row(number, what, cap.error, len(HEADER))]
    passed = cap.median >= TARGET * peer.median and cap.ok and peer.ok and limit.ok
    rows: list[Row] = [
        (number, what, cap.figure(), peer.figure(), limit.figure(),
         ratio(cap.median, peer.median), ratio(cap.median, limit.median), target,
         verdict(passed)),
        ("i", "  time per message", cap.per_message(), peer.per_message(), limit.per_message(),
         "", "", "", "info"),
    ]  # fmt: skip
    if cap.split is not None:
        sp = cap.split
        rows += [
            ("i", "  of which transport.send (per connection)", sp.per_message(sp.send), "",
             limit.per_message(),
             "", "", "", "info"),
            ("i", "  of which marking sent (grouped commits)", sp.per_message(sp.mark_sent), "", "",
             "", "", "", "info"),
            *([("i", "  of which building the MIME message", sp.per_message(sp.build), "", "",
                "", "", "", "info")] if sp.build is not None else []),
            ("i", "  of which claiming", sp.per_message(sp.claim), "", "", "", "", "", "info"),
        ]  # fmt: skip
    return rows


def measure(series: Series, name: str, run: Callable[[], Run]) -> None:
    if series.error is not None:
        return
    try:
        result = run()
    except Exception as exc:
        traceback.print_exc()
        series.error = describe(exc)
        return
    series.runs.append(result)
    note = f"  CHECK: {'; '.join(result.checks)}" if result.checks else ""
    progress(
        f"  {name}: {result.sent / result.seconds:,.0f}/s ({result.seconds:.2f} s, "
        f"{result.connections:,} connections){note}"
    )


def main() -> int:
    arguments = parser(__doc__, "300 messages, 2 rounds")
    arguments.add_argument("--messages", type=int, help="messages per timed run (default 2,000)")
    arguments.add_argument("--rounds", type=int, help="timed runs per path (median reported)")
    args = arguments.parse_args()
    sizes = QUICK if args.quick else DEFAULT
    n = args.messages if args.messages and args.messages > 0 else sizes.messages
    rounds = args.rounds if args.rounds and args.rounds > 0 else sizes.rounds
    split_n = min(n, sizes.split)
    started = time.perf_counter()
    budget_note = f"Rounds: {rounds}."
    split_error = ""

    progress(f"rendering {len(KINDS) * 2} variants, building {n:,} messages ...")
    variants = render_variants()
    mails = build_mails(variants, n, "bench")
    warm = build_mails(variants, sizes.warmup, "warmup")
    split_mails = mails[:split_n]  # delivered into a database of their own
    sizes_b = [len(m.data) for m in mails]

    pg_url = postgres_url()
    pg_version, pg_skipped = probe_postgres(pg_url)

    series = {name: Series() for name in ("cap-sqlite", "cap-postgres", "peer", "limit")}
    server = SMTPServerProcess()
    port = server.port
    progress(f"SMTP server up: pid {server.pid}, {HOST}:{port}")
    try:
        # Warm the client paths once (imports, first connections); cap warms on each database.
        asyncio.run(peer_send(warm, port))
        asyncio.run(limit_send(warm, port))
        with tempfile.TemporaryDirectory(prefix="cap-bench-delivery-") as tmp:
            databases: dict[str, Callable[[str], AbstractContextManager[Database]]] = {
                "cap-sqlite": lambda name: migrated(f"sqlite:///{tmp}/{name}.db"),
                "cap-postgres": lambda name: migrated(pg_url, PG_SCHEMA),
            }
            if pg_skipped is not None:
                del databases["cap-postgres"]

            def cap_path(kind: str) -> Callable[[int], Run]:
                def run(r: int) -> Run:
                    with databases[kind](f"round{r}") as db:
                        return time_cap(db, settings_for(db.url, port), mails, warm, server)

                return run

            paths: list[tuple[str, Callable[[int], Run]]] = [
                ("cap-sqlite", cap_path("cap-sqlite")),
                ("peer", lambda r: time_client(peer_send, mails, server)),
                ("limit", lambda r: time_client(limit_send, mails, server)),
            ]
            if pg_skipped is None:
                paths.append(("cap-postgres", cap_path("cap-postgres")))
            for r in range(rounds):
                round_started = time.perf_counter()
                progress(f"round {r + 1}/{rounds}: {n:,} messages per path")
                shift = r % len(paths)  # rotate the order: no path always runs first
                for name, path in paths[shift:] + paths[:shift]:
                    measure(series[name], name, partial(path, r))
                last_round = time.perf_counter() - round_started
                # The instrumented passes take about split_n/n of a round's cap runs.
                ahead = last_round * (1 + split_n / n)
                if r + 1 < rounds and time.perf_counter() - started + ahead > sizes.budget:
                    budget_note = (
                        f"Rounds: {r + 1} of {rounds}: another round ({last_round:.0f} s) would "
                        f"pass the {sizes.budget:.0f} s budget."
                    )
                    progress(budget_note)
                    break

            progress(f"instrumented passes ({split_n:,} messages): where cap's time goes")
            try:
                for kind, database in databases.items():
                    with database("split") as db:
                        series[kind].split = split_cap(db, settings_for(db.url, port), split_mails)
            except Exception as exc:
                traceback.print_exc()
                split_error = describe(exc)
    finally:
        exit_code = server.stop()
    progress(f"SMTP server stopped (exit code {exit_code})")

    peer, limit = series["peer"], series["limit"]
    rows = cap_rows("1", f"cap, SQLite, {n:,} msgs", series["cap-sqlite"], peer, limit)
    if pg_skipped is None:
        rows += cap_rows("2", f"cap, PostgreSQL, {n:,} msgs", series["cap-postgres"], peer, limit)
    else:
        rows.append(("2", "cap, PostgreSQL", "skipped", "unreachable, see notes", "", "", "", "",
                     "-"))  # fmt: skip
    caps = [series[k] for k in ("cap-sqlite", "cap-postgres")]
    conns = " / ".join(c for c in (s.connections() for s in caps) if c)
    octets_cap = " / ".join(o for o in (s.octets() for s in caps) if o)
    rows += [
        ("i", "SMTP connections per timed run", conns, peer.connections(), limit.connections(),
         "", "", "", "info"),
        ("i", "bytes received per message", octets_cap, peer.octets(), limit.octets(), "", "",
         "", "info"),
        ("i", "ceiling: limit vs peer", "-", peer.figure(), limit.figure(),
         f"({ratio(limit.median, peer.median)})", "", f">= {TARGET:g}x peer", "info"),
    ]  # fmt: skip

    print_report(
        f"cap delivery benchmark ({'quick' if args.quick else 'default'} run): messages per "
        f"second to aiosmtpd on loopback\nmessages: {n:,} per timed run, {len(variants)} "
        f"rendered variants (every kind, sv+en), {statistics.mean(sizes_b) / 1024:.1f} KiB mean "
        f"({min(sizes_b):,}-{max(sizes_b):,} B), multipart/alternative",
        [
            f"SQLite {sqlite3.sqlite_version}",
            f"SQLAlchemy {sqlalchemy.__version__}",
            f"aiosmtplib {aiosmtplib.__version__}",
            *([f"PostgreSQL {pg_version}"] if pg_version else []),
        ],
        rows,
        [
            "Figures: median of the timed runs per path (range in brackets), each after a "
            f"{sizes.warmup}-message warm-up; the order of the paths rotates every round. "
            f"{budget_note} The client, the server process and PostgreSQL share the CPUs.",
            "cap = Delivery(db, settings).run_pass(lambda: now), smtp_tls='none', default "
            "delivery_batch; a freshly migrated database per run, rows inserted with "
            "cap.notify.outbox.insert_rows; timed from constructing the Delivery to the pass's "
            "return. Checked after each run: the report, every row 'sent', the server counted "
            "every message. Rows have no finding (finding_id NULL).",
            "peer = aiosmtplib.send(...) per message: a new connection (EHLO, MAIL, RCPT, DATA, "
            "QUIT) each time. limit = one aiosmtplib.SMTP connection, sendmail per message. Both "
            "send bytes built before timing by cap.notify.message.build_message from the same "
            "parts as the rows (see 'bytes received'), without a database.",
            "server = aiosmtpd in a separate (spawned) process that only counts messages, bytes "
            "and connections; stopped with SIGTERM at the end.",
            f"'of which': one extra pass of {split_n:,} messages per database with claim, each "
            "connection's transport.send, mark_sent_many (and Outgoing.message when cap "
            "assembles the MIME message at delivery) wrapped in timers; summed and divided by "
            "the messages; not in the figures above. Sends overlap (several connections), "
            "claims and marks run in the pass's database thread. The limit column holds the "
            "limit's time per message.",
            "'ceiling': limit/peer in brackets: what one connection sending one message at a "
            "time can reach. cap sends over several connections side by side "
            "(CAP_DELIVERY_CONNECTIONS), which is how it gets past that ceiling.",
            f"PostgreSQL skipped: {safe_url(pg_url)} unreachable: {pg_skipped}"
            if pg_skipped is not None
            else f"PostgreSQL: {safe_url(pg_url)}; schema {PG_SCHEMA} recreated and migrated "
            "per run, dropped after.",
            *([f"ERROR, instrumented passes: {split_error}"] if split_error else []),
            *(
                f"CHECK FAILED, {name}: {'; '.join(sorted(set(s.checks)))}"
                for name, s in series.items()
                if s.checks
            ),
            *(f"ERROR, {name}: {s.error}" for name, s in series.items() if s.error),
        ],
        header=HEADER,
        numeric_columns=NUMERIC_COLUMNS,
    )
    return 0


if __name__ == "__main__":
    run_report(main)
