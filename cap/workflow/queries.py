"""Use cases that only read: a finding, a list of findings, a finding's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import col

from cap.domain import engine
from cap.domain.model import Area, Severity, State
from cap.errors import NotFound
from cap.store.mapping import case_of
from cap.store.models import Contract, Event, Finding, Supplier
from cap.workflow.base import UseCases
from cap.workflow.listing import LAST_DUE, searched
from cap.workflow.records import finding_by_ref, supplier_by_org
from cap.workflow.results import FindingSummary, FindingView, TimelineView
from cap.workflow.views import (
    event_view,
    finding_view,
    overdue_clause,
    summary_view,
    upcoming_step,
)


@dataclass(frozen=True)
class FindingFilter:
    """Which findings a list shows: every one unless narrowed, with the desk's filters
    (``states``: any of them, beside ``state``; ``due_before``: the deadline in force is on or
    before it; ``q``: ref, title or site holds it, in any case)."""

    state: State | None = None
    supplier: str | None = None  # organisation number
    overdue: bool = False
    limit: int | None = None
    after: str | None = None  # the ref of the last finding of the page before
    states: tuple[State, ...] = ()
    contract: str | None = None  # reference
    area: Area | None = None
    severity: Severity | None = None
    due_before: date | None = None
    q: str | None = None


class Queries(UseCases):
    def show_finding(self, ref: str, *, now: datetime) -> FindingView:
        """Everything about one finding, as it stands at ``now``."""
        with self.db.read() as session:
            return finding_view(session, finding_by_ref(session, ref), self.settings, now)

    def list_findings(self, flt: FindingFilter, *, now: datetime) -> list[FindingSummary]:
        """The findings ``flt`` lets through, oldest first."""
        today = self.settings.calendar.local_date(now)
        with self.db.read() as session:
            query = (
                select(
                    Finding, col(Supplier.name), col(Supplier.org_number), col(Contract.reference)
                )
                .join(Supplier, col(Supplier.id) == col(Finding.supplier_id))
                .join(Contract, col(Contract.id) == col(Finding.contract_id))
                .order_by(col(Finding.id))
            )
            states = (*flt.states, *((flt.state,) if flt.state else ()))
            if states:
                query = query.where(col(Finding.state).in_(states))
            if flt.supplier is not None:
                supplier_by_org(session, flt.supplier)
                query = query.where(col(Supplier.org_number) == flt.supplier)
            if flt.contract is not None:
                known = select(col(Contract.id)).where(col(Contract.reference) == flt.contract)
                if session.execute(known).first() is None:
                    raise NotFound(f"contract: {flt.contract} does not exist",
                                   see="cap contract list")  # fmt: skip
                query = query.where(col(Contract.reference) == flt.contract)
            if flt.area is not None:
                query = query.where(col(Finding.area) == flt.area)
            if flt.severity is not None:
                query = query.where(col(Finding.severity) == flt.severity)
            if flt.overdue:
                query = query.where(overdue_clause(today))
            if flt.due_before is not None:
                query = query.where(col(Finding.due_order) <= min(flt.due_before, LAST_DUE))
            if flt.q is not None:
                query = query.where(searched(flt.q))
            if flt.after is not None:
                last = session.execute(
                    select(col(Finding.id)).where(col(Finding.ref) == flt.after)
                ).scalar()
                if last is None:
                    raise NotFound(f"cursor: no finding {flt.after}; start again without it")
                query = query.where(col(Finding.id) > last)
            if flt.limit:
                query = query.limit(flt.limit)
            return [
                summary_view(f, name, org, contract, self.settings, now)
                for f, name, org, contract in session.execute(query).all()
            ]

    def timeline(self, ref: str, *, now: datetime) -> TimelineView:
        """A finding's history and what the rules will do next, with dates; each step still
        to take says whether the next sweep applies it, passes over it (catch-up) or waits."""
        rules = self.settings.rule_set
        with self.db.read() as session:
            finding = finding_by_ref(session, ref)
            events = session.execute(
                select(Event).where(col(Event.finding_id) == finding.id).order_by(col(Event.id))
            ).scalars()
            return TimelineView(
                ref=finding.ref,
                state=finding.state,
                events=tuple(event_view(e) for e in events),
                upcoming=tuple(
                    upcoming_step(entry)
                    for entry in engine.timeline(case_of(finding), rules, now)
                    if not entry.done
                ),
            )
