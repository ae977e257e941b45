"""The dashboard's figures, counted in SQL: states, overdue, due soon, waiting for review,
suppliers' traffic lights, findings opened and closed per month.

Nothing here loads every finding: each figure is an aggregate and each list a query with a
LIMIT or an index range (the indexes it leans on are in cap/store/models.py). Overdue and due
soon are ranges of ``Finding.due_order``, the date of the deadline in force, kept with every
write of a finding.

What every user sees alike (the :class:`Figures`) is computed once per state of the findings
and kept in the process (:class:`FigureCache`): every request reads, first, what says whether
the findings may have changed (the local date, the newest event: every change to a finding
writes one; on PostgreSQL also the transactions still running) and uses the figures kept for
exactly that, else computes them again. So several processes on one database never show each
other stale figures. What the figures do not hold is read fresh on every request: the
findings' and suppliers' names and references shown, the number of suppliers (the grey
light), the contracts the user manages.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any, Generic, NamedTuple, TypeVar, cast

from sqlalchemy import Text, bindparam, case, func, or_, select, union_all
from sqlalchemy import cast as sql_cast
from sqlmodel import Session, col

from cap.domain.calendar import add_months
from cap.domain.model import DeadlineKind, StaffRole, State
from cap.store.models import Contract, Event, Finding, Supplier, SupplierLink, address_key
from cap.workflow.base import UseCases
from cap.workflow.views import current_deadline_columns

#: How far ahead "due soon" looks, in days (today counts as day 0).
SOON_DAYS = 14
#: A supplier's deadline this close with its link never opened: the finding is at risk.
AT_RISK_DAYS = 7
#: How many findings each list of the dashboard shows; the lists link to the rest.
LIST_LIMIT = 10
#: How many red and amber suppliers the dashboard names, worst first.
SUPPLIER_LIMIT = 20
#: Months of the opened/closed chart, the current one last.
MONTHS = 12

#: States a finding is finished in: nothing is open about it any more.
FINISHED: tuple[State, ...] = (State.CLOSED, State.TERMINATED, State.WITHDRAWN)
#: States in which a finding is still open (an index lookup, where NOT IN would be a scan).
UNFINISHED: tuple[State, ...] = tuple(s for s in State if s not in FINISHED)

#: The figures kept per process: the newest state of the findings, and a few older ones for
#: requests still reading an older snapshot.
CACHE_SIZE = 4
#: Kept figures older than this are computed again whatever the database says: a bound on
#: what a change that wrote no event (a restored database, say) could leave stale.
CACHE_MAX_AGE = timedelta(minutes=1)
#: The revision counts the events among the newest ids up to the largest: an id taken before
#: the largest but committed after it (PostgreSQL hands ids out before commit) changes it.
RECENT_EVENTS = 64
#: At most this many suppliers that may be shown are read by id (a bound on the parameters
#: of a statement); when more tie, all suppliers are read, in order of name.
ID_BATCH = 1_000

F = TypeVar("F")

#: Lists join their findings' suppliers (and contracts) with LEFT JOIN, though every finding
#: has both: SQLite keeps a left join's order, so it looks up the few findings by id and
#: their suppliers by theirs.
_SUPPLIER_OF_FINDING = col(Supplier.id) == col(Finding.supplier_id)
_CONTRACT_OF_FINDING = col(Contract.id) == col(Finding.contract_id)


class Light(StrEnum):
    """A supplier's traffic light, worst first."""

    RED = "red"  # a finding overdue or in sanction review
    AMBER = "amber"  # a current deadline within SOON_DAYS
    GREEN = "green"  # open findings, all on track
    GREY = "grey"  # nothing open


class Queue(StrEnum):
    """What waits for a review or a decision by the buyer's staff."""

    PLANS = "plans"  # plans to review (plan_review): contract managers
    FIXES = "fixes"  # fixes to verify (verifying): contract managers
    SANCTIONS = "sanctions"  # sanction reviews awaiting a decision: sustainability managers
    TERMINATIONS = "terminations"  # terminations proposed, awaiting a second person's approval


