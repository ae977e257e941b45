"""Rows as the use cases return them: each builder turns stored rows into a result of
:mod:`cap.workflow.results`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, String, case, literal, or_, select, type_coerce
from sqlalchemy.orm import defer
from sqlmodel import Session, col

from cap.config import Settings
from cap.domain.engine import TimelineEntry
from cap.domain.lifecycle import IN_FORCE, available_actions, current_deadline
from cap.domain.model import Action, DeadlineKind, Role, State
from cap.store.mapping import case_of
from cap.store.models import (
    Contract,
    Decision,
    Event,
    Evidence,
    Finding,
    OutboxMessage,
    Plan,
    Supplier,
    SupplierLink,
)
from cap.workflow.results import (
    ContactView,
    ContractView,
    DecisionView,
    EventView,
    EvidenceView,
    ExtensionRequestView,
    FindingSummary,
    FindingView,
    LinkView,
    OutboxMessageView,
    PlanActionView,
    PlanView,
    StepView,
    SupplierView,
    UpcomingStep,
)


def overdue_clause(today: date) -> Any:
    # A deadline expires at the end of its day: overdue once the local date is past it.
    plan = col(Finding.plan_due) < today
    review = col(Finding.review_due) < today
    remediation = col(Finding.remediation_due) < today
    verification = col(Finding.verification_due) < today
    state = col(Finding.state)
    return or_(
        (state == State.AWAITING_PLAN) & (plan | remediation),
        (state == State.PLAN_REVIEW) & (review | remediation),
        (state == State.REMEDIATING) & remediation,
        (state == State.VERIFYING) & verification,
    )


_DUE_COLUMN: dict[DeadlineKind, Any] = {
    DeadlineKind.PLAN: col(Finding.plan_due),
    DeadlineKind.PLAN_REVIEW: col(Finding.review_due),
    DeadlineKind.REMEDIATION: col(Finding.remediation_due),
    DeadlineKind.VERIFICATION: col(Finding.verification_due),
}


def _earliest(
    a: tuple[ColumnElement[Any], ColumnElement[Any]],
    b: tuple[ColumnElement[Any], ColumnElement[Any]],
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The earlier of two (kind, due) pairs, ``a`` on a tie (the domain sorts stably); a
    missing date loses."""
    (kind_a, due_a), (kind_b, due_b) = a, b
    whens = ((due_a.is_(None), 1), (due_b.is_(None), 0), (due_a <= due_b, 0))
    first = case(*whens, else_=1)
    return (
        case((first == 0, kind_a), else_=kind_b),
        case((first == 0, due_a), else_=due_b),
    )


def current_deadline_columns() -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """(kind, due) of a finding's current deadline in SQL: the earliest deadline in force in
    its state, as :func:`cap.domain.lifecycle.current_deadline` finds it (tests hold the two
    equal); NULLs when nothing is owed by a date."""
    state = col(Finding.state)
    kinds: list[tuple[Any, ColumnElement[Any]]] = []
    dues: list[tuple[Any, ColumnElement[Any]]] = []
    for in_state, in_force in IN_FORCE.items():
        pairs: list[tuple[ColumnElement[Any], ColumnElement[Any]]] = [
            (type_coerce(literal(kind.value), String), _DUE_COLUMN[kind]) for kind in in_force
        ]
        kind, due = pairs[-1]
        for earlier in reversed(pairs[:-1]):
            kind, due = _earliest(earlier, (kind, due))
        # A kind is named only where its date is there.
        kinds.append((state == in_state, case((due.is_(None), None), else_=kind)))
        dues.append((state == in_state, due))
    return (
        type_coerce(case(*kinds, else_=None), String),
        type_coerce(case(*dues, else_=None), Date),
    )


def summary_view(
    f: Finding, supplier: str, org: str, contract: str, settings: Settings, now: datetime
) -> FindingSummary:
    current = current_deadline(case_of(f))
    return FindingSummary(
        ref=f.ref,
        state=f.state,
        severity=f.severity,
        area=f.area,
        title=f.title,
        supplier=supplier,
        supplier_org_number=org,
        contract=contract,
        plan_due=f.plan_due,
        remediation_due=f.remediation_due,
        current_deadline=current[0] if current else None,
        due=current[1] if current else None,
        overdue=current is not None and settings.calendar.is_overdue(current[1], now),
        escalation_level=f.escalation_level,
    )


def finding_view(
    session: Session, finding: Finding, settings: Settings, now: datetime
) -> FindingView:
    """Everything about ``finding``: its summary, details, plans, evidence, decisions, history."""
    supplier = session.get(Supplier, finding.supplier_id)
    contract = session.get(Contract, finding.contract_id)
    assert supplier is not None and contract is not None
    summary = summary_view(
        finding, supplier.name, supplier.org_number, contract.reference, settings, now
    )
    mine = finding.id
    events = [
        event_view(e)
        for e in session.execute(
            select(Event).where(col(Event.finding_id) == mine).order_by(col(Event.id))
        ).scalars()
    ]
    plans = session.execute(
        select(Plan).where(col(Plan.finding_id) == mine).order_by(col(Plan.version))
    ).scalars()
    decisions = session.execute(
        select(Decision).where(col(Decision.finding_id) == mine).order_by(col(Decision.id))
    ).scalars()
    evidence = session.execute(
        select(Evidence)
        .options(defer(Evidence.content))  # type: ignore[arg-type]
        .where(col(Evidence.finding_id) == mine)
        .order_by(col(Evidence.id))
    ).scalars()
    return FindingView(
        **{f.name: getattr(summary, f.name) for f in fields(FindingSummary)},
        description=finding.description,
        source=finding.source,
        site=finding.site,
        site_country=finding.site_country,
        external_id=finding.external_id,
        found_on=finding.found_on,
        notified_at=finding.notified_at,
        supplier_country=supplier.country,
        contract_manager=contract.manager_email,
        return_state=finding.return_state,
        termination_proposed_by=finding.termination_proposed_by,
        extensions=finding.extensions,
        extension_request=extension_request_view(finding.extension_request, events),
        deadline_version=finding.deadline_version,
        next_check_at=finding.next_check_at,
        version=finding.version,
        created_at=finding.created_at,
        created_by=finding.created_by,
        allowed_actions=tuple(a.label for a in available_actions(case_of(finding))),
        plans=tuple(plan_view(p) for p in plans),
        evidence=tuple(evidence_view(e) for e in evidence),
        decisions=tuple(decision_view(d) for d in decisions),
        events=tuple(events),
        links=tuple(
            link_view(link, finding.ref)
            for link in session.execute(
                select(SupplierLink)
                .where(col(SupplierLink.finding_id) == mine)
                .order_by(col(SupplierLink.id).desc())
            ).scalars()
        ),
    )


