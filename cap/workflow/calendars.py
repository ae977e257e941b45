"""Deadlines as iCalendar feeds, for `cap calendar` and the desk's feed URLs.

A feed holds one all-day event per open finding of a contract manager: the deadline in force
(:func:`cap.domain.lifecycle.current_deadline`) on its due date, the day it is due at the end
of; and one per report the manager's contracts still owe, on its due date. Its UID names the
finding (or report) and the kind of deadline, and its SEQUENCE is the finding's
version: a calendar that subscribed updates the event when the deadline moves (an extension),
and drops it when the finding closes or the next deadline takes over. The document is written
by the icalendar package, which escapes the text it is given (a title's commas, semicolons or
line breaks stay text, never new properties).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlmodel import Session, col

from cap.config import Settings
from cap.domain.lifecycle import current_deadline
from cap.domain.model import Case, DeadlineKind, ObligationState, State
from cap.domain.obligations import report_name
from cap.errors import NotFound
from cap.notify.links import finding_link, obligation_link
from cap.store.models import (
    NO_DEADLINE,
    CalendarFeed,
    Contract,
    Finding,
    Obligation,
    Supplier,
    User,
    address_key,
)
from cap.workflow.base import UseCases
from cap.workflow.tokens import SHOWN, USE_RESOLUTION, token_hash
from cap.workflow.users import _user_by_email

#: Who wrote the document (RFC 5545 PRODID).
PRODID = "-//cap//deadlines//EN"
#: A deadline's kind as a summary names it.
KIND_LABELS: dict[DeadlineKind, str] = {
    DeadlineKind.PLAN: "plan",
    DeadlineKind.PLAN_REVIEW: "plan review",
    DeadlineKind.REMEDIATION: "remediation",
    DeadlineKind.VERIFICATION: "verification",
    DeadlineKind.REPORT: "report",
}
_ONE_DAY = timedelta(days=1)
#: How a feed's token begins: it tells a feed URL from an API token (``cap_``) at a glance.
FEED_PREFIX = "cal_"


@dataclass(frozen=True)
class CalendarEntry:
    """One event of a feed: ``deadline``, due on ``due``, the one in force of finding ``ref``
    (at its ``version``); ``overdue`` once that day has ended."""

    uid: str
    ref: str  # a finding's, or for a report the contract's reference
    title: str
    state: State | ObligationState
    deadline: DeadlineKind
    due: date
    overdue: bool
    supplier: str
    contract: str
    version: int
    url: str | None

    @property
    def summary(self) -> str:
        due = "overdue" if self.overdue else "due"
        return f"{self.ref}: {KIND_LABELS[self.deadline]} {due} \N{EN DASH} {self.title}"


@dataclass(frozen=True)
class DeadlineCalendar:
    """The deadlines of the findings of ``manager``'s contracts at ``now``, soonest first;
    ``ical`` is the iCalendar document (UTF-8, CRLF lines) of the same entries."""

    manager: str
    now: datetime
    entries: tuple[CalendarEntry, ...]
    ical: bytes


@dataclass(frozen=True)
class FeedView:
    """A user's calendar feed, never its token: ``prefix`` tells it apart."""

    id: int
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class IssuedFeed:
    """A feed just made: ``token`` (the secret part of its URL) is shown this once and kept
    nowhere."""

    view: FeedView
    token: str


def feed_view(row: CalendarFeed) -> FeedView:
    assert row.id is not None
    return FeedView(id=row.id, prefix=row.prefix, created_at=row.created_at,
                    revoked_at=row.revoked_at, last_used_at=row.last_used_at)  # fmt: skip


def _live_feed(session: Session, user_id: int) -> CalendarFeed | None:
    found: CalendarFeed | None = (
        session.execute(
            select(CalendarFeed).where(
                col(CalendarFeed.user_id) == user_id, col(CalendarFeed.revoked_at).is_(None)
            )
        )
        .scalars()
        .first()
    )
    return found


def uid_of(ref: str, deadline: DeadlineKind, settings: Settings) -> str:
    """An event's UID: the same for a finding's deadline of one kind whatever its date, so
    that a moved deadline updates its event; the desk's host name keeps two buyers' apart."""
    host = urlsplit(settings.base_url).hostname if settings.base_url else None
    return f"{ref}-{deadline.value}@{host or 'cap'}"


