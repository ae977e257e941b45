"""Reading and writing a finding's rows: prebuilt statements, the audit trail, plans,
evidence, decisions. Shared by the use cases; no transaction starts here. (The finding's own
columns map to the domain's Case in cap.store.mapping.)"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import bindparam, func, insert, select, true, update
from sqlmodel import Session, col

from cap.domain import engine
from cap.domain.inputs import PlanInput
from cap.domain.lifecycle import (
    Action,
    ActionRequest,
    Change,
)
from cap.domain.model import Case, DeadlineKind, Limit, State
from cap.errors import Conflict, NotFound
from cap.notify import outbox
from cap.store.db import insert_for
from cap.store.mapping import SAVE_FINDING
from cap.store.models import (
    Contract,
    Decision,
    Event,
    Evidence,
    Finding,
    Plan,
    RefCounter,
    Supplier,
    SupplierContact,
)
from cap.workflow.results import SweepAction, SweepReport, Unreached

log = logging.getLogger("cap.workflow")


@dataclass(frozen=True)
class EvidenceFile:
    """An uploaded file, already read into memory by the edge (which enforces the size limit)."""

    file_name: str
    content: bytes
    content_type: str = "application/octet-stream"

    @property
    def stored_name(self) -> str:
        """The name it is kept under: the last part of a Windows or POSIX path, which a
        browser or a script may send whole."""
        return PurePath(self.file_name.replace("\\", "/")).name


#: A finding or report whose sweep raised is looked at again after this long.
RETRY_AFTER_ERROR = timedelta(hours=1)


@dataclass
class SweepTally:
    """What a sweep did so far (its findings, then its reports); frozen into a
    :class:`SweepReport` when it ends."""

    examined: int = 0
    steps: int = 0
    skipped: int = 0
    escalated: int = 0
    queued: int = 0
    errors: list[str] = field(default_factory=list)
    actions: list[SweepAction] = field(default_factory=list)
    unreached: list[Unreached] = field(default_factory=list)

    def report(self, *, dry_run: bool, started: float) -> SweepReport:
        return SweepReport(
            dry_run=dry_run,
            examined=self.examined,
            steps=self.steps,
            skipped=self.skipped,
            escalated=self.escalated,
            queued=self.queued,
            seconds=round(time.perf_counter() - started, 3),
            errors=tuple(self.errors),
            actions=tuple(self.actions),
            unreached=tuple(self.unreached),
        )


#: Who the audit trail names for what the rules do on their own.
SYSTEM_ACTOR = "cap"


def parties_of(
    session: Session,
    finding: Finding,
    case: Case | None = None,
    cache: dict[tuple[int, int], Any] | None = None,
) -> outbox.Parties:
    """Who is involved in ``finding``; ``cache`` shares suppliers and contracts across a batch."""
    cache = {} if cache is None else cache
    key = (finding.supplier_id, finding.contract_id)
    if key not in cache:
        # One query for both (two session.get calls were two round trips and ORM lookups).
        supplier, contract = session.execute(
            PARTIES, {"supplier": finding.supplier_id, "contract": finding.contract_id}
        ).one()
        contacts = session.connection().execute(CONTACTS, {"supplier": finding.supplier_id})
        cache[key] = (supplier, contract, [(n, e, str(lang)) for n, e, lang in contacts])
    supplier, contract, contacts = cache[key]
    return outbox.Parties(
        finding=finding, supplier=supplier, contract=contract, contacts=contacts, case=case
    )


@dataclass(frozen=True)
class Origin:
    limit: Limit
    at: datetime


#: Which event starts which time limit.
_ORIGINS: dict[str, dict[DeadlineKind, Limit]] = {
    Action.NOTIFY.value: {
        DeadlineKind.PLAN: Limit.PLAN,
        DeadlineKind.REMEDIATION: Limit.REMEDIATION,
    },
    Action.REJECT_PLAN.value: {DeadlineKind.PLAN: Limit.PLAN_REVISION},
    Action.SUBMIT_PLAN.value: {DeadlineKind.PLAN_REVIEW: Limit.PLAN_REVIEW},
    Action.REPORT_REMEDIATION.value: {DeadlineKind.VERIFICATION: Limit.VERIFICATION},
}


def deadline_origins(session: Session, finding: Finding) -> dict[DeadlineKind, Origin]:
    """For each deadline the rules set, the limit and the instant it was counted from. A
    deadline whose latest setting was a person's date (extension, chosen revision) is left
    out: the rules never overrule a decision."""
    origins: dict[DeadlineKind, Origin | None] = {}
    events = session.execute(
        select(Event).where(col(Event.finding_id) == finding.id).order_by(col(Event.id))
    ).scalars()
    for event in events:
        for item in event.data.get("deadlines", []):
            kind = DeadlineKind(item["deadline"])
            limit = _ORIGINS.get(event.kind, {}).get(kind)
            chosen = event.kind == Action.EXTEND.value or "until" in event.data
            origins[kind] = None if chosen or limit is None else Origin(limit, event.at)
    return {kind: origin for kind, origin in origins.items() if origin is not None}


def due_query(now: datetime) -> Any:
    return (
        select(Finding)
        .where(col(Finding.next_check_at) <= now)
        .order_by(col(Finding.next_check_at), col(Finding.id))
    )


def step_event(
    finding: Finding, step: engine.DueStep, now: datetime, kind: str, state: State
) -> dict[str, Any]:
    return event_row(
        finding,
        kind,
        at=now,
        now=now,
        moved=(state, state),
        data={
            "rule": step.id,
            "deadline": step.kind.value,
            "due": step.deadline.isoformat(),
            "step_due_at": step.due_at.isoformat(),
            "level": step.rule.level,
            "template": step.rule.template,
        },
    )


def event_row(
    finding: Finding,
    kind: str,
    *,
    at: datetime,
    now: datetime,
    actor: str = SYSTEM_ACTOR,
    moved: tuple[State | None, State] | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit-trail row: ``at`` when it happened, ``now`` when it was recorded; ``moved``
    the states before and after (the finding's own state when nothing moved)."""
    before, after = moved if moved is not None else (finding.state, finding.state)
    return {
        "finding_id": finding.id,
        "at": at,
        "recorded_at": now,
        "actor": actor,
        "kind": kind,
        "from_state": before,
        "to_state": after,
        "data": data or {},
    }


