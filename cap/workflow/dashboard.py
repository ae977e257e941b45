"""The dashboard's figures, counted in SQL: states, overdue, due soon, waiting for review,
suppliers' traffic lights, findings opened and closed per month.

Nothing here loads every finding: each figure is an aggregate and each list a query with a
LIMIT, so the page costs the same at a hundred findings as at a hundred thousand (the indexes
it leans on are in cap/store/models.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from cap.domain.calendar import add_months
from cap.domain.model import ACTIVE_STATES, DeadlineKind, StaffRole, State
from cap.store.models import Contract, Event, Finding, Supplier
from cap.workflow.base import UseCases
from cap.workflow.views import current_deadline_columns, overdue_clause

#: How far ahead "due soon" looks, in days (today counts as day 0).
SOON_DAYS = 14
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


#: Lists join their findings' suppliers (and contracts) with LEFT JOIN, though every finding
#: has both: SQLite keeps a left join's order, so it walks the few findings the list wants and
#: looks their suppliers up, where with statistics (ANALYZE) it chose to walk every supplier's
#: findings, a scan of the table.
_SUPPLIER_OF_FINDING = col(Supplier.id) == col(Finding.supplier_id)


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

#: Queues whose findings are "yours" when on a contract you manage.
_BY_CONTRACT = (Queue.PLANS, Queue.FIXES)


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


def _waiting(queue: Queue, me: str) -> ColumnElement[bool]:
    """The findings waiting in ``queue`` for the user whose lower-cased address is ``me``."""
    state = col(Finding.state)
    proposer = col(Finding.termination_proposed_by)
    if queue is Queue.PLANS:
        return state == State.PLAN_REVIEW
    if queue is Queue.FIXES:
        return state == State.VERIFYING
    if queue is Queue.SANCTIONS:
        return and_(state == State.SANCTION_REVIEW, proposer.is_(None))
    # A termination awaits a second person: the user may approve one someone else proposed,
    # never their own.
    return and_(state == State.SANCTION_REVIEW, proposer.is_not(None), func.lower(proposer) != me)


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """The first days of the ``months`` local months up to ``today``'s, and of the month
    after (``months + 1`` bounds, oldest first)."""
    this = today.replace(day=1)
    return [add_months(this, i - months + 1) for i in range(months + 1)]


class Dashboards(UseCases):
    def dashboard(self, *, now: datetime, user_email: str, role: StaffRole) -> Dashboard:
        """The dashboard for ``user_email`` with ``role``, as things stand at ``now``: one
        read transaction, a fixed number of queries."""
        calendar = self.settings.calendar
        today = calendar.local_date(now)
        soon_until = today + timedelta(days=SOON_DAYS)
        me = user_email.strip().lower()
        kind, due = current_deadline_columns()
        # The IN adds nothing to the meaning; it lets the planners read the state index.
        overdue = and_(col(Finding.state).in_(ACTIVE_STATES), overdue_clause(today))
        soon = and_(col(Finding.state).in_(ACTIVE_STATES), due >= today, due <= soon_until)
        with self.db.read() as session:
            states = self._states(session)
            tally = self._tally(session, overdue, soon, me)
            overdue_items = self._deadline_items(session, overdue, kind, due, today, late=True)
            soon_items = self._deadline_items(session, soon, kind, due, today, late=False)
            own = ROLE_QUEUES.get(role, ())
            queues = tuple(
                ReviewQueue(
                    queue=queue,
                    state=QUEUE_STATE[queue],
                    # A termination waits for the user only when someone else proposed it.
                    count=tally[f"{queue}_yours" if own and queue is Queue.TERMINATIONS else queue],
                    yours=tally[f"{queue}_yours"] if own and queue in _BY_CONTRACT else 0,
                    items=self._queue_items(session, queue, me, kind, due) if own else (),
                )
                for queue in (own or tuple(Queue))
            )
            lights, flagged = self._lights(session, overdue, soon)
            months = self._months(session, month_starts(today))
            oldest = self._oldest(session, today)
        return Dashboard(
            today=today,
            soon_until=soon_until,
            states=states,
            overdue=tally["overdue"],
            overdue_items=overdue_items,
            due_soon=tally["soon"],
            due_soon_items=soon_items,
            personal=bool(own),
            queues=queues,
            lights=lights,
            flagged=flagged,
            months=months,
            oldest=oldest,
        )

    def _states(self, session: Session) -> tuple[StateCount, ...]:
        state = col(Finding.state)
        counted = dict(session.execute(select(state, func.count()).group_by(state)).all())
        return tuple(StateCount(s, int(counted.get(s, 0))) for s in State)

    def _tally(self, session: Session, overdue: Any, soon: Any, me: str) -> dict[str, int]:
        """Every count of the page but the states' and the lights', in one pass over the open
        findings."""
        state = col(Finding.state)
        proposer = col(Finding.termination_proposed_by)
        # An IN over the user's contracts, not a join: the pass reads finding rows only.
        managed = col(Finding.contract_id).in_(
            select(col(Contract.id)).where(func.lower(col(Contract.manager_email)) == me)
        )
        conditions: dict[str, Any] = {
            "overdue": overdue,
            "soon": soon,
            "plans": _waiting(Queue.PLANS, me),
            "plans_yours": and_(_waiting(Queue.PLANS, me), managed),
            "fixes": _waiting(Queue.FIXES, me),
            "fixes_yours": and_(_waiting(Queue.FIXES, me), managed),
            "sanctions": _waiting(Queue.SANCTIONS, me),
            "terminations": and_(state == State.SANCTION_REVIEW, proposer.is_not(None)),
            "terminations_yours": _waiting(Queue.TERMINATIONS, me),
        }
        row = session.execute(
            select(
                *(func.coalesce(func.sum(case((c, 1), else_=0)), 0) for c in conditions.values())
            )
            .select_from(Finding)
            .where(state.in_(UNFINISHED))
        ).one()
        return {name: int(value) for name, value in zip(conditions, row, strict=True)}

    def _deadline_items(
        self, session: Session, where: Any, kind: Any, due: Any, today: date, *, late: bool
    ) -> tuple[DeadlineItem, ...]:
        query = (
            select(
                col(Finding.ref),
                col(Finding.title),
                col(Supplier.name),
                col(Supplier.org_number),
                col(Finding.state),
                kind,
                due,
            )
            .outerjoin(Supplier, _SUPPLIER_OF_FINDING)
            .where(where)
            .order_by(due, col(Finding.id))
            .limit(LIST_LIMIT)
        )
        return tuple(
            DeadlineItem(
                ref=ref,
                title=title,
                supplier=supplier,
                supplier_org_number=org,
                state=state,
                deadline=DeadlineKind(k),
                due=d,
                days=(today - d).days if late else (d - today).days,
            )
            for ref, title, supplier, org, state, k, d in session.execute(query).all()
        )

    def _queue_items(
        self, session: Session, queue: Queue, me: str, kind: Any, due: Any
    ) -> tuple[ReviewItem, ...]:
        state = col(Finding.state)
        proposer = col(Finding.termination_proposed_by)
        where = _waiting(queue, me)
        managed = func.lower(col(Contract.manager_email)) == me
        yours = case((managed, 1), else_=0)
        query = (
            select(
                col(Finding.ref),
                col(Finding.title),
                col(Supplier.name),
                col(Supplier.org_number),
                col(Contract.reference),
                state,
                yours,
                kind,
                due,
                proposer,
            )
            .outerjoin(Supplier, _SUPPLIER_OF_FINDING)
            .outerjoin(Contract, col(Contract.id) == col(Finding.contract_id))
            .where(where)
            # Yours first; then the most pressing (no date last), then the longest waiting.
            .order_by(yours.desc(), due.is_(None), due, col(Finding.last_event_at), col(Finding.id))
            .limit(LIST_LIMIT)
        )
        return tuple(
            ReviewItem(
                ref=ref,
                title=title,
                supplier=supplier,
                supplier_org_number=org,
                contract=contract,
                state=s,
                yours=bool(mine) and queue in _BY_CONTRACT,
                deadline=DeadlineKind(k) if k is not None else None,
                due=d,
                proposed_by=by,
            )
            for ref, title, supplier, org, contract, s, mine, k, d, by in session.execute(
                query
            ).all()
        )

    def _lights(
        self, session: Session, overdue: Any, soon: Any
    ) -> tuple[tuple[LightCount, ...], tuple[SupplierLight, ...]]:
        """Every supplier's light, in one statement: the open findings grouped by supplier,
        each supplier ranked by its light, how many suppliers show each light (window sums
        over every supplier, taken before the LIMIT), and the worst suppliers."""
        state = col(Finding.state)

        def counted(condition: Any) -> Any:
            return func.sum(case((condition, 1), else_=0))

        per_supplier = (
            select(
                col(Finding.supplier_id).label("supplier_id"),
                counted(overdue).label("overdue"),
                counted(state == State.SANCTION_REVIEW).label("sanction"),
                counted(soon).label("soon"),
                func.count().label("open"),
            )
            .where(state.in_(UNFINISHED))
            .group_by(col(Finding.supplier_id))
            .subquery("per_supplier")
        )
        late = func.coalesce(per_supplier.c.overdue, 0)
        sanction = func.coalesce(per_supplier.c.sanction, 0)
        soon_n = func.coalesce(per_supplier.c.soon, 0)
        open_n = func.coalesce(per_supplier.c.open, 0)
        lights = tuple(Light)  # worst first: a light's rank is its index
        rank = case((late + sanction > 0, 0), (soon_n > 0, 1), (open_n > 0, 2), else_=3)
        ranked = (
            select(
                col(Supplier.name).label("name"),
                col(Supplier.org_number).label("org_number"),
                rank.label("rank"),
                late.label("overdue"),
                sanction.label("sanction"),
                soon_n.label("soon"),
                open_n.label("open"),
            )
            .select_from(Supplier)
            .outerjoin(per_supplier, per_supplier.c.supplier_id == col(Supplier.id))
            .subquery("ranked")
        )
        totals = [
            func.sum(case((ranked.c.rank == i, 1), else_=0)).over().label(f"total_{i}")
            for i in range(len(lights))
        ]
        rows = session.execute(
            select(ranked, *totals)
            .order_by(
                ranked.c.rank,
                (ranked.c.overdue + ranked.c.sanction).desc(),
                ranked.c.soon.desc(),
                ranked.c.name,
                ranked.c.org_number,
            )
            .limit(SUPPLIER_LIMIT)
        ).all()
        first = rows[0] if rows else None
        counts = tuple(
            LightCount(light, int(getattr(first, f"total_{i}")) if first is not None else 0)
            for i, light in enumerate(lights)
        )
        flagged = tuple(
            SupplierLight(
                name=row.name,
                org_number=row.org_number,
                light=lights[row.rank],
                overdue=int(row.overdue),
                sanction_review=int(row.sanction),
                due_soon=int(row.soon),
                open=int(row.open),
            )
            for row in rows
            if lights[row.rank] in (Light.RED, Light.AMBER)
        )
        return counts, flagged

    def _months(self, session: Session, starts: Sequence[date]) -> tuple[MonthFigures, ...]:
        """Opened and closed per local month, in one statement: a sum per month over each
        table's rows in the whole span (the bounds are the months' local midnights in UTC)."""
        calendar = self.settings.calendar
        bounds = [calendar.end_of_day(day - timedelta(days=1)) for day in starts]
        created = col(Finding.created_at)
        at = col(Event.at)

        def per_month(column: Any, name: str) -> list[Any]:
            return [
                func.coalesce(func.sum(case((and_(column >= a, column < b), 1), else_=0)), 0).label(
                    f"{name}_{i}"
                )
                for i, (a, b) in enumerate(pairwise(bounds))
            ]

        opened = (
            select(*per_month(created, "opened"))
            .where(created >= bounds[0], created < bounds[-1])
            .subquery("opened")
        )
        # A move into a finished state; a later event of a finished finding (a note, say)
        # carries the same to_state and is not a second closing.
        closed = (
            select(*per_month(at, "closed"))
            .where(
                col(Event.to_state).in_(FINISHED),
                or_(col(Event.from_state).is_(None), col(Event.from_state).not_in(FINISHED)),
                at >= bounds[0],
                at < bounds[-1],
            )
            .subquery("closed")
        )
        # Two one-row aggregates side by side: one statement, one round trip.
        row = session.execute(select(opened, closed).select_from(opened.join(closed, true()))).one()
        n = len(starts) - 1
        return tuple(
            MonthFigures(month=starts[i], opened=int(row[i]), closed=int(row[n + i]))
            for i in range(n)
        )

    def _oldest(self, session: Session, today: date) -> tuple[OpenFinding, ...]:
        query = (
            select(
                col(Finding.ref),
                col(Finding.title),
                col(Supplier.name),
                col(Supplier.org_number),
                col(Finding.state),
                col(Finding.found_on),
                col(Finding.created_at),
            )
            .outerjoin(Supplier, _SUPPLIER_OF_FINDING)
            .where(col(Finding.state).in_(UNFINISHED))
            .order_by(col(Finding.found_on), col(Finding.created_at), col(Finding.id))
            .limit(LIST_LIMIT)
        )
        return tuple(
            OpenFinding(
                ref=ref,
                title=title,
                supplier=supplier,
                supplier_org_number=org,
                state=state,
                found_on=found_on,
                created_at=created_at,
                age_days=(today - found_on).days,
            )
            for ref, title, supplier, org, state, found_on, created_at in session.execute(
                query
            ).all()
        )