def link_view(link: SupplierLink, ref: str | None) -> LinkView:
    """A supplier link as shown, ``ref`` its finding's."""
    assert link.id is not None
    return LinkView(
        id=link.id, supplier_id=link.supplier_id, finding_ref=ref, address=link.address,
        created_at=link.created_at, expires_at=link.expires_at, revoked_at=link.revoked_at,
        first_opened_at=link.first_opened_at, last_opened_at=link.last_opened_at,
        uses=link.uses,
    )  # fmt: skip


def extension_request_view(
    until: date | None, events: Sequence[EventView]
) -> ExtensionRequestView | None:
    """The pending request of a finding whose ``extension_request`` is ``until``: told by the
    latest request recorded (any answer, or a move of the finding, ends a request)."""
    if until is None:
        return None
    asked = next((e for e in reversed(events) if e.kind == Action.REQUEST_EXTENSION.value), None)
    if asked is None:  # pragma: no cover - only request-extension sets the date
        return ExtensionRequestView(until, None, None, None, None)
    kind = asked.data.get("deadline")
    return ExtensionRequestView(
        until=until,
        deadline=DeadlineKind(kind) if kind else None,
        reason=asked.data.get("reason"),
        requested_by=asked.actor,
        requested_at=asked.at,
    )


def supplier_view(s: Supplier, contacts: Sequence[ContactView]) -> SupplierView:
    return SupplierView(
        name=s.name, org_number=s.org_number, country=s.country, contacts=tuple(contacts)
    )


def contract_view(c: Contract, s: Supplier) -> ContractView:
    return ContractView(
        reference=c.reference,
        supplier=s.name,
        supplier_org_number=s.org_number,
        category=c.category,
        manager=c.manager_email,
        start=c.start_date,
        end=c.end_date,
        value=c.value,
    )


def plan_view(p: Plan) -> PlanView:
    return PlanView(
        version=p.version,
        root_cause=p.root_cause,
        actions=tuple(
            PlanActionView(a["description"], a["owner"], date.fromisoformat(a["due"]))
            for a in p.actions
        ),
        submitted_at=p.submitted_at,
        submitted_by=p.submitted_by,
        review_outcome=p.review_outcome,
        review_reason=p.review_reason,
        reviewed_by=p.reviewed_by,
        reviewed_at=p.reviewed_at,
    )


def evidence_view(e: Evidence) -> EvidenceView:
    assert e.id is not None
    return EvidenceView(
        id=e.id,
        file_name=e.file_name,
        sha256=e.sha256,
        size=e.size,
        content_type=e.content_type,
        uploaded_by=e.uploaded_by,
        uploaded_at=e.uploaded_at,
    )


def decision_view(d: Decision) -> DecisionView:
    return DecisionView(
        outcome=d.outcome,
        rationale=d.rationale,
        proposed_by=d.proposed_by,
        proposed_at=d.proposed_at,
        approved_by=d.approved_by,
        approved_at=d.approved_at,
    )


def outbox_view(m: OutboxMessage, ref: str | None) -> OutboxMessageView:
    assert m.id is not None
    return OutboxMessageView(
        id=m.id,
        finding=ref,
        obligation=m.obligation_id,
        kind=m.kind,
        recipient=m.recipient,
        role=m.recipient_role,
        language=m.language,
        subject=m.subject,
        status=m.status,
        attempts=m.attempts,
        next_attempt_at=m.next_attempt_at,
        sent_at=m.sent_at,
        last_error=m.last_error,
        message_id=m.message_id,
        queued_at=m.queued_at,
        created_at=m.created_at,
    )


def event_view(e: Event) -> EventView:
    return EventView(
        at=e.at,
        recorded_at=e.recorded_at,
        actor=e.actor,
        kind=e.kind,
        from_state=e.from_state,
        to_state=e.to_state,
        data=e.data,
    )


def step_view(entry: TimelineEntry) -> StepView:
    return StepView(
        at=entry.at,
        due=entry.due,
        kind=entry.kind,
        deadline=entry.deadline,
        rule=entry.rule,
        template=entry.template,
        to=tuple(Role(r) for r in entry.to),
        level=entry.level,
        action=entry.action,
        done=entry.done,
    )


def upcoming_step(entry: TimelineEntry) -> UpcomingStep:
    """An entry of a timeline drawn at a moment (its status set)."""
    assert entry.status is not None
    return UpcomingStep(
        **{f.name: getattr(step_view(entry), f.name) for f in fields(StepView)},
        status=entry.status,
    )
