"""Use cases. Each public method is one database transaction: all of it commits, or none.

The edges (CLI, web, worker) call these methods with ``now`` read once from the clock; the
domain decides, this module loads and writes. A finding is written with an optimistic lock
(``WHERE version = <version when loaded>``) so two people acting at once never lose an update.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import defer
from sqlmodel import Session, col

from cap.config import Settings
from cap.domain import engine
from cap.domain.inputs import ContractInput, FindingInput, PlanInput, SupplierInput
from cap.domain.lifecycle import (
    IN_FORCE,
    Action,
    ActionRequest,
    Change,
    DeadlineChange,
    allowed_actions,
    available_actions,
    current_deadline,
    deadline_of,
    perform,
    set_deadline,
)
from cap.domain.model import Case, Role, State
from cap.domain.rules import NoticeRule, Rules
from cap.errors import (
    ActionRefused,
    AlreadyExists,
    CapError,
    Conflict,
    InvalidInput,
    NotFound,
)
from cap.notify import links as outbox_links
from cap.notify import outbox
from cap.store.db import Database, insert_for
from cap.store.models import (
    Contract,
    Decision,
    Event,
    Evidence,
    Finding,
    OutboxMessage,
    OutboxStatus,
    Plan,
    Setting,
    Supplier,
    SupplierContact,
)
from cap.workflow.records import (
    RESCHEDULE,
    SAVE_FINDING,
    SYSTEM_ACTOR,
    EvidenceFile,
    SweepWrite,
    add_plan,
    case_of,
    contracts_by_ref,
    deadline_origins,
    decode_ladder,
    due_query,
    encode_ladder,
    event_row,
    finding_by_ref,
    iso,
    parties_of,
    record_decision,
    record_events,
    reserve_refs,
    review_plan,
    saved_params,
    step_event,
    step_summary,
    store_evidence,
    supplier_by_org,
    write_plans,
)
from cap.workflow.screening import SkippedRow, screen
from cap.workflow.views import (
    contract_view,
    decision_view,
    event_view,
    evidence_view,
    outbox_view,
    overdue_clause,
    plan_view,
    summary_view,
    supplier_view,
)

__all__ = [
    "RULES_DIGEST",
    "SYSTEM_ACTOR",
    "EmailPreview",
    "EvidenceFile",
    "FindingFilter",
    "ImportResult",
    "SkippedRow",
    "SweepReport",
    "UnaddressedRole",
    "Unreached",
    "Workflow",
    "decode_ladder",
    "encode_ladder",
    "unaddressed_roles",
    "unreached_of",
]

log = logging.getLogger("cap.workflow")

#: A finding whose sweep raised is looked at again after this long.
RETRY_AFTER_ERROR = timedelta(hours=1)
RULES_DIGEST = "rules_digest"


@dataclass(frozen=True)
class ImportResult:
    refs: list[str]
    skipped: list[SkippedRow] = field(default_factory=list)


@dataclass(frozen=True)
class Unreached:
    """A notification that reached nobody in one of its roles: ``why`` names what to fix
    (for a buyer role, the setting to give addresses in)."""

    ref: str
    rule: str
    template: str
    role: str
    why: str

    def __str__(self) -> str:
        return (
            f"{self.ref}: rule {self.rule} ({self.template}) reached nobody for {self.role}: "
            f"{self.why}"
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "ref": self.ref,
            "rule": self.rule,
            "template": self.template,
            "role": self.role,
            "why": self.why,
        }


def unreached_of(ref: str, trail: dict[str, list[dict[str, str]]]) -> list[Unreached]:
    """What an action's notifications (the ``notifications`` of its event) did not reach."""
    return [
        Unreached(ref, m.get("rule", "?"), m["kind"], m["role"], m["why"])
        for m in trail.get("not_sent", [])
    ]


@dataclass(frozen=True)
class UnaddressedRole:
    """A role the rules in force send emails to, with no address configured."""

    role: Role
    setting: str
    rules: tuple[str, ...]  # the ids of the steps and notices that send to it

    def __str__(self) -> str:
        return (
            f"{self.setting} is not set: the {self.role.value} get no email from rules "
            f"{', '.join(self.rules)}"
        )


def unaddressed_roles(settings: Settings) -> list[UnaddressedRole]:
    """The buyer roles the rules in force send to that have no address: each of their
    emails would reach nobody (found before the first escalation, not after)."""
    rules = settings.rule_set
    configured = {
        Role.SUSTAINABILITY_MANAGER: settings.sustainability_manager_addresses,
        Role.DECISION_MAKERS: settings.decision_maker_addresses,
    }
    found = []
    for role, setting in outbox.ROLE_SETTINGS.items():
        if configured[role]:
            continue
        senders = tuple(
            [s.id for s in rules.steps if role in s.to]
            + [n.id for n in rules.notices if role in n.to]
        )
        if senders:
            found.append(UnaddressedRole(role, setting, senders))
    return found


@dataclass(frozen=True)
class EmailPreview:
    """One email of a finding as its reader gets it: the latest one queued, or else the one
    the rules would send (``queued_at`` is then ``None``)."""

    subject: str
    text: str
    html: str
    language: str
    role: str
    recipient: str
    queued_at: datetime | None


