"""Delivering the outbox: claim due rows with a lease, send, then mark each one.

A row is marked ``sent`` only after the server accepted it, in a short transaction shared with
the marks of other connections that arrived meanwhile; a connection sends its next message only
once its last one is marked. A process killed in between re-sends those messages later (at most
one per connection; same bytes, same Message-ID) once their lease has expired, and loses
nothing. Transient failures (4xx, connection refused or dropped, timeouts) retry with
exponential backoff until the retry horizon; permanent ones (5xx) fail at once and stay visible
in ``cap outbox list``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, bindparam, func, or_, select, update
from sqlmodel import col

from cap.config import Settings
from cap.notify.message import build_message
from cap.notify.render import RenderedEmail
from cap.notify.transport import FolderTransport, SMTPTransport, Transport, TransportError
from cap.store.db import Database
from cap.store.models import Finding, OutboxMessage, OutboxStatus

log = logging.getLogger("cap.delivery")

#: First retry after this long, doubling each time up to ``MAX_BACKOFF``.
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class Outgoing:
    """A claimed outbox row, with what it takes to assemble its message."""

    id: int
    recipient: str
    recipient_name: str | None
    reply_to: str | None
    subject: str
    text_body: str
    html_body: str
    message_id: str
    kind: str
    finding_ref: str | None
    created_at: datetime
    attempts: int
    queued_at: datetime
    obligation_id: int | None = None  # a report's email

    def message(self, settings: Settings) -> bytes:
        headers = {"X-Cap-Kind": self.kind}
        if self.finding_ref:
            headers["X-Cap-Finding"] = self.finding_ref
        if self.obligation_id is not None:
            headers["X-Cap-Report"] = str(self.obligation_id)
        return build_message(
            rendered=RenderedEmail(self.subject, self.text_body, self.html_body),
            sender=settings.mail_from,
            sender_name=settings.buyer_name,
            recipient=self.recipient,
            recipient_name=self.recipient_name,
            message_id=self.message_id,
            date=self.created_at,
            reply_to=self.reply_to,
            headers=headers,
        )


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost_lease: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "lost_lease": self.lost_lease,
            "seconds": round(self.seconds, 3),
        }


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Delivery:
    """Delivery passes over one database.

    ``connections`` SMTP connections send side by side (``CAP_DELIVERY_CONNECTIONS``; the
    folder transport uses one). The database work of a pass (claims and marks) runs in a
    thread of its own on one held connection, so the event loop keeps every SMTP connection
    busy while a commit is in flight; "sent" marks that arrive during a commit are written
    together in the next one (group commit). A connection sends its next message only once
    its previous one is marked, so a crash re-sends at most one message per connection.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        transport: Transport | None = None,
        owner: str | None = None,
        connections: int | None = None,
        linger: float = 0.0,
    ) -> None:
        self.db = db
        self.settings = settings
        if transport is not None:
            self.transports = [transport]
        elif settings.smtp_host:
            count = connections or settings.delivery_connections
            self.transports = [SMTPTransport(settings) for _ in range(count)]
        else:
            self.transports = [FolderTransport(settings.mail_dir)]
        self.owner = owner or default_owner()
        #: How long a pass that found work keeps looking for more (polling every
        #: ``LINGER_POLL`` s) before it ends: a worker then sends what another process's sweep
        #: queues at once, rather than at its next pass. 0 ends a pass as soon as nothing is due.
        self.linger = linger
        self.stopping = False
        self._connection: Connection | None = None

    async def run_pass(
        self,
        now: Callable[[], datetime],
        limit: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> DeliveryReport:
        """Send what is due at ``now()``: claim batches, send each message, mark each; until
        nothing is due (for :attr:`linger` seconds), ``limit`` messages were claimed, or
        :attr:`stopping` is set. Claimed messages not sent when stopping are handed back.
        ``progress(1)`` is called after each message sent or given up on for now."""
        report = DeliveryReport()
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1, thread_name_prefix="cap-delivery-db") as database:

            async def in_database(function: Callable[[], _T]) -> _T:
                return await loop.run_in_executor(database, function)

            feed = _Feed(self, in_database, now, limit, report)
            done = progress or (lambda _: None)
            marks = _GroupMarks(self, in_database, now)
            try:
                await in_database(self._hold_connection)
                await asyncio.gather(
                    *(
                        self._work(t, feed, marks, in_database, now, report, done)
                        for t in self.transports
                    )
                )
                await feed.settle()  # a claim still in flight when stopping adds to pending
                if feed.pending:  # stopping: hand the rest back rather than wait for the lease
                    rest = [item.id for item in feed.pending]
                    await in_database(lambda: self.release(rest))
            finally:
                await in_database(self._let_go_connection)
                for transport in self.transports:
                    await transport.close()
        report.seconds = time.perf_counter() - started
        return report

    async def _work(
        self,
        transport: Transport,
        feed: _Feed,
        marks: _GroupMarks,
        in_database: _InDatabase,
        now: Callable[[], datetime],
        report: DeliveryReport,
        done: Callable[[int], None],
    ) -> None:
        while not self.stopping and (item := await feed.next()) is not None:
            await self._deliver_one(transport, item, marks, in_database, now, report)
            feed.held.discard(item.id)
            done(1)

    async def _deliver_one(
        self,
        transport: Transport,
        item: Outgoing,
        marks: _GroupMarks,
        in_database: _InDatabase,
        now: Callable[[], datetime],
        report: DeliveryReport,
    ) -> None:
        try:
            message = self._message(item)
            await transport.send(self.settings.mail_from, item.recipient, message)
        except TransportError as exc:
            error, permanent, at = str(exc), exc.permanent, now()
            outcome = await in_database(
                lambda: self.mark_failed(item, error, permanent=permanent, now=at)
            )
            if outcome == OutboxStatus.FAILED:
                report.failed += 1
            else:
                report.retrying += 1
            report.errors.append(f"#{item.id} {item.recipient}: {exc}")
            log.warning("delivery of #%s to %s: %s", item.id, item.recipient, exc)
            return
        if not await marks.sent(item.id):
            report.lost_lease += 1
            log.warning("#%s was sent but its lease had passed to another worker", item.id)
        report.sent += 1

    def _message(self, item: Outgoing) -> bytes:
        """The message of ``item``; a row no message can be made of (an address that is not
        ASCII, stored before addresses were checked for it) fails alone, never the pass."""
        try:
            return item.message(self.settings)
        except Exception as exc:
            log.exception("outbox #%s to %s: the message cannot be built", item.id, item.recipient)
            raise TransportError(
                f"the message cannot be built: {type(exc).__name__}: {exc}", permanent=True
            ) from None

    def _hold_connection(self) -> None:
        """Open the pass's connection (in the database thread, which alone uses it)."""
        connection = self.db.engine.connect()
        if self.db.dialect == "postgresql":
            # A mark lost in a crash only means one more send of the same bytes (same
            # Message-ID), which the design accepts; waiting for the disk on each would not.
            connection.exec_driver_sql("SET synchronous_commit = off")
            connection.commit()
        self._connection = connection

    def _let_go_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):  # a broken connection is discarded by the pool
            if self.db.dialect == "postgresql":
                connection.rollback()
                connection.exec_driver_sql("RESET synchronous_commit")
                connection.commit()
        connection.close()

    @contextlib.contextmanager
    def _marking(self) -> Iterator[Connection]:
        """A short transaction on the pass's connection (or a fresh one outside a pass)."""
        if self._connection is not None:
            with self._connection.begin():
                yield self._connection
            return
        with self.db.engine.begin() as connection:
            if self.db.dialect == "postgresql":
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield connection

    def count_due(self, now: datetime) -> int:
        """How many messages a pass at ``now`` would take (for a progress bar)."""
        with self.db.read() as session:
            query = select(func.count()).select_from(OutboxMessage).where(_due(now))
            return int(session.execute(query).scalar_one())

    def claim(self, now: datetime, limit: int, skip: Collection[int] = ()) -> list[Outgoing]:
        """Take up to ``limit`` due rows: queued and due, or ``sending`` with an expired lease
        (its worker died); never those in ``skip`` (the caller holds them already). On
        PostgreSQL, rows another worker is claiming are skipped."""
        lease = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.db.write() as session:
            query = (
                select(
                    col(OutboxMessage.id),
                    col(OutboxMessage.recipient),
                    col(OutboxMessage.recipient_name),
                    col(OutboxMessage.reply_to),
                    col(OutboxMessage.subject),
                    col(OutboxMessage.text_body),
                    col(OutboxMessage.html_body),
                    col(OutboxMessage.message_id),
                    col(OutboxMessage.kind),
                    col(Finding.ref),
                    col(OutboxMessage.created_at),
                    col(OutboxMessage.attempts),
                    col(OutboxMessage.queued_at),
                    col(OutboxMessage.obligation_id),
                )
                .outerjoin(Finding, col(Finding.id) == col(OutboxMessage.finding_id))
                .where(_due(now), col(OutboxMessage.id).not_in(skip))
                .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
                .limit(limit)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(of=OutboxMessage, skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return []
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_([r[0] for r in rows]))
                .values(status=OutboxStatus.SENDING, claimed_by=self.owner, claimed_until=lease)
                .execution_options(synchronize_session=False)
            )
            return [Outgoing(*row) for row in rows]

    def mark_sent(self, message_id: int, now: datetime) -> bool:
        """Record that the server accepted the message; False if this worker lost the lease."""
        return message_id in self.mark_sent_many([message_id], now)

    def mark_sent_many(self, message_ids: list[int], now: datetime) -> set[int]:
        """Record, in one transaction, that the server accepted these messages; returns those
        whose lease this worker still held (the others were taken over, and are not touched)."""
        with self._marking() as connection:
            result = connection.execute(
                _MARK_SENT, {"messages": message_ids, "owner": self.owner, "now": now}
            )
            return {message_id for (message_id,) in result if message_id is not None}

    def mark_failed(
        self, item: Outgoing, error: str, *, permanent: bool, now: datetime
    ) -> OutboxStatus:
        attempts = item.attempts + 1
        delay = min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
        horizon = item.queued_at + timedelta(hours=self.settings.retry_horizon_hours)
        retry_at = now + delay
        if permanent:
            status, next_at = OutboxStatus.FAILED, now
        elif retry_at > horizon:
            status, next_at = OutboxStatus.FAILED, now
            error = f"gave up after {attempts} attempts: {error}"
        else:
            status, next_at = OutboxStatus.QUEUED, retry_at
        with self._marking() as connection:
            connection.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == item.id,
                    col(OutboxMessage.claimed_by) == self.owner,
                )
                .values(
                    status=status,
                    attempts=attempts,
                    next_attempt_at=next_at,
                    last_error=error[:2000],
                    claimed_by=None,
                    claimed_until=None,
                )
            )
        return status

    def release(self, ids: list[int]) -> None:
        """Give claimed rows back to the queue untouched (on shutdown)."""
        if not ids:
            return
        with self._marking() as connection:
            connection.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(ids),
                    col(OutboxMessage.claimed_by) == self.owner,
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                )
                .values(status=OutboxStatus.QUEUED, claimed_by=None, claimed_until=None)
            )