QUEUE_STATE: dict[Queue, State] = {
    Queue.PLANS: State.PLAN_REVIEW,
    Queue.FIXES: State.VERIFYING,
    Queue.SANCTIONS: State.SANCTION_REVIEW,
    Queue.TERMINATIONS: State.SANCTION_REVIEW,
}
#: The queues each role works through; the others see every queue's count, no list.
ROLE_QUEUES: dict[StaffRole, tuple[Queue, ...]] = {
    StaffRole.CONTRACT_MANAGER: (Queue.PLANS, Queue.FIXES),
    StaffRole.SUSTAINABILITY_MANAGER: (Queue.SANCTIONS, Queue.TERMINATIONS),
}

#: Queues whose findings are "yours" when on a contract you manage (listed first).
_BY_CONTRACT = (Queue.PLANS, Queue.FIXES)
#: The states findings wait for a review in.
_REVIEW_STATES = (State.PLAN_REVIEW, State.VERIFYING, State.SANCTION_REVIEW)


@dataclass(frozen=True)
class StateCount:
    state: State
    count: int


@dataclass(frozen=True)
class FindingLine:
    """A finding as a line of one of the dashboard's lists."""

    ref: str
    title: str
    supplier: str
    supplier_org_number: str
    state: State


@dataclass(frozen=True)
class DeadlineItem(FindingLine):
    """A finding by its current deadline: ``days`` overdue (overdue list) or left (due soon)."""

    deadline: DeadlineKind
    due: date
    days: int


@dataclass(frozen=True)
class ReviewItem(FindingLine):
    """A finding waiting in a queue; ``yours`` when it is on a contract the user manages."""

    contract: str
    yours: bool
    deadline: DeadlineKind | None
    due: date | None
    proposed_by: str | None


@dataclass(frozen=True)
class ReviewQueue:
    """``count`` findings wait in ``queue``, ``yours`` of them the user's; ``items`` the first
    of them (yours first), empty for a role that does not work this queue."""

    queue: Queue
    state: State  # the state its findings are in
    count: int
    yours: int
    items: tuple[ReviewItem, ...]


@dataclass(frozen=True)
class LightCount:
    light: Light
    count: int


@dataclass(frozen=True)
class SupplierLight:
    """A supplier's light and the counts of its open findings that set it."""

    name: str
    org_number: str
    light: Light
    overdue: int
    sanction_review: int
    due_soon: int
    open: int


@dataclass(frozen=True)
class MonthFigures:
    """Findings opened (logged) and closed (closed, terminated, withdrawn) in the local month
    that begins on ``month``."""

    month: date
    opened: int
    closed: int


@dataclass(frozen=True)
class OpenFinding(FindingLine):
    found_on: date
    created_at: datetime
    age_days: int  # since found_on


@dataclass(frozen=True)
class Dashboard:
    """What the desk's first page shows, as it stands on ``today`` (the buyer's date)."""

    today: date
    soon_until: date  # today + SOON_DAYS: due-soon covers today..soon_until
    states: tuple[StateCount, ...]  # every state, zeros included, in lifecycle order
    overdue: int
    overdue_items: tuple[DeadlineItem, ...]  # the longest overdue first
    due_soon: int
    due_soon_items: tuple[DeadlineItem, ...]  # the soonest first
    personal: bool  # queues are the user's own work (their items listed)
    queues: tuple[ReviewQueue, ...]
    lights: tuple[LightCount, ...]  # every light, red first
    flagged: tuple[SupplierLight, ...]  # red and amber suppliers, worst first
    months: tuple[MonthFigures, ...]  # MONTHS months, the current one last
    oldest: tuple[OpenFinding, ...]
    # Supplier deadlines within AT_RISK_DAYS whose emailed links were never opened.
    at_risk: int = 0
    at_risk_items: tuple[DeadlineItem, ...] = ()
    at_risk_until: date | None = None


# -- what every user sees alike ----------------------------------------------------------------