def record_events(session: Session, *events: dict[str, Any]) -> None:
    if events:
        session.connection().execute(INSERT_EVENT, list(events))


def step_summary(
    finding: Finding, step: engine.DueStep, outcome: str, action: str | None = None
) -> SweepAction:
    return SweepAction(
        ref=finding.ref,
        rule=step.id,
        deadline=step.kind,
        due=step.deadline,
        step_due_at=step.due_at,
        to=tuple(step.rule.to),
        template=step.rule.template,
        level=step.rule.level,
        outcome=outcome,
        action=action,
    )


@dataclass
class SweepWrite:
    """What a sweep writes for one finding."""

    finding: Finding
    events: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    saved: dict[str, Any]


def write_plans(session: Session, plans: list[SweepWrite]) -> None:
    if not plans:
        return
    outbox.insert_rows(session, [row for plan in plans for row in plan.outbox])
    record_events(session, *(event for plan in plans for event in plan.events))
    connection = session.connection()
    result = connection.execute(SAVE_FINDING, [plan.saved for plan in plans])
    if connection.dialect.supports_sane_multi_rowcount and result.rowcount != len(plans):
        raise Conflict("a swept finding changed under the sweep; the batch is written again")


RESCHEDULE = (
    update(Finding)
    .where(col(Finding.id) == bindparam("finding"), col(Finding.version) == bindparam("loaded"))
    .values(next_check_at=bindparam("next"))
)
FINDING_BY_REF = select(Finding).where(col(Finding.ref) == bindparam("ref"))
PARTIES = (
    select(Supplier, Contract)
    .join_from(Supplier, Contract, true())  # one row each: the product is that one row
    .where(col(Supplier.id) == bindparam("supplier"), col(Contract.id) == bindparam("contract"))
)
CONTACTS = (
    select(col(SupplierContact.name), col(SupplierContact.email), col(SupplierContact.language))
    .where(col(SupplierContact.supplier_id) == bindparam("supplier"))
    .order_by(col(SupplierContact.id))
)
INSERT_EVENT = insert(Event)


def finding_by_ref(session: Session, ref: str) -> Finding:
    found = session.execute(FINDING_BY_REF, {"ref": ref.strip()})
    finding: Finding | None = found.scalars().first()
    if finding is None:
        raise NotFound(f"finding {ref} does not exist", see="cap finding list")
    return finding


def supplier_by_org(session: Session, org_number: str) -> Supplier:
    supplier: Supplier | None = (
        session.execute(select(Supplier).where(col(Supplier.org_number) == org_number))
        .scalars()
        .first()
    )
    if supplier is None:
        raise NotFound(
            f"supplier: no supplier with organisation number {org_number}",
            see="cap supplier list",
        )
    return supplier


def contract_by_ref(session: Session, reference: str) -> tuple[Contract, Supplier]:
    """The contract of ``reference`` and its supplier; NotFound naming the reference."""
    row = session.execute(
        select(Contract, Supplier)
        .join(Supplier, col(Supplier.id) == col(Contract.supplier_id))
        .where(col(Contract.reference) == reference)
    ).first()
    if row is None:
        raise NotFound(f"contract: no contract {reference}", see="cap contract list")
    return row[0], row[1]


def contracts_by_ref(session: Session, refs: set[str]) -> dict[str, Contract]:
    """The contracts named, locked until the transaction ends, so that two writers logging
    findings on one contract check for duplicates one after the other (PostgreSQL: FOR NO KEY
    UPDATE, which still lets others insert rows that refer to the contract; SQLite already
    writes one transaction at a time)."""
    if not refs:
        return {}
    rows = session.execute(
        select(Contract)
        .where(col(Contract.reference).in_(refs))
        .order_by(col(Contract.id))  # the same order for every writer: no deadlock
        .with_for_update(key_share=True)
    ).scalars()
    return {c.reference: c for c in rows}


