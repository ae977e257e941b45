"""What the use cases return: plain, JSON-ready dictionaries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import col

from cap.config import Settings
from cap.domain.lifecycle import (
    current_deadline,
)
from cap.domain.model import State
from cap.store.models import (
    Contract,
    Decision,
    Event,
    Evidence,
    Finding,
    OutboxMessage,
    Plan,
    Supplier,
)
from cap.workflow.records import case_of, iso


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


def summary_view(
    f: Finding, supplier: str, org: str, contract: str, settings: Settings, now: datetime
) -> dict[str, Any]:
    current = current_deadline(case_of(f))
    overdue = current is not None and settings.calendar.is_overdue(current[1], now)
    return {
        "ref": f.ref,
        "state": f.state.value,
        "severity": f.severity.value,
        "area": f.area.value,
        "title": f.title,
        "supplier": supplier,
        "supplier_org_number": org,
        "contract": contract,
        "plan_due": iso(f.plan_due),
        "remediation_due": iso(f.remediation_due),
        "current_deadline": current[0].value if current else None,
        "due": iso(current[1]) if current else None,
        "overdue": overdue,
        "escalation_level": f.escalation_level,
    }


def supplier_view(s: Supplier, contacts: list[tuple[str | None, str, str]]) -> dict[str, Any]:
    return {
        "name": s.name,
        "org_number": s.org_number,
        "country": s.country,
        "contacts": [
            {"name": name, "email": email, "language": str(lang)} for name, email, lang in contacts
        ],
    }


def contract_view(c: Contract, s: Supplier) -> dict[str, Any]:
    return {
        "reference": c.reference,
        "supplier": s.name,
        "supplier_org_number": s.org_number,
        "category": c.category,
        "manager": c.manager_email,
        "start": iso(c.start_date),
        "end": iso(c.end_date),
        "value": str(c.value) if c.value is not None else None,
    }


def plan_view(p: Plan) -> dict[str, Any]:
    return {
        "version": p.version,
        "root_cause": p.root_cause,
        "actions": p.actions,
        "submitted_at": iso(p.submitted_at),
        "submitted_by": p.submitted_by,
        "review_outcome": p.review_outcome,
        "review_reason": p.review_reason,
        "reviewed_by": p.reviewed_by,
        "reviewed_at": iso(p.reviewed_at),
    }


def evidence_view(e: Evidence) -> dict[str, Any]:
    return {
        "id": e.id,
        "file_name": e.file_name,
        "sha256": e.sha256,
        "size": e.size,
        "content_type": e.content_type,
        "uploaded_by": e.uploaded_by,
        "uploaded_at": iso(e.uploaded_at),
    }


def decision_view(d: Decision) -> dict[str, Any]:
    return {
        "outcome": d.outcome.value,
        "rationale": d.rationale,
        "proposed_by": d.proposed_by,
        "proposed_at": iso(d.proposed_at),
        "approved_by": d.approved_by,
        "approved_at": iso(d.approved_at),
    }


def outbox_view(m: OutboxMessage, ref: str | None) -> dict[str, Any]:
    return {
        "id": m.id,
        "finding": ref,
        "kind": m.kind,
        "recipient": m.recipient,
        "role": m.recipient_role,
        "language": m.language,
        "subject": m.subject,
        "status": m.status.value,
        "attempts": m.attempts,
        "next_attempt_at": iso(m.next_attempt_at),
        "sent_at": iso(m.sent_at),
        "last_error": m.last_error,
        "message_id": m.message_id,
    }


def event_view(e: Event) -> dict[str, Any]:
    return {
        "at": iso(e.at),
        "recorded_at": iso(e.recorded_at),
        "actor": e.actor,
        "kind": e.kind,
        "from_state": e.from_state.value if e.from_state else None,
        "to_state": e.to_state.value if e.to_state else None,
        "data": e.data,
    }