@dataclass
class SweepReport:
    dry_run: bool = False
    examined: int = 0
    steps: int = 0
    skipped: int = 0
    escalated: int = 0
    queued: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    unreached: list[Unreached] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "examined": self.examined,
            "steps": self.steps,
            "skipped": self.skipped,
            "escalated": self.escalated,
            "queued": self.queued,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "actions": self.actions,
            "unreached": [u.as_dict() for u in self.unreached],
        }


def _action_context(
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


def _latest_context(session: Session, finding: Finding) -> dict[str, Any]:
    """The reason, note and decision an action's email would carry if sent now: the finding's
    latest ones, or none."""
    events = session.execute(
        select(Event).where(col(Event.finding_id) == finding.id).order_by(col(Event.id).desc())
    ).scalars()
    reason: str | None = None
    note: str | None = None
    for event in events:
        reason = reason or event.data.get("reason")
        note = note or event.data.get("note")
        if reason and note:
            break
    decision = (
        session.execute(
            select(Decision)
            .where(col(Decision.finding_id) == finding.id)
            .order_by(col(Decision.id).desc())
        )
        .scalars()
        .first()
    )
    return _action_context(reason, note, decision)


def _automatic_escalation(
    case: Case, step: engine.DueStep, now: datetime, rules: Rules
) -> Change | None:
    """The sanction review an escalating step opens, or ``None`` if the state refuses it."""
    if Action.ESCALATE not in allowed_actions(case.state):
        return None
    request = ActionRequest(
        Action.ESCALATE,
        SYSTEM_ACTOR,
        now,
        reason=(
            f"rule {step.id}: {step.rule.offset} days after the {step.kind.value} deadline of "
            f"{step.deadline.isoformat()}"
        ),
    )
    return perform(case, request, now=now, calendar=rules.calendar, policy=rules)


@dataclass
class FindingFilter:
    state: State | None = None
    supplier: str | None = None  # organisation number
    overdue: bool = False
    limit: int | None = None


@dataclass
class Workflow:
    """The use cases of cap over one database and one configuration."""

    db: Database
    settings: Settings = field(default_factory=Settings)

    # -- suppliers and contracts -------------------------------------------------------------

    def add_supplier(self, data: SupplierInput, *, now: datetime) -> dict[str, Any]:
        with self.db.write() as session:
            if session.execute(
                select(col(Supplier.id)).where(col(Supplier.org_number) == data.org_number)
            ).first():
                raise AlreadyExists(
                    f"org-number: a supplier with organisation number {data.org_number} "
                    "already exists"
                )
            supplier = Supplier(
                name=data.name, org_number=data.org_number, country=data.country, created_at=now
            )
            session.add(supplier)
            session.flush()
            assert supplier.id is not None
            session.add(
                SupplierContact(
                    supplier_id=supplier.id,
                    name=data.contact_name,
                    email=data.email,
                    language=data.language,
                )
            )
            return supplier_view(supplier, [(data.contact_name, data.email, data.language)])

    def list_suppliers(self) -> list[dict[str, Any]]:
        with self.db.read() as session:
            suppliers = (
                session.execute(select(Supplier).order_by(col(Supplier.name))).scalars().all()
            )
            contacts: dict[int, list[tuple[str | None, str, str]]] = {}
            for c in session.execute(
                select(SupplierContact).order_by(col(SupplierContact.id))
            ).scalars():
                contacts.setdefault(c.supplier_id, []).append((c.name, c.email, c.language))
            return [supplier_view(s, contacts.get(s.id or 0, [])) for s in suppliers]

    def add_contract(self, data: ContractInput, *, now: datetime) -> dict[str, Any]:
        with self.db.write() as session:
            supplier = supplier_by_org(session, data.supplier)
            if session.execute(
                select(col(Contract.id)).where(col(Contract.reference) == data.reference)
            ).first():
                raise AlreadyExists(f"reference: contract {data.reference} already exists")
            assert supplier.id is not None
            contract = Contract(
                reference=data.reference,
                supplier_id=supplier.id,
                category=data.category,
                manager_email=data.manager,
                start_date=data.start,
                end_date=data.end,
                value=data.value,
                created_at=now,
            )
            session.add(contract)
            return contract_view(contract, supplier)

    def list_contracts(self) -> list[dict[str, Any]]:
        with self.db.read() as session:
            rows = session.execute(
                select(Contract, Supplier)
                .join(Supplier, col(Supplier.id) == col(Contract.supplier_id))
                .order_by(Contract.reference)
            ).all()
            return [contract_view(c, s) for c, s in rows]

    # -- findings ----------------------------------------------------------------------------

    def log_finding(self, data: FindingInput, *, actor: str, now: datetime) -> str:
        """Record a new finding in state ``open``; returns its ref (NC-YYYY-NNNN).

        Logged by hand, one at a time, it is not held against similar findings (its author sees
        what they log); its external id, though, must be new on the contract.
        """
        with self.db.write() as session:
            contracts = contracts_by_ref(session, {data.contract})
            if not contracts:
                raise NotFound(
                    f"contract: {data.contract} does not exist (see `cap contract list`)"
                )
            result = self._log_findings(
                session,
                [data],
                contracts,
                actor=actor,
                now=now,
                where=lambda i: "",
                allow_duplicates=True,
            )
            if result.skipped:
                taken = result.skipped[0]
                raise AlreadyExists(
                    f"external-id: {taken.external_id} is already finding {taken.ref} "
                    f"of contract {data.contract}"
                )
            return result.refs[0]

    def log_findings(
        self,
        rows: Sequence[FindingInput],
        *,
        actor: str,
        now: datetime,
        where: Callable[[int], str] = lambda i: f"finding {i + 1}",
        progress: Callable[[int], None] | None = None,
        allow_duplicates: bool = False,
    ) -> ImportResult:
        """Record many findings at once: all of them or, on the first bad row, none.

        ``where(i)`` names row ``i`` in error messages (a CSV line number, say). A row whose
        external id is already a finding of its contract is skipped (see ``skipped``), so a
        report imported again adds only what is new; a row without one, like a finding of its
        contract (or an earlier row) in title, site and found_on, is a bad row unless
        ``allow_duplicates``.
        """
        with self.db.write() as session:
            contracts = contracts_by_ref(session, {r.contract for r in rows})
            return self._log_findings(
                session,
                rows,
                contracts,
                actor=actor,
                now=now,
                where=where,
                progress=progress,
                allow_duplicates=allow_duplicates,
            )

    def _log_findings(
        self,
        session: Session,
        rows: Sequence[FindingInput],
        contracts: dict[str, Contract],
        *,
        actor: str,
        now: datetime,
        where: Callable[[int], str],
        allow_duplicates: bool,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        today = self.settings.calendar.local_date(now)
        screened = screen(
            session,
            rows,
            contracts,
            today=today,
            where=where,
            allow_duplicates=allow_duplicates,
        )
        if screened.problems:
            raise screened.refusal()
        if progress and screened.skipped:
            progress(len(screened.skipped))
        if not screened.new:
            return ImportResult(refs=[], skipped=screened.skipped)
        year = today.year
        first = reserve_refs(session, year, len(screened.new))
        created: list[Finding] = []
        for number, i in enumerate(screened.new, start=first):
            row = rows[i]
            contract = contracts[row.contract]
            finding = Finding(
                ref=f"NC-{year}-{number:04d}",
                supplier_id=contract.supplier_id,
                contract_id=contract.id or 0,
                external_id=row.external_id,
                site=row.site,
                site_country=row.site_country,
                source=row.source,
                area=row.area,
                severity=row.severity,
                title=row.title,
                description=row.description,
                found_on=row.found_on or today,
                state=State.OPEN,
                created_at=now,
                created_by=actor,
            )
            session.add(finding)
            created.append(finding)
            if progress:
                progress(1)
        session.flush()
        record_events(
            session,
            *(event_row(f, "logged", actor=actor, at=now, now=now, moved=(None, State.OPEN))
              for f in created),
        )  # fmt: skip
        return ImportResult(refs=[f.ref for f in created], skipped=screened.skipped)

    def act(
        self,
        ref: str,
        request: ActionRequest,
        *,
        now: datetime,
        plan: PlanInput | None = None,
        evidence: Iterable[EvidenceFile] = (),
        expected_version: int | None = None,
        view: bool = True,
    ) -> dict[str, Any]:
        """Apply one action to a finding and record it; returns the finding as shown (with
        ``view=False``, only what the action did: ref, state, version and the new event).

        ``expected_version`` is the version the person saw: if the finding changed since,
        :class:`Conflict` is raised and nothing is written.
        """
        files = list(evidence)
        self._check_evidence(files)
        if request.action is Action.SUBMIT_PLAN and plan is None:
            raise InvalidInput("plan: submit-plan needs the plan (root_cause and actions)")
        with self.db.write() as session:
            finding = finding_by_ref(session, ref)
            if expected_version is not None and finding.version != expected_version:
                raise Conflict(
                    f"{ref} changed since version {expected_version} (now version "
                    f"{finding.version}); reload it and try again"
                )
            rules = self.settings.rule_set
            case = case_of(finding)
            if request.action is Action.EXTEND:
                self._check_extension(case, request, rules)
            change = perform(case, request, now=now, calendar=rules.calendar, policy=rules)
            assert finding.id is not None
            data = dict(change.data)
            if plan is not None and request.action is Action.SUBMIT_PLAN:
                data["plan_version"] = add_plan(session, finding.id, plan, request)
            elif request.action in (Action.ACCEPT_PLAN, Action.REJECT_PLAN):
                data["plan_version"] = review_plan(session, finding.id, request)
            if files:
                data["evidence"] = [store_evidence(session, finding.id, f, request) for f in files]
            decision = None
            if change.decision is not None:
                decision = record_decision(session, finding.id, change, request)
            notices = rules.notices_for(request.action, case.severity, case.area)
            if notices:
                data["notifications"] = self._queue_for_action(
                    session, finding, change, request, decision, notices, now
                )
            record_events(
                session,
                event_row(
                    finding,
                    request.action.value,
                    actor=request.actor,
                    at=request.at,
                    now=now,
                    moved=(change.from_state, change.to_state),
                    data=data,
                ),
            )
            self._save_case(session, finding, change.case)
            if not view:
                return {
                    "ref": finding.ref,
                    "state": change.to_state.value,
                    "version": finding.version + 1,
                    "event": {
                        "kind": request.action.value,
                        "from_state": change.from_state.value,
                        "to_state": change.to_state.value,
                        "data": data,
                    },
                }
            session.expire(finding)  # written with a Core UPDATE: read the new values back
            return self._view(session, finding, now)

    def add_evidence(
        self, ref: str, files: Sequence[EvidenceFile], *, actor: str, now: datetime
    ) -> list[dict[str, Any]]:
        """Attach files to a finding without changing its state (recorded in the trail)."""
        self._check_evidence(list(files))
        if not files:
            raise InvalidInput("file: give at least one file")
        with self.db.write() as session:
            finding = finding_by_ref(session, ref)
            assert finding.id is not None
            request = ActionRequest(Action.REPORT_REMEDIATION, actor, now)
            added = [store_evidence(session, finding.id, f, request) for f in files]
            record_events(
                session,
                event_row(finding, "evidence_added", actor=actor, at=now, now=now,
                       data={"evidence": added}),
            )  # fmt: skip
            return added

    def evidence_content(self, ref: str, evidence_id: int) -> tuple[dict[str, Any], bytes]:
        with self.db.read() as session:
            finding = finding_by_ref(session, ref)
            row = session.get(Evidence, evidence_id)
            if row is None or row.finding_id != finding.id:
                raise NotFound(f"evidence {evidence_id} does not belong to {ref}")
            return evidence_view(row), row.content

    def show_finding(self, ref: str, *, now: datetime) -> dict[str, Any]:
        with self.db.read() as session:
            return self._view(session, finding_by_ref(session, ref), now)

    def list_findings(self, flt: FindingFilter, *, now: datetime) -> list[dict[str, Any]]:
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
            if flt.state is not None:
                query = query.where(col(Finding.state) == flt.state)
            if flt.supplier is not None:
                supplier_by_org(session, flt.supplier)
                query = query.where(col(Supplier.org_number) == flt.supplier)
            if flt.overdue:
                query = query.where(overdue_clause(today))
            if flt.limit:
                query = query.limit(flt.limit)
            return [
                summary_view(f, name, org, contract, self.settings, now)
                for f, name, org, contract in session.execute(query).all()
            ]

    # -- sweeps ------------------------------------------------------------------------------

    def sweep(
        self,
        *,
        now: datetime,
        dry_run: bool = False,
        batch: int = 200,
        progress: Callable[[int], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> SweepReport:
        """Apply every ladder step due at ``now``, queueing its emails in the same transaction.

        Reads only findings whose ``next_check_at`` has come (an index range). Idempotent: a
        second sweep at the same moment finds nothing due. A finding whose processing raises
        is logged, pushed back an hour, and does not stop the others (a crash-loop guard).
        ``dry_run`` reports what would happen and writes nothing; ``stop`` is asked between
        batches.
        """
        started = time.perf_counter()
        report = SweepReport(dry_run=dry_run)
        rules = self.settings.rule_set
        if dry_run:
            with self.db.read() as session:
                parties: dict[tuple[int, int], Any] = {}
                for finding in session.execute(due_query(now)).scalars():
                    self._sweep_finding(
                        session, finding, rules, now, report, write=False, cache=parties
                    )
                    if progress:
                        progress(1)
            report.seconds = time.perf_counter() - started
            return report
        self.refresh_schedule(now)
        while not (stop and stop()):  # a worker shutting down finishes the batch in hand
            with self.db.write() as session:
                query = due_query(now).limit(batch)
                if self.db.dialect == "postgresql":
                    # Several workers share the work: each takes rows nobody else holds.
                    query = query.with_for_update(skip_locked=True)
                findings = list(session.execute(query).scalars())
                cache: dict[tuple[int, int], Any] = {}
                plans: list[SweepWrite] = []
                for finding in findings:
                    try:
                        plans.append(
                            self._sweep_finding(
                                session, finding, rules, now, report, write=True, cache=cache
                            )
                        )
                    except Exception as exc:  # the guard: one bad finding never stops the pass
                        self._push_back(session, finding, exc, now, report)
                    if progress:
                        progress(1)
                self._write_sweep(session, plans, now, report)
            if len(findings) < batch:
                break
        report.seconds = time.perf_counter() - started
        return report

    def _write_sweep(
        self, session: Session, plans: list[SweepWrite], now: datetime, report: SweepReport
    ) -> None:
        """Write a batch's outbox rows, events and findings with one statement each; if that
        fails, write finding by finding so that only the one at fault is pushed back."""
        try:
            with session.begin_nested():
                write_plans(session, plans)
            return
        except Exception:
            log.exception("writing a sweep batch failed; writing finding by finding")
        for plan in plans:
            try:
                with session.begin_nested():
                    write_plans(session, [plan])
            except Exception as exc:
                self._push_back(session, plan.finding, exc, now, report)

    def _push_back(
        self, session: Session, finding: Finding, exc: Exception, now: datetime, report: SweepReport
    ) -> None:
        log.error("sweep of %s failed (%s: %s); retrying in an hour", finding.ref,
                  type(exc).__name__, exc, exc_info=exc)  # fmt: skip
        report.errors.append(f"{finding.ref}: {type(exc).__name__}: {exc}")
        session.connection().execute(
            update(Finding)
            .where(col(Finding.id) == finding.id)
            .values(next_check_at=now + RETRY_AFTER_ERROR)
        )

    def count_due(self, *, now: datetime) -> int:
        """How many findings a sweep at ``now`` would look at (an index range count)."""
        with self.db.read() as session:
            query = select(func.count()).where(col(Finding.next_check_at) <= now)
            return int(session.execute(query).scalar_one())

    def _sweep_finding(
        self,
        session: Session,
        finding: Finding,
        rules: Rules,
        now: datetime,
        report: SweepReport,
        *,
        write: bool,
        cache: dict[tuple[int, int], Any] | None = None,
    ) -> SweepWrite:
        """Decide what a sweep does to ``finding`` (pure but for reading who is involved):
        the steps, their rendered emails, the events and the new state. Nothing is written."""
        report.examined += 1
        case = case_of(finding)
        evaluation = engine.evaluate(case, rules, now)
        new = replace(
            case,
            ladder=evaluation.ladder,
            escalation_level=max(case.escalation_level, evaluation.level),
        )
        events: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for step in evaluation.skipped:
            report.skipped += 1
            events.append(step_event(finding, step, now, "step_skipped", case.state))
            report.actions.append(step_summary(finding, step, "skipped"))
        for step in evaluation.due:
            report.steps += 1
            summary = step_summary(finding, step, "applied")
            report.actions.append(summary)
            event = step_event(
                finding, step, now, "reminder" if step.rule.offset < 0 else "escalation", case.state
            )
            events.append(event)
            escalated: dict[str, Any] | None = None
            if step.rule.action == "escalate":
                change = _automatic_escalation(new, step, now, rules)
                if change is None:
                    event["data"]["action_refused"] = (
                        f"escalate is not allowed in {new.state.value}"
                    )
                else:
                    escalated = event_row(
                        finding,
                        Action.ESCALATE.value,
                        at=now,
                        now=now,
                        moved=(change.from_state, change.to_state),
                        data={**change.data, "rule": step.id},
                    )
                    new = change.case
                    report.escalated += 1
                    summary["action"] = "escalate"
            # The email describes the finding as the step leaves it: in sanction review after
            # an escalation, not in the state it is leaving.
            parties = parties_of(session, finding, new, cache)
            if write:
                prepared = self._step_notifications(step, parties, case.deadline_version, now)
                rows += prepared.rows
                report.queued += len(prepared.queued)
                event["data"]["notifications"] = prepared.trail
                missing = prepared.not_sent
            else:
                # Who would get it, without rendering: a dry run counts what it would queue.
                people, missing = outbox.recipients(step.rule.to, parties, self.settings)
                report.queued += len(people)
            report.unreached += [
                Unreached(finding.ref, step.id, step.rule.template, m["role"], m["why"])
                for m in missing
            ]
            if escalated is not None:
                events.append(escalated)
        if events:
            new.last_event_at = max(filter(None, [case.last_event_at, now]))
        # Unless an escalation moved the finding, the evaluation knows its next step already.
        next_check = (
            evaluation.next_check_at
            if new.state is case.state
            else engine.next_check_at(new, rules)
        )
        return SweepWrite(finding, events, rows, saved_params(finding, new, next_check))

    def _step_notifications(
        self, step: engine.DueStep, parties: outbox.Parties, deadline_version: int, now: datetime
    ) -> outbox.Prepared:
        """The emails of a ladder step sent at ``now`` (rendered, not written)."""
        days = (step.deadline - self.settings.calendar.local_date(now)).days
        # A reminder is about the coming deadline; after it, the email's date is what is owed
        # next, which the templates word themselves ("immediately").
        before = step.rule.offset <= 0
        return outbox.prepare(
            self.settings,
            notices=[
                outbox.Notice(
                    step.rule.template, tuple(step.rule.to), step.kind if before else None, step.id
                )
            ],
            parties=parties,
            key=step.key(parties.finding.ref, deadline_version),
            now=now,
            extra={
                "days_left": max(days, 0) if before else None,
                "days_overdue": None if before else max(-days, 0),
            },
            deadline=step.deadline if before else None,
        )

    def refresh_schedule(self, now: datetime, batch: int = 2000) -> int:
        """After a rules change, recompute when each open finding is next due (once per change).

        Works in batches of short transactions, so writers are never held up for long; a
        finding an action changed meanwhile is skipped (the action scheduled it under these
        rules). Workers starting together may both do it: it is idempotent. Returns how many
        findings were rescheduled (0 when the rules did not change)."""
        rules = self.settings.rule_set
        with self.db.read() as session:
            stored = session.get(Setting, RULES_DIGEST)
            if stored is not None and stored.value == rules.digest:
                return 0
            first = stored is None
        count, last_id = 0, 0
        while True:
            with self.db.write() as session:
                findings = (
                    session.execute(
                        select(Finding)
                        .where(col(Finding.state).in_(list(IN_FORCE)), col(Finding.id) > last_id)
                        .order_by(col(Finding.id))
                        .limit(batch)
                    )
                    .scalars()
                    .all()
                )
                if not findings:
                    break
                params = []
                for finding in findings:
                    try:
                        next_check = engine.next_check_at(case_of(finding), rules)
                    except Exception:  # the sweep's guard will report it and push it back
                        log.exception("cannot schedule %s", finding.ref)
                        next_check = now
                    params.append(
                        {"finding": finding.id, "loaded": finding.version, "next": next_check}
                    )
                session.connection().execute(RESCHEDULE, params)
                count += len(findings)
                last_id = findings[-1].id or last_id
        with self.db.write() as session:
            statement = insert_for(session.get_bind().dialect.name, Setting).values(
                key=RULES_DIGEST, value=rules.digest, updated_at=now
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"],
                    set_={"value": rules.digest, "updated_at": now},
                )
            )
        log.info(
            "%s (digest %s): scheduled %d open finding(s)",
            "rules recorded" if first else "rules changed",
            rules.digest,
            count,
        )
        return count

    def timeline(self, ref: str, *, now: datetime) -> dict[str, Any]:
        """A finding's history and what the rules will do next, with dates; each step still
        to take says whether the next sweep applies it, passes over it (catch-up) or waits."""
        rules = self.settings.rule_set
        with self.db.read() as session:
            finding = finding_by_ref(session, ref)
            events = session.execute(
                select(Event).where(col(Event.finding_id) == finding.id).order_by(col(Event.id))
            ).scalars()
            upcoming = [
                entry.as_dict()
                for entry in engine.timeline(case_of(finding), rules, now)
                if not entry.done
            ]
            return {
                "ref": finding.ref,
                "state": finding.state.value,
                "events": [event_view(e) for e in events],
                "upcoming": upcoming,
            }

    def preview_email(self, kind: str, language: str, ref: str, *, now: datetime) -> EmailPreview:
        """``kind`` for a real finding as its reader gets it: the latest such email queued for
        the finding (in ``language`` if one was), else the one the rules would send, rendered
        as sending renders it, for the first person it reaches."""
        with self.db.read() as session:
            finding = finding_by_ref(session, ref)
            stored = (
                session.execute(
                    select(OutboxMessage)
                    .where(
                        col(OutboxMessage.finding_id) == finding.id,
                        col(OutboxMessage.kind) == kind,
                    )
                    # The latest cause first, and of its recipients the first, as below.
                    .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id))
                )
                .scalars()
                .all()
            )
            if stored:
                m = next((m for m in stored if m.language == language), stored[0])
                return EmailPreview(
                    m.subject, m.text_body, m.html_body, m.language, m.recipient_role,
                    m.recipient, m.created_at,
                )  # fmt: skip
            from jinja2 import UndefinedError  # loaded with the templates, by rendering

            try:
                rows = self._unsent_email(session, finding, kind, now)
            except UndefinedError:
                raise ActionRefused(
                    f"finding: {ref} ({finding.state.value}) lacks what a {kind} email says "
                    "(a date, a reason or a decision); preview it without --finding for sample "
                    "data"
                ) from None
            row = next((r for r in rows if r["language"] == language), rows[0])
            return EmailPreview(
                row["subject"], row["text_body"], row["html_body"], row["language"],
                row["recipient_role"], row["recipient"], None,
            )  # fmt: skip

    def _unsent_email(
        self, session: Session, finding: Finding, kind: str, now: datetime
    ) -> list[dict[str, Any]]:
        """The outbox rows the first rule sending ``kind`` that reaches someone would write
        for ``finding``: a ladder step in force (as the sweep would send it, when it falls
        due), else a notice (as the action would send it, now)."""
        rules = self.settings.rule_set
        case = case_of(finding)
        if case.state is State.OPEN:
            # Every email names deadlines that notifying sets: show the finding notified now.
            request = ActionRequest(Action.NOTIFY, SYSTEM_ACTOR, now)
            case = perform(case, request, now=now, calendar=rules.calendar, policy=rules).case
        marks = case.ladder
        steps = sorted(
            (
                step
                for deadline in IN_FORCE.get(case.state, ())
                for step in engine.ladder_steps(case, deadline, rules)
                if step.rule.template == kind
            ),
            # Steps still to come first: one already taken either sent its email or had
            # nobody to send it to.
            key=lambda s: (
                (mark := marks.get(s.kind)) is not None
                and mark.due == s.deadline
                and mark.done_until is not None
                and s.due_at <= mark.done_until,
                s.due_at,
            ),
        )
        notices = sorted(
            (
                n
                for n in rules.notices
                if n.template == kind and n.matches(case.severity, case.area)
            ),
            key=lambda n: n.on not in allowed_actions(case.state),
        )
        missing: list[str] = []
        for step in steps:
            at = max(now, step.due_at)
            stepped = replace(case, escalation_level=max(case.escalation_level, step.rule.level))
            if step.rule.action == "escalate":
                change = _automatic_escalation(stepped, step, at, rules)
                stepped = change.case if change is not None else stepped
            parties = parties_of(session, finding, stepped)
            prepared = self._step_notifications(step, parties, case.deadline_version, at)
            if prepared.rows:
                return prepared.rows
            missing += [m["why"] for m in prepared.not_sent]
        extra = _latest_context(session, finding) if notices else {}
        for notice in notices:
            acted = case
            if notice.on in allowed_actions(case.state):
                request = ActionRequest(
                    notice.on, SYSTEM_ACTOR, now, reason=extra["reason"], note=extra["note"]
                )
                # An action that needs what nobody gave yet (a date) leaves the finding as is.
                with contextlib.suppress(CapError):
                    acted = perform(
                        case, request, now=now, calendar=rules.calendar, policy=rules
                    ).case
            prepared = outbox.prepare(
                self.settings,
                notices=[outbox.Notice(kind, tuple(notice.to), notice.deadline, notice.id)],
                parties=parties_of(session, finding, acted),
                key=f"{finding.ref}/v{finding.version + 1}",
                now=now,
                extra=extra,
            )
            if prepared.rows:
                return prepared.rows
            missing += [m["why"] for m in prepared.not_sent]
        if missing:
            raise ActionRefused(
                f"finding: a {kind} email for {finding.ref} would reach nobody: "
                f"{'; '.join(dict.fromkeys(missing))}"
            )
        raise ActionRefused(
            f"finding: no rule sends {kind} for {finding.ref} ({case.state.value}, "
            f"{case.severity.value}, {case.area.value}) and none was queued; preview it without "
            "--finding for sample data"
        )

    def queue_digests(self, *, now: datetime, horizon_days: int = 14) -> list[dict[str, Any]]:
        """Queue today's digest for each contract manager with findings overdue or due within
        ``horizon_days``; at most one per manager and local day, however often it runs."""
        calendar = self.settings.calendar
        today = calendar.local_date(now)
        horizon = today + timedelta(days=horizon_days)
        per_manager: dict[str, list[dict[str, Any]]] = {}
        with self.db.write() as session:
            rows = session.execute(
                select(Finding, col(Contract.manager_email))
                .join(Contract, col(Contract.id) == col(Finding.contract_id))
                .where(col(Finding.state).in_(list(IN_FORCE)))
                .order_by(col(Finding.id))
            ).all()
            for finding, manager in rows:
                current = current_deadline(case_of(finding))
                if current is None or current[1] > horizon:
                    continue
                per_manager.setdefault(manager, []).append(
                    {
                        "ref": finding.ref,
                        "title": finding.title,
                        "state": finding.state,
                        "due": current[1],
                        "overdue": calendar.is_overdue(current[1], now),
                        "link": outbox_links.finding_link(self.settings, finding.ref),
                    }
                )
            queued = []
            for manager, findings in sorted(per_manager.items()):
                if outbox.queue_digest(
                    session,
                    self.settings,
                    recipient=manager,
                    findings=findings,
                    today=today,
                    now=now,
                ):
                    queued.append({"to": manager, "findings": len(findings)})
            return queued

    def reapply_rules(self, *, now: datetime, dry_run: bool = False) -> list[dict[str, Any]]:
        """Recompute the deadlines the rules set on open findings under the current rules.

        A deadline a person chose (an extension, a revision date typed in) is kept. Each change
        is returned (and, unless ``dry_run``, written with an event) so it can be shown first.
        """
        rules = self.settings.rule_set
        changes: list[dict[str, Any]] = []
        with self.db.read() if dry_run else self.db.write() as session:
            open_states = [*IN_FORCE, State.SANCTION_REVIEW]
            query = (
                select(Finding).where(col(Finding.state).in_(open_states)).order_by(col(Finding.id))
            )
            for finding in list(session.execute(query).scalars()):
                case = case_of(finding)
                new = replace(case)
                moved: list[DeadlineChange] = []
                state = case.return_state if case.state is State.SANCTION_REVIEW else case.state
                binding = IN_FORCE.get(state, ()) if state is not None else ()
                for kind, origin in deadline_origins(session, finding).items():
                    if kind not in binding:  # a deadline already met is history
                        continue
                    due = rules.calendar.due_date(
                        origin.at, rules.period(origin.limit, case.severity, case.area)
                    )
                    current = deadline_of(case, kind)
                    if current is not None and due != current:
                        moved.append(set_deadline(new, kind, due, now))
                for change in moved:
                    changes.append({"ref": finding.ref, **change.as_data()})
                if dry_run or not moved:
                    continue
                new.deadline_version += 1
                new.escalation_level = 0 if new.state is not State.SANCTION_REVIEW else 3
                new.last_event_at = max(filter(None, [case.last_event_at, now]))
                record_events(
                    session,
                    event_row(
                        finding,
                        "rules_reapplied",
                        at=now,
                        now=now,
                        data={"rules": rules.digest, "deadlines": [c.as_data() for c in moved]},
                    ),
                )
                self._save_case(session, finding, new)
        return changes

    # -- outbox ------------------------------------------------------------------------------

    def list_outbox(
        self, status: OutboxStatus | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        with self.db.read() as session:
            query = (
                select(OutboxMessage, col(Finding.ref))
                .outerjoin(Finding, col(Finding.id) == col(OutboxMessage.finding_id))
                .order_by(col(OutboxMessage.id).desc())
                .limit(limit)
            )
            if status is not None:
                query = query.where(col(OutboxMessage.status) == status)
            return [outbox_view(m, ref) for m, ref in session.execute(query).all()]

    def retry_message(self, message_id: int, *, now: datetime) -> dict[str, Any]:
        """Put a failed message back in the queue, due now, with a fresh retry horizon."""
        with self.db.write() as session:
            message = session.get(OutboxMessage, message_id)
            if message is None:
                raise NotFound(f"message {message_id} does not exist (see `cap outbox list`)")
            if message.status is not OutboxStatus.FAILED:
                raise ActionRefused(
                    f"message {message_id} is {message.status.value}; only failed messages "
                    "can be retried"
                )
            message.status = OutboxStatus.QUEUED
            message.next_attempt_at = now
            message.queued_at = now
            session.flush()
            finding = session.get(Finding, message.finding_id) if message.finding_id else None
            return outbox_view(message, finding.ref if finding else None)

    # -- internals ---------------------------------------------------------------------------

    def _check_evidence(self, files: list[EvidenceFile]) -> None:
        limit = self.settings.evidence_max_bytes
        for f in files:
            if len(f.content) > limit:
                raise InvalidInput(
                    f"file: {f.file_name} is {len(f.content):,} bytes; the limit is {limit:,} "
                    "(CAP_EVIDENCE_MAX_BYTES)"
                )
            name = PurePath(f.file_name.replace("\\", "/")).name
            if not name or any(ord(ch) < 32 for ch in name) or len(name) > 255:
                raise InvalidInput(f"file: {f.file_name!r} is not a usable file name")

    def _save_case(self, session: Session, finding: Finding, case: Case) -> None:
        """Write ``case`` over ``finding`` if nobody changed it since it was loaded."""
        params = saved_params(finding, case, engine.next_check_at(case, self.settings.rule_set))
        # A Core statement built once, on the session's connection: this runs on every action
        # and every swept finding, and building SQLAlchemy statements is not free.
        result = session.connection().execute(SAVE_FINDING, params)
        if result.rowcount != 1:
            raise Conflict(
                f"{finding.ref} was changed by someone else at the same time; nothing was "
                "recorded, reload it and try again"
            )

    def _check_extension(self, case: Case, request: ActionRequest, rules: Rules) -> None:
        """The rules may cap extensions and say whose decision an extension is."""
        limits = rules.extensions
        if limits.max is not None and case.extensions >= limits.max:
            raise ActionRefused(
                f"cannot extend: the finding had {case.extensions} extension(s), the rules allow "
                f"{limits.max}; escalate to a sanction review instead"
            )
        if limits.approvers:
            allowed = {a.casefold() for role in limits.approvers for a in self._addresses(role)}
            if request.actor.casefold() not in allowed:
                names = ", ".join(r.value for r in limits.approvers)
                raise ActionRefused(
                    f"cannot extend: extensions are decided by {names}; {request.actor} is not "
                    "one of them (see CAP_DECISION_MAKERS, CAP_SUSTAINABILITY_MANAGER)"
                )

    def _addresses(self, role: Role) -> list[str]:
        if role is Role.DECISION_MAKERS:
            return self.settings.decision_maker_addresses
        if role is Role.SUSTAINABILITY_MANAGER:
            return self.settings.sustainability_manager_addresses
        return []

    def _queue_for_action(
        self,
        session: Session,
        finding: Finding,
        change: Change,
        request: ActionRequest,
        decision: Decision | None,
        notices: Sequence[NoticeRule],
        now: datetime,
    ) -> dict[str, list[dict[str, str]]]:
        parties = parties_of(session, finding, change.case)
        # An extension's email is about the date it set; the others name their deadline.
        deadline = (
            change.deadline_changes[-1].new
            if request.action is Action.EXTEND and change.deadline_changes
            else None
        )
        return outbox.queue(
            session,
            self.settings,
            notices=[outbox.Notice(n.template, tuple(n.to), n.deadline, n.id) for n in notices],
            parties=parties,
            # The finding's version after this action names the action uniquely.
            key=f"{finding.ref}/v{finding.version + 1}",
            now=now,
            extra=_action_context(request.reason, request.note, decision),
            deadline=deadline,
        )

    def _view(self, session: Session, finding: Finding, now: datetime) -> dict[str, Any]:
        assert finding.id is not None
        supplier = session.get(Supplier, finding.supplier_id)
        contract = session.get(Contract, finding.contract_id)
        assert supplier is not None and contract is not None
        view = summary_view(
            finding, supplier.name, supplier.org_number, contract.reference, self.settings, now
        )
        events = session.execute(
            select(Event).where(col(Event.finding_id) == finding.id).order_by(col(Event.id))
        ).scalars()
        plans = session.execute(
            select(Plan).where(col(Plan.finding_id) == finding.id).order_by(col(Plan.version))
        ).scalars()
        decisions = session.execute(
            select(Decision)
            .where(col(Decision.finding_id) == finding.id)
            .order_by(col(Decision.id))
        ).scalars()
        evidence = session.execute(
            select(Evidence)
            .options(defer(Evidence.content))  # type: ignore[arg-type]
            .where(col(Evidence.finding_id) == finding.id)
            .order_by(col(Evidence.id))
        ).scalars()
        view.update(
            {
                "description": finding.description,
                "source": finding.source.value,
                "site": finding.site,
                "site_country": finding.site_country,
                "external_id": finding.external_id,
                "found_on": finding.found_on.isoformat(),
                "notified_at": iso(finding.notified_at),
                "supplier_country": supplier.country,
                "contract_manager": contract.manager_email,
                "return_state": finding.return_state.value if finding.return_state else None,
                "termination_proposed_by": finding.termination_proposed_by,
                "extensions": finding.extensions,
                "deadline_version": finding.deadline_version,
                "next_check_at": iso(finding.next_check_at),
                "version": finding.version,
                "created_at": iso(finding.created_at),
                "created_by": finding.created_by,
                "allowed_actions": [a.label for a in available_actions(case_of(finding))],
                "plans": [plan_view(p) for p in plans],
                "evidence": [evidence_view(e) for e in evidence],
                "decisions": [decision_view(d) for d in decisions],
                "events": [event_view(e) for e in events],
            }
        )
        return view