#: The findings of a manager's contracts that owe something by a date (due_order is the date
#: of the deadline in force, NO_DEADLINE when there is none), soonest first.
_OWED = (
    select(
        col(Finding.ref), col(Finding.title), col(Finding.state), col(Finding.severity),
        col(Finding.area), col(Finding.plan_due), col(Finding.remediation_due),
        col(Finding.review_due), col(Finding.verification_due), col(Finding.version),
        col(Supplier.name), col(Contract.reference),
    )
    .join(Contract, col(Contract.id) == col(Finding.contract_id))
    .join(Supplier, col(Supplier.id) == col(Finding.supplier_id))
    .where(col(Finding.due_order) < NO_DEADLINE)
    .order_by(col(Finding.due_order), col(Finding.id))
)  # fmt: skip


def _entries(
    session: Session, manager_key: str, settings: Settings, now: datetime
) -> tuple[CalendarEntry, ...]:
    calendar = settings.calendar
    rows = session.execute(_OWED.where(col(Contract.manager_key) == manager_key)).all()
    found: list[CalendarEntry] = []
    for row in rows:
        (ref, title, state, severity, area, plan_due, remediation_due, review_due,
         verification_due, version, supplier, contract) = row  # fmt: skip
        current = current_deadline(
            Case(
                state=state,
                severity=severity,
                area=area,
                plan_due=plan_due,
                remediation_due=remediation_due,
                review_due=review_due,
                verification_due=verification_due,
            )
        )
        if current is None:  # due_order is kept with every write; this is a guard
            continue
        kind, due = current
        found.append(
            CalendarEntry(
                uid=uid_of(ref, kind, settings),
                ref=ref,
                title=title,
                state=state,
                deadline=kind,
                due=due,
                overdue=calendar.is_overdue(due, now),
                supplier=supplier,
                contract=contract,
                version=version,
                url=finding_link(settings, ref) if settings.base_url else None,
            )
        )
    found += _reports(session, manager_key, settings, now)
    found.sort(key=lambda e: e.due)  # stable: findings keep their order within a day
    return tuple(found)


def _reports(
    session: Session, manager_key: str, settings: Settings, now: datetime
) -> list[CalendarEntry]:
    """The reports still owed under the manager's contracts, each on its due date."""
    rows = session.execute(
        select(Obligation, col(Supplier.name), col(Contract.reference))
        .join(Contract, col(Contract.id) == col(Obligation.contract_id))
        .join(Supplier, col(Supplier.id) == col(Obligation.supplier_id))
        .where(
            col(Contract.manager_key) == manager_key,
            col(Obligation.state).in_([ObligationState.DUE, ObligationState.ESCALATED]),
        )
        .order_by(col(Obligation.due), col(Obligation.id))
    ).all()
    return [
        CalendarEntry(
            uid=uid_of(f"report-{o.id}", DeadlineKind.REPORT, settings),
            ref=contract,
            title=report_name(o.kind, o.title),
            state=o.state,
            deadline=DeadlineKind.REPORT,
            due=o.due,
            overdue=settings.calendar.is_overdue(o.due, now),
            supplier=supplier,
            contract=contract,
            version=o.version,
            url=obligation_link(settings, o.id or 0) if settings.base_url else None,
        )
        for o, supplier, contract in rows
    ]


def render_ical(entries: Sequence[CalendarEntry], *, name: str, now: datetime) -> bytes:
    """``entries`` as an iCalendar document: one all-day VEVENT each (DTSTART the due date,
    DTEND the day after), stamped ``now``."""
    # Imported here: every command and page that opens the workflow would pay for it.
    from icalendar import Calendar, Event

    document = Calendar()
    document.add("prodid", PRODID)
    document.add("version", "2.0")
    document.add("calscale", "GREGORIAN")
    document.add("method", "PUBLISH")
    document.add("name", name)
    document.add("x-wr-calname", name)
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now.astimezone(UTC))  # RFC 5545: DTSTAMP in UTC
        event.add("sequence", entry.version)
        event.add("dtstart", entry.due)
        event.add("dtend", entry.due + _ONE_DAY)
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
        event.add("summary", entry.summary)
        lines = [f"Supplier: {entry.supplier}", f"Contract: {entry.contract}"]
        if entry.url is not None:
            lines.append(entry.url)
            event.add("url", entry.url)
        event.add("description", "\n".join(lines))
        document.add_component(event)
    ical: Any = document.to_ical()
    return bytes(ical)