#: A finding waiting for a review: its id, its contract's (whose manager it waits for) and who
#: proposed its termination (lower-cased), if anyone. The kept figures hold thousands: plain
#: tuples of plain values, which Python's garbage collector stops tracking, so they do not
#: lengthen its full collections (a NamedTuple stays tracked).
Waiting = tuple[int, int, str | None]


@dataclass(frozen=True)
class Waitlist:
    """The findings waiting in one review state, in the order the queues list them, and
    how many there are per contract and per proposer of a termination (None: not proposed)."""

    items: tuple[Waiting, ...]
    per_contract: Mapping[int, int]
    per_proposer: Mapping[str | None, int]

    @classmethod
    def of(cls, items: Sequence[Waiting]) -> Waitlist:
        return cls(
            items=tuple(items),
            per_contract=dict(Counter(contract for _, contract, _ in items)),
            per_proposer=dict(Counter(by for _, _, by in items)),
        )


class SupplierTally(NamedTuple):
    """A supplier's open findings as its light counts them (its name is read when shown);
    ``order`` puts the worst first: by light, then more overdue or in sanction review, then
    more due soon (then by name, read when shown)."""

    order: tuple[int, int, int]  # the light's rank in Light first
    supplier_id: int
    overdue: int
    sanction_review: int
    due_soon: int
    open: int

    @classmethod
    def of(
        cls, supplier_id: int, overdue: int, sanction: int, soon: int, open_n: int
    ) -> SupplierTally:
        light = Light.RED if overdue or sanction else Light.AMBER if soon else Light.GREEN
        order = (_LIGHTS.index(light), -(overdue + sanction), -soon)
        return cls(order, supplier_id, overdue, sanction, soon, open_n)

    @property
    def light(self) -> Light:
        return _LIGHTS[self.order[0]]


_LIGHTS = tuple(Light)  # worst first


@dataclass(frozen=True)
class Figures:
    """The dashboard's figures that are the same for every user, as of one state of the
    findings on ``today``; findings by id, suppliers by id (their names are read when shown)."""

    today: date
    states: tuple[StateCount, ...]
    overdue: int
    overdue_ids: tuple[int, ...]  # the longest overdue first
    due_soon: int
    due_soon_ids: tuple[int, ...]  # the soonest first
    waiting: Mapping[State, Waitlist]  # each review state's findings
    lit: Mapping[Light, int]  # suppliers with open findings, by light (grey: none of these)
    # The red and amber suppliers that may be shown, by SupplierTally.order: the
    # SUPPLIER_LIMIT worst and every one tied with the last of them (names break ties).
    flagged: tuple[SupplierTally, ...]
    months: tuple[MonthFigures, ...]
    oldest_ids: tuple[int, ...]
    at_risk: int = 0
    at_risk_ids: tuple[int, ...] = ()  # the soonest due first


#: What figures are kept under: a Revision's date, events and newest first link opening.
RevisionKey = tuple[date, int, int, datetime | None]


@dataclass(frozen=True)
class Revision:
    """What says whether the findings may have changed since figures were computed: the
    local date, the newest event id and how many of the newest RECENT_EVENTS ids are
    committed; on PostgreSQL, the transactions running then (``running``), None elsewhere;
    the newest first opening of a supplier link."""

    today: date
    last_event: int
    recent_events: int
    running: frozenset[int] | None
    #: When a supplier link was last opened for the first time: the findings at risk change
    #: with it, and no event says so.
    links_opened: datetime | None = None

    @property
    def key(self) -> RevisionKey:
        return (self.today, self.last_event, self.recent_events, self.links_opened)

    def still(self, now: Revision) -> bool:
        """Figures computed at ``self`` still hold at ``now``: same date and events, and no
        transaction that was running then has ended since (it may have written events with
        ids below the newest)."""
        if self.key != now.key:
            return False
        if self.running is None or now.running is None:
            return self.running is None and now.running is None
        return self.running <= now.running


@dataclass(frozen=True)
class _Kept(Generic[F]):
    revision: Revision
    figures: F
    at: float  # the cache's clock when computed