def reserve_refs(session: Session, year: int, count: int) -> int:
    """Reserve ``count`` consecutive finding numbers for ``year``; returns the first.

    The counter row is updated in the caller's transaction, so numbers are never handed out
    twice, even by several processes, and a rolled-back import leaves no gap.
    """
    counter = insert_for(session.get_bind().dialect.name, RefCounter)
    session.execute(
        counter.values(year=year, last=0).on_conflict_do_nothing(index_elements=["year"])
    )
    last = session.execute(
        update(RefCounter)
        .where(col(RefCounter.year) == year)
        .values(last=RefCounter.last + count)
        .returning(col(RefCounter.last))
    ).scalar_one()
    return int(last) - count + 1


#: Built once, like the other statements here: building one per call cost more than running it.
LATEST_PLAN = select(func.max(col(Plan.version))).where(
    col(Plan.finding_id) == bindparam("finding")
)
INSERT_PLAN = insert(Plan)
REVIEW_PLAN = (
    update(Plan)
    .where(
        col(Plan.finding_id) == bindparam("finding"),
        col(Plan.version) == LATEST_PLAN.scalar_subquery(),
    )
    .values(
        review_outcome=bindparam("outcome"),
        review_reason=bindparam("reason"),
        reviewed_by=bindparam("actor"),
        reviewed_at=bindparam("at"),
    )
    .returning(col(Plan.version))
)


def add_plan(session: Session, finding_id: int, plan: PlanInput, request: ActionRequest) -> int:
    """Store ``plan`` as the finding's next plan version; returns that version."""
    # Core statements, here and in review_plan: the ORM's unit of work cost more than the rest
    # of the action's writes together.
    connection = session.connection()
    latest = connection.execute(LATEST_PLAN, {"finding": finding_id}).scalar()
    version = int(latest or 0) + 1
    connection.execute(
        INSERT_PLAN,
        {
            "finding_id": finding_id,
            "version": version,
            "root_cause": plan.root_cause,
            "actions": [
                {"description": a.description, "owner": a.owner, "due": a.due.isoformat()}
                for a in plan.actions
            ],
            "submitted_at": request.at,
            "submitted_by": request.actor,
        },
    )
    return version


def review_plan(session: Session, finding_id: int, request: ActionRequest) -> int:
    """Record the review on the finding's latest plan; returns that plan's version."""
    outcome = "accepted" if request.action is Action.ACCEPT_PLAN else "rejected"
    reviewed = session.connection().execute(
        REVIEW_PLAN,
        {
            "finding": finding_id,
            "outcome": outcome,
            "reason": request.reason or request.note,
            "actor": request.actor,
            "at": request.at,
        },
    )
    version: int = reviewed.scalar_one()
    return version


def store_evidence(
    session: Session, finding_id: int, f: EvidenceFile, request: ActionRequest
) -> Evidence:
    row = Evidence(
        finding_id=finding_id,
        file_name=f.stored_name,
        sha256=hashlib.sha256(f.content).hexdigest(),
        size=len(f.content),
        content_type=f.content_type,
        content=f.content,
        uploaded_by=request.actor,
        uploaded_at=request.at,
    )
    session.add(row)
    session.flush()
    return row


def evidence_entry(row: Evidence) -> dict[str, Any]:
    """What the audit trail keeps of a stored file."""
    return {"id": row.id, "file_name": row.file_name, "sha256": row.sha256, "size": row.size}


def record_decision(
    session: Session, finding_id: int, change: Change, request: ActionRequest
) -> Decision:
    note = change.decision
    assert note is not None
    if note.approves_pending:
        pending: Decision | None = (
            session.execute(
                select(Decision)
                .where(
                    col(Decision.finding_id) == finding_id,
                    col(Decision.approved_by).is_(None),
                )
                .order_by(col(Decision.id).desc())
            )
            .scalars()
            .first()
        )
        assert pending is not None, "a termination proposal is recorded with every proposal"
        pending.approved_by = request.actor
        pending.approved_at = request.at
        return pending
    proposal = note.outcome.value == "termination"
    decision = Decision(
        finding_id=finding_id,
        outcome=note.outcome,
        rationale=note.rationale,
        proposed_by=request.actor,
        proposed_at=request.at,
        approved_by=None if proposal else request.actor,
        approved_at=None if proposal else request.at,
    )
    session.add(decision)
    return decision


def action_context(
    reason: str | None, note: str | None, decision: Decision | None
) -> dict[str, Any]:
    """What an action's emails say beyond the finding: its reason, note and decision."""
    extra: dict[str, Any] = {"reason": reason, "note": note}
    if decision is not None:
        extra["decision"] = {
            "outcome": decision.outcome,
            "rationale": decision.rationale or "",
            "proposed_by": decision.proposed_by,
            "approved_by": decision.approved_by,
        }
    return extra