def _due(now: datetime) -> ColumnElement[bool]:
    """Queued and due, or ``sending`` with an expired lease (its worker died)."""
    return or_(
        (col(OutboxMessage.status) == OutboxStatus.QUEUED)
        & (col(OutboxMessage.next_attempt_at) <= now),
        (col(OutboxMessage.status) == OutboxStatus.SENDING)
        & (col(OutboxMessage.claimed_until) < now),
    )


#: Built once: the statement that marks a group of messages sent.
_MARK_SENT = (
    update(OutboxMessage)
    .where(
        col(OutboxMessage.id).in_(bindparam("messages", expanding=True)),
        col(OutboxMessage.claimed_by) == bindparam("owner"),
    )
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("now"),
        attempts=OutboxMessage.attempts + 1,
        claimed_by=None,
        claimed_until=None,
        last_error=None,
    )
    .returning(col(OutboxMessage.id))
)

_T = TypeVar("_T")


class _InDatabase(Protocol):
    """Runs a function in the pass's database thread."""

    def __call__(self, function: Callable[[], _T], /) -> Awaitable[_T]: ...


#: While lingering, a pass looks for new due messages this often (seconds).
LINGER_POLL = 0.2


class _Feed:
    """The messages of one pass, claimed a batch at a time: the next batch is claimed while
    the connections still send the end of the current one."""

    def __init__(
        self,
        delivery: Delivery,
        in_database: _InDatabase,
        now: Callable[[], datetime],
        limit: int | None,
        report: DeliveryReport,
    ) -> None:
        self.delivery = delivery
        self.in_database = in_database
        self.now = now
        self.limit = limit
        self.report = report
        self.pending: deque[Outgoing] = deque()
        #: The rows this pass has claimed and not finished: a lease shorter than the pass (or
        #: a fast clock) makes them claimable again, and they must not be sent twice.
        self.held: set[int] = set()
        self.exhausted = False
        self._claiming: asyncio.Task[None] | None = None
        self._low_water = len(delivery.transports)
        self._idle_since: float | None = None
        self._first_lease_end: datetime | None = None

    async def next(self) -> Outgoing | None:
        """The next message to send, or None when the pass is over."""
        while True:
            if self.delivery.stopping:
                return None
            claiming = self._claiming is not None and not self._claiming.done()
            if len(self.pending) <= self._low_water and not self.exhausted and not claiming:
                self._claiming = asyncio.ensure_future(self._claim())
            if self.pending:
                return self.pending.popleft()
            if self._claiming is not None and not self._claiming.done():
                await asyncio.shield(self._claiming)
                continue
            if self._claiming is not None:
                self._claiming.result()  # a failed claim ends the pass with its error
            if self.exhausted:
                return None

    async def settle(self) -> None:
        """Wait for the claim in flight, if any (its rows must be sent or handed back)."""
        if self._claiming is not None:
            await self._claiming

    async def _claim(self) -> None:
        size = self.delivery.settings.delivery_batch
        if self.limit is not None:
            size = min(size, self.limit - self.report.claimed)
            if size <= 0:
                self.exhausted = True
                return
        at = self.now()
        # Only once the first lease of the pass may have run out can a held row be claimable:
        # until then, the claim need not name them (a long NOT IN costs on every claim).
        leases_out = self._first_lease_end is not None and at >= self._first_lease_end
        skip = list(self.held) if leases_out else []
        batch = await self.in_database(lambda: self.delivery.claim(at, size, skip=skip))
        self.held.update(item.id for item in batch)
        if batch and self._first_lease_end is None:
            lease = timedelta(seconds=self.delivery.settings.delivery_lease_seconds)
            self._first_lease_end = at + lease
        if batch:
            self.report.claimed += len(batch)
            self.pending.extend(batch)
            self._idle_since = None
            return
        if not self.report.claimed or self.delivery.linger <= 0:
            self.exhausted = True
            return
        # Nothing due now, but this pass found work: look again for a while.
        clock = time.monotonic()
        if self._idle_since is None:
            self._idle_since = clock
        if clock - self._idle_since >= self.delivery.linger:
            self.exhausted = True
            return
        await asyncio.sleep(LINGER_POLL)


class _GroupMarks:
    """Marks messages sent, one commit at a time in the database thread: the marks that
    arrive while a commit is in flight go together in the next one."""

    def __init__(
        self, delivery: Delivery, in_database: _InDatabase, now: Callable[[], datetime]
    ) -> None:
        self.delivery = delivery
        self.in_database = in_database
        self.now = now
        self._waiting: list[tuple[int, asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def sent(self, message_id: int) -> bool:
        """Wait until the message is marked sent; False if its lease had passed to another."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((message_id, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            ids = [message_id for message_id, _ in group]
            try:
                kept = await self.in_database(
                    functools.partial(self.delivery.mark_sent_many, ids, self.now())
                )
            except Exception as exc:  # every waiter sees the failure; the pass ends with it
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for message_id, future in group:
                if not future.done():
                    future.set_result(message_id in kept)