class Calendars(UseCases):
    def deadline_calendar(self, manager: str, *, now: datetime) -> DeadlineCalendar:
        """The deadline in force of every open finding of the contracts ``manager`` (an
        email, in any case) manages, overdue ones too, as they stand at ``now``. NotFound
        when no contract has that manager."""
        key = address_key(manager)
        with self.db.read() as session:
            managed = select(col(Contract.id)).where(col(Contract.manager_key) == key).limit(1)
            if session.execute(managed).first() is None:
                raise NotFound(
                    f"manager: no contract is managed by {manager.strip()}",
                    see="cap contract list",
                )
            entries = _entries(session, key, self.settings, now)
        return self._calendar(manager.strip(), entries, now)

    def _calendar(
        self, manager: str, entries: tuple[CalendarEntry, ...], now: datetime
    ) -> DeadlineCalendar:
        name = f"{self.settings.buyer_name}: deadlines of {manager}"
        return DeadlineCalendar(manager, now, entries, render_ical(entries, name=name, now=now))

    def create_feed(self, user_email: str, *, now: datetime) -> IssuedFeed:
        """A new calendar feed for the user ``user_email``; their live one, if any, is revoked
        at ``now`` (at most one live feed each). The token is in the result only."""
        token = FEED_PREFIX + secrets.token_urlsafe(32)
        with self.db.write() as session:
            user = _user_by_email(session, user_email)
            # The user's row locked (PostgreSQL; SQLite's writes are one at a time anyway):
            # two feeds made at once leave one live, not two.
            session.execute(select(col(User.id)).where(col(User.id) == user.id).with_for_update())
            assert user.id is not None
            old = _live_feed(session, user.id)
            if old is not None:
                old.revoked_at = now
            row = CalendarFeed(user_id=user.id, token_hash=token_hash(token),
                               prefix=token[:SHOWN], created_at=now)  # fmt: skip
            session.add(row)
            session.flush()
            return IssuedFeed(feed_view(row), token)

    def revoke_feed(self, user_email: str, *, now: datetime) -> FeedView:
        """End the live calendar feed of the user ``user_email`` at ``now``; NotFound when
        they have none."""
        with self.db.write() as session:
            user = _user_by_email(session, user_email)
            assert user.id is not None
            row = _live_feed(session, user.id)
            if row is None:
                raise NotFound(f"feed: {user.email} has no calendar feed")
            row.revoked_at = now
            session.flush()
            return feed_view(row)

    def feed_of(self, user_email: str) -> FeedView | None:
        """The live calendar feed of the user ``user_email`` (its view, never the token), or
        None."""
        with self.db.read() as session:
            user = _user_by_email(session, user_email)
            assert user.id is not None
            row = _live_feed(session, user.id)
            return None if row is None else feed_view(row)

    def feed_calendar(self, token: str, *, now: datetime) -> DeadlineCalendar | None:
        """The deadline calendar the feed ``token`` gives at ``now``: the deadlines of the
        contracts its user manages (none: an empty calendar), its use recorded to the minute.
        None, whatever the reason, for a token that is unknown or revoked or whose user is
        disabled."""
        if not token.startswith(FEED_PREFIX) or len(token) > 200:
            return None
        with self.db.read() as session:
            found = session.execute(
                select(CalendarFeed, User)
                .join(User, col(User.id) == col(CalendarFeed.user_id))
                .where(col(CalendarFeed.token_hash) == token_hash(token))
            ).first()
            if found is None:
                return None
            feed, user = found
            if feed.revoked_at is not None or user.disabled_at is not None:
                return None
            entries = _entries(session, user.email_key, self.settings, now)
            last_used, feed_id, email = feed.last_used_at, feed.id, user.email
        if last_used is None or now - last_used >= USE_RESOLUTION:
            with self.db.write() as session:
                session.execute(
                    update(CalendarFeed)
                    .where(col(CalendarFeed.id) == feed_id)
                    .values(last_used_at=now)
                )
        return self._calendar(email, entries, now)

    def feed_known(self, token: str) -> bool:
        """Whether ``token`` is, or was, some user's feed (revoked ones too): one that is not
        was guessed or mistyped, and is counted as a bad link (cap.web.account_calendar)."""
        if not token.startswith(FEED_PREFIX) or len(token) > 200:
            return False
        with self.db.read() as session:
            hashed = select(col(CalendarFeed.id)).where(
                col(CalendarFeed.token_hash) == token_hash(token)
            )
            return session.execute(hashed).first() is not None