class FigureCache(Generic[F]):
    """Figures (the dashboard's :class:`Figures`) of one process, by :class:`Revision`: at
    most ``size`` of them, none used once ``max_age`` old. Safe with concurrent requests
    (threads): one thread computes missing figures while the others wanting them wait for its
    result."""

    def __init__(
        self,
        size: int = CACHE_SIZE,
        max_age: timedelta = CACHE_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.max_age = max_age.total_seconds()
        self._clock = clock
        self._kept: OrderedDict[RevisionKey, _Kept[F]] = OrderedDict()
        self._lock = threading.Lock()  # guards _kept
        self._computing = threading.Lock()  # one computation at a time

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    def figures(self, revision: Revision, compute: Callable[[], F]) -> F:
        """The figures kept for ``revision``, else ``compute()``'s (then kept)."""
        found = self._find(revision)
        if found is not None:
            return found
        with self._computing:
            found = self._find(revision)  # computed by another thread meanwhile
            if found is not None:
                return found
            figures = compute()
            with self._lock:
                self._kept[revision.key] = _Kept(revision, figures, self._clock())
                self._kept.move_to_end(revision.key)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
            return figures

    def _find(self, revision: Revision) -> F | None:
        with self._lock:
            kept = self._kept.get(revision.key)
            if kept is None:
                return None
            if self._clock() - kept.at > self.max_age or not kept.revision.still(revision):
                del self._kept[revision.key]
                return None
            self._kept.move_to_end(revision.key)
            return kept.figures


def _waiting_for(queue: Queue, me: str, proposed_by: str | None) -> bool:
    """A finding in ``queue``'s state, its termination proposed by ``proposed_by``, waits in
    ``queue`` for the user whose lower-cased address is ``me``."""
    if queue is Queue.SANCTIONS:
        return proposed_by is None
    if queue is Queue.TERMINATIONS:
        # A termination awaits a second person: the user may approve one someone else
        # proposed, never their own.
        return proposed_by is not None and proposed_by != me
    return True


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """The first days of the ``months`` local months up to ``today``'s, and of the month
    after (``months + 1`` bounds, oldest first)."""
    this = today.replace(day=1)
    return [add_months(this, i - months + 1) for i in range(months + 1)]


def _queue_items(
    waiting: Waitlist, queue: Queue, me: str, mine: Collection[int]
) -> tuple[Waiting, ...]:
    """The first LIST_LIMIT findings of ``queue`` for the user: on contracts they manage
    first (plans and fixes), then the others, each in the queue's order."""
    yours: list[Waiting] = []
    others: list[Waiting] = []
    by_contract = queue in _BY_CONTRACT and bool(mine)
    for w in waiting.items:
        _, contract, proposed_by = w
        if not _waiting_for(queue, me, proposed_by):
            continue
        if by_contract and contract in mine:
            yours.append(w)
            if len(yours) == LIST_LIMIT:
                break
        elif len(others) < LIST_LIMIT:
            others.append(w)
        elif not by_contract:
            break
    return (*yours, *others)[:LIST_LIMIT]


def _queue_count(waiting: Waitlist, queue: Queue, me: str | None) -> int:
    """How many findings wait in ``queue`` for the user ``me``: a termination waits for
    everyone but its proposer (``me`` None: for anyone)."""
    unproposed = waiting.per_proposer.get(None, 0)
    if queue is Queue.SANCTIONS:
        return unproposed
    if queue is Queue.TERMINATIONS:
        proposed = len(waiting.items) - unproposed
        return proposed - waiting.per_proposer.get(me, 0) if me is not None else proposed
    return len(waiting.items)


def _deadline_items(
    rows: Mapping[int, Any], ids: Sequence[int], today: date, *, late: bool
) -> tuple[DeadlineItem, ...]:
    return tuple(
        DeadlineItem(
            ref=row.ref,
            title=row.title,
            supplier=row.supplier,
            supplier_org_number=row.org_number,
            state=row.state,
            deadline=DeadlineKind(row.kind),
            due=row.due,
            days=(today - row.due).days if late else (row.due - today).days,
        )
        for row in (rows[i] for i in ids if i in rows)
    )


def _review_item(row: Any, queue: Queue, mine: bool) -> ReviewItem:
    return ReviewItem(
        ref=row.ref,
        title=row.title,
        supplier=row.supplier,
        supplier_org_number=row.org_number,
        contract=row.contract,
        state=row.state,
        yours=mine and queue in _BY_CONTRACT,
        deadline=DeadlineKind(row.kind) if row.kind is not None else None,
        due=row.due,
        proposed_by=row.termination_proposed_by,
    )


def _open_finding(row: Any, today: date) -> OpenFinding:
    return OpenFinding(
        ref=row.ref,
        title=row.title,
        supplier=row.supplier,
        supplier_org_number=row.org_number,
        state=row.state,
        found_on=row.found_on,
        created_at=row.created_at,
        age_days=(today - row.found_on).days,
    )


# -- the statements of every request, built once (building a statement is not free) ---------

_EVENT_ID = col(Event.id)
_LAST_EVENT = select(func.max(_EVENT_ID)).scalar_subquery()
_REVISION = select(
    _LAST_EVENT,
    select(func.count())
    .select_from(Event)
    .where(func.coalesce(_LAST_EVENT, 0) - RECENT_EVENTS < _EVENT_ID)
    .scalar_subquery(),
    select(func.count()).select_from(Supplier).scalar_subquery(),
    select(func.max(col(SupplierLink.first_opened_at))).scalar_subquery(),
)
#: With the statement's snapshot, xmin:xmax:running,ids (PostgreSQL 13 and later).
_REVISION_PG = _REVISION.add_columns(sql_cast(func.pg_current_snapshot(), Text))

_MANAGED = select(col(Contract.id)).where(col(Contract.manager_key) == bindparam("me"))
_KIND, _DUE = current_deadline_columns()
_FINDING_ROWS = (
    select(
        col(Finding.id),
        col(Finding.ref),
        col(Finding.title),
        col(Supplier.name).label("supplier"),
        col(Supplier.org_number),
        col(Contract.reference).label("contract"),
        col(Finding.state),
        _KIND.label("kind"),
        _DUE.label("due"),
        col(Finding.termination_proposed_by),
        col(Finding.found_on),
        col(Finding.created_at),
    )
    .select_from(Finding)
    .outerjoin(Supplier, _SUPPLIER_OF_FINDING)
    .outerjoin(Contract, _CONTRACT_OF_FINDING)
    .where(col(Finding.id).in_(bindparam("ids", expanding=True)))
)
_LINKED = select(col(SupplierLink.id)).where(col(SupplierLink.finding_id) == col(Finding.id))
#: Findings whose supplier owes something within a range of days and who never opened any of
#: the links emailed to them: a range of the due_order index, each checked by the link index.
_AT_RISK = (
    select(col(Finding.id))
    .where(
        col(Finding.due_order).between(bindparam("today"), bindparam("until")),
        col(Finding.state).in_([State.AWAITING_PLAN, State.REMEDIATING]),
        _LINKED.exists(),
        ~_LINKED.where(col(SupplierLink.first_opened_at).is_not(None)).exists(),
    )
    .order_by(col(Finding.due_order), col(Finding.id))
)
_SUPPLIER_NAMES = select(col(Supplier.id), col(Supplier.name), col(Supplier.org_number)).order_by(
    col(Supplier.name), col(Supplier.org_number)
)
_SUPPLIER_NAMES_BY_ID = _SUPPLIER_NAMES.where(
    col(Supplier.id).in_(bindparam("ids", expanding=True))
)


class Dashboards(UseCases):
    def dashboard(self, *, now: datetime, user_email: str, role: StaffRole) -> Dashboard:
        """The dashboard for ``user_email`` with ``role``, as things stand at ``now``: one
        read transaction, a fixed number of queries."""
        today = self.settings.calendar.local_date(now)
        me = address_key(user_email)
        own = ROLE_QUEUES.get(role, ())
        with self.db.read() as session:
            # First what the figures are kept by, then the figures: read the other way round,
            # a change committed between the two could be kept under the newer revision.
            revision, suppliers = self._revision(session, today)
            figures = self.figure_cache.figures(revision, lambda: self._figures(session, today))
            mine = self._managed(session, me) if set(own) & set(_BY_CONTRACT) else frozenset()
            listed = {
                queue: _queue_items(figures.waiting[QUEUE_STATE[queue]], queue, me, mine)
                if queue in own
                else ()
                for queue in (own or tuple(Queue))
            }
            shown = [
                *figures.at_risk_ids,
                *figures.overdue_ids,
                *figures.due_soon_ids,
                *(i for items in listed.values() for i, _, _ in items),
                *figures.oldest_ids,
            ]
            rows = self._finding_rows(session, shown)
            flagged = self._flagged(session, figures.flagged)
        queues = tuple(
            ReviewQueue(
                queue=queue,
                state=QUEUE_STATE[queue],
                count=_queue_count(figures.waiting[QUEUE_STATE[queue]], queue, me if own else None),
                yours=sum(figures.waiting[QUEUE_STATE[queue]].per_contract.get(c, 0) for c in mine)
                if own and queue in _BY_CONTRACT
                else 0,
                items=tuple(
                    _review_item(rows[i], queue, contract in mine)
                    for i, contract, _ in items
                    if i in rows
                ),
            )
            for queue, items in listed.items()
        )
        # Never below 0: on PostgreSQL the figures may see a supplier's first finding, logged
        # after the suppliers were counted (a newer revision: the next request computes again).
        grey = max(0, suppliers - sum(figures.lit.values()))
        lit = {**figures.lit, Light.GREY: grey}
        return Dashboard(
            today=today,
            soon_until=today + timedelta(days=SOON_DAYS),
            states=figures.states,
            overdue=figures.overdue,
            overdue_items=_deadline_items(rows, figures.overdue_ids, today, late=True),
            due_soon=figures.due_soon,
            due_soon_items=_deadline_items(rows, figures.due_soon_ids, today, late=False),
            personal=bool(own),
            queues=queues,
            lights=tuple(LightCount(light, lit.get(light, 0)) for light in Light),
            flagged=flagged,
            months=figures.months,
            oldest=tuple(_open_finding(rows[i], today) for i in figures.oldest_ids if i in rows),
            at_risk=figures.at_risk,
            at_risk_items=_deadline_items(rows, figures.at_risk_ids, today, late=False),
            at_risk_until=today + timedelta(days=AT_RISK_DAYS),
        )

    @property
    def figure_cache(self) -> FigureCache[Figures]:
        """This Workflow's kept dashboard figures (made at first use)."""
        # setdefault is atomic: two first requests at once keep one cache.
        kept = self.__dict__.setdefault("_figure_cache", FigureCache[Figures]())
        return cast(FigureCache[Figures], kept)

    # -- read on every request ---------------------------------------------------------------

    def _revision(self, session: Session, today: date) -> tuple[Revision, int]:
        """The revision of the findings on ``today`` and the number of suppliers."""
        if session.get_bind().dialect.name != "postgresql":
            last, recent, suppliers, opened = session.execute(_REVISION).one()
            return Revision(today, int(last or 0), int(recent), None, opened), int(suppliers)
        last, recent, suppliers, opened, snapshot = session.execute(_REVISION_PG).one()
        running = frozenset(int(x) for x in str(snapshot).split(":")[2].split(",") if x)
        return Revision(today, int(last or 0), int(recent), running, opened), int(suppliers)

    def _managed(self, session: Session, me: str) -> frozenset[int]:
        """The contracts the user whose address key (address_key) is ``me`` manages."""
        return frozenset(session.execute(_MANAGED, {"me": me}).scalars())

    def _finding_rows(self, session: Session, ids: Sequence[int]) -> dict[int, Any]:
        """The findings shown, by id: what their lines show, read fresh."""
        if not ids:
            return {}
        found = session.execute(_FINDING_ROWS, {"ids": sorted(set(ids))})
        return {row.id: row for row in found.all()}

    def _flagged(
        self, session: Session, candidates: Sequence[SupplierTally]
    ) -> tuple[SupplierLight, ...]:
        """The SUPPLIER_LIMIT worst red and amber suppliers of ``candidates`` with their names,
        read fresh: a tie is broken by name, in the database's order (the candidates read by
        id; all suppliers in order when there are more than ID_BATCH)."""
        if not candidates:
            return ()
        if len(candidates) <= ID_BATCH:
            ids = [t.supplier_id for t in candidates]
            rows = session.execute(_SUPPLIER_NAMES_BY_ID, {"ids": ids})
        else:
            rows = session.execute(_SUPPLIER_NAMES)
        named = {i: (position, name, org) for position, (i, name, org) in enumerate(rows)}
        chosen = sorted(
            (t for t in candidates if t.supplier_id in named),
            key=lambda t: (t.order, named[t.supplier_id][0]),
        )
        return tuple(
            SupplierLight(
                name=named[t.supplier_id][1],
                org_number=named[t.supplier_id][2],
                light=t.light,
                overdue=t.overdue,
                sanction_review=t.sanction_review,
                due_soon=t.due_soon,
                open=t.open,
            )
            for t in chosen[:SUPPLIER_LIMIT]
        )

    # -- computed once per revision ----------------------------------------------------------

    def _figures(self, session: Session, today: date) -> Figures:
        """The figures every user sees alike, computed from the findings on ``today``."""
        soon_until = today + timedelta(days=SOON_DAYS)
        # due_order is the date of the deadline in force (a far date when none): overdue when
        # it is before today, due soon within SOON_DAYS of it.
        due = col(Finding.due_order)
        overdue = due < today
        soon = due.between(today, soon_until)
        overdue_n, soon_n = session.execute(
            select(
                select(func.count()).where(overdue).scalar_subquery(),
                select(func.count()).where(soon).scalar_subquery(),
            )
        ).one()
        lit, flagged = self._lights(session, today, soon_until)
        return Figures(
            today=today,
            states=self._states(session),
            overdue=int(overdue_n),
            overdue_ids=self._first_ids(session, overdue),
            due_soon=int(soon_n),
            due_soon_ids=self._first_ids(session, soon),
            waiting=self._waiting(session),
            lit=lit,
            flagged=flagged,
            months=self._months(session, month_starts(today)),
            oldest_ids=self._oldest(session),
            **self._at_risk(session, today),
        )

    def _at_risk(self, session: Session, today: date) -> dict[str, Any]:
        """How many findings are at risk (AT_RISK_DAYS), and the first LIST_LIMIT of them."""
        found = session.execute(
            _AT_RISK, {"today": today, "until": today + timedelta(days=AT_RISK_DAYS)}
        ).scalars()
        ids = list(found)
        return {"at_risk": len(ids), "at_risk_ids": tuple(ids[:LIST_LIMIT])}

    def _states(self, session: Session) -> tuple[StateCount, ...]:
        state = col(Finding.state)
        counted = dict(session.execute(select(state, func.count()).group_by(state)).all())
        return tuple(StateCount(s, int(counted.get(s, 0))) for s in State)

    def _first_ids(self, session: Session, where: Any) -> tuple[int, ...]:
        """The first LIST_LIMIT findings by due_order (a range of its index)."""
        query = (
            select(col(Finding.id))
            .where(where)
            .order_by(col(Finding.due_order), col(Finding.id))
            .limit(LIST_LIMIT)
        )
        return tuple(session.execute(query).scalars())

    def _waiting(self, session: Session) -> dict[State, Waitlist]:
        """Every finding waiting for a review, by state, the most pressing first (the earliest
        deadline in force, none last), then the longest waiting."""
        state = col(Finding.state)
        order = (col(Finding.due_order), col(Finding.last_event_at), col(Finding.id))
        by_contract = (
            select(state, col(Finding.id), col(Finding.contract_id))
            .where(state.in_((State.PLAN_REVIEW, State.VERIFYING)))
            .order_by(state, *order)
        )
        found: dict[State, list[Waiting]] = {s: [] for s in _REVIEW_STATES}
        for s, i, contract in session.execute(by_contract).all():
            found[s].append((i, contract, None))
        proposer = col(Finding.termination_proposed_by)
        sanctions = (
            select(col(Finding.id), col(Finding.contract_id), func.lower(proposer))
            .where(state == State.SANCTION_REVIEW)
            .order_by(*order)
        )
        for i, contract, by in session.execute(sanctions).all():
            found[State.SANCTION_REVIEW].append((i, contract, by))
        return {s: Waitlist.of(items) for s, items in found.items()}

    def _lights(
        self, session: Session, today: date, soon_until: date
    ) -> tuple[dict[Light, int], tuple[SupplierTally, ...]]:
        """The open findings counted per supplier: how many suppliers show each light but
        grey, and the red and amber ones that may be shown, worst first."""
        state = col(Finding.state)
        due = col(Finding.due_order)

        def counted(condition: Any) -> Any:
            return func.sum(case((condition, 1), else_=0))

        query = (
            select(
                col(Finding.supplier_id),
                counted(due < today),
                counted(state == State.SANCTION_REVIEW),
                counted(due.between(today, soon_until)),
                func.count(),
            )
            .where(state.in_(UNFINISHED))
            .group_by(col(Finding.supplier_id))
        )
        lit = dict.fromkeys((Light.RED, Light.AMBER, Light.GREEN), 0)
        flagged: list[SupplierTally] = []
        for supplier, late, sanction, soon, open_n in session.execute(query).all():
            tally = SupplierTally.of(supplier, int(late), int(sanction), int(soon), int(open_n))
            lit[tally.light] += 1
            if tally.light is not Light.GREEN:
                flagged.append(tally)
        flagged.sort(key=lambda t: t.order)
        if not flagged:
            return lit, ()
        # Those that may be shown: as bad as the last one shown or worse (names break ties).
        last = flagged[min(SUPPLIER_LIMIT, len(flagged)) - 1].order
        return lit, tuple(flagged[: bisect.bisect_right(flagged, last, key=lambda t: t.order)])

    def _months(self, session: Session, starts: Sequence[date]) -> tuple[MonthFigures, ...]:
        """Opened and closed per local month, in one statement: a count per month and table,
        each a range of an index (the bounds are the months' local midnights in UTC)."""
        calendar = self.settings.calendar
        bounds = [calendar.end_of_day(day - timedelta(days=1)) for day in starts]
        created = col(Finding.created_at)
        at = col(Event.at)
        from_state = col(Event.from_state)

        def opened(a: datetime, b: datetime) -> Any:
            return (
                select(func.count()).select_from(Finding).where(created >= a, created < b)
            ).scalar_subquery()

        def closed(a: datetime, b: datetime) -> Any:
            # A move into a finished state; a later event of a finished finding (a note,
            # say) carries the same to_state and is not a second closing.
            return (
                select(func.count())
                .select_from(Event)
                .where(
                    col(Event.to_state).in_(FINISHED),
                    at >= a,
                    at < b,
                    or_(from_state.is_(None), from_state.not_in(FINISHED)),
                )
            ).scalar_subquery()

        spans = list(pairwise(bounds))
        row = session.execute(
            select(*(opened(a, b) for a, b in spans), *(closed(a, b) for a, b in spans))
        ).one()
        n = len(spans)
        return tuple(
            MonthFigures(month=starts[i], opened=int(row[i]), closed=int(row[n + i]))
            for i in range(n)
        )

    def _oldest(self, session: Session) -> tuple[int, ...]:
        """The open findings found the longest ago: the first of each unfinished state (an
        index range each), then the first of those."""
        state = col(Finding.state)
        order = (col(Finding.found_on), col(Finding.created_at), col(Finding.id))
        firsts = [
            select(*order).where(state == s).order_by(*order).limit(LIST_LIMIT).subquery()
            for s in UNFINISHED
        ]
        merged = union_all(*(select(first) for first in firsts)).subquery()
        query = select(merged.c.id).order_by(*merged.c).limit(LIST_LIMIT)
        return tuple(session.execute(query).scalars())
