"""Use cases: audits held, and the yearly follow-up plan that chooses whom to audit.

A year has one plan (:mod:`cap.domain.planning` chooses, from the suppliers' risk scores). It
may be made again, replacing the earlier one, until an audit is recorded against it: from then
on it is the record of what was decided. An audit is recorded against its year's plan when the
plan chose its supplier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, union_all
from sqlmodel import Session, col

from cap.domain.inputs import Day, Line, Reference
from cap.domain.planning import (
    AuditKind,
    Candidate,
    ContractPeriod,
    HeldAudit,
    LeftOut,
    Selection,
    choose,
    parse_capacity,
)
from cap.domain.risk import RiskRules
from cap.errors import ActionRefused, InvalidInput, NotFound
from cap.store.models import Audit, AuditPlan, Contract, SharedAudit, Supplier
from cap.workflow.base import UseCases
from cap.workflow.records import supplier_by_org
from cap.workflow.risk import risks_in

#: How far back an audit may be dated: an older date is a typo more likely than an audit.
OLDEST_AUDIT_YEARS = 30


class AuditInput(BaseModel):
    """An audit held: of the supplier (organisation number), for one of its contracts if
    named, on ``date``, by ``auditor``, with the reference of its ``report``."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=20_000)

    supplier: Annotated[Reference, Field(max_length=40)]
    kind: AuditKind
    date: Day
    auditor: Annotated[Line, Field(max_length=200)]
    report: Annotated[Line, Field(max_length=200)]
    contract: Annotated[Reference, Field(max_length=80)] | None = None


@dataclass(frozen=True)
class AuditView:
    id: int
    supplier_org_number: str
    supplier: str  # the supplier's name
    contract: str | None  # its reference
    kind: AuditKind
    held_on: date
    auditor: str
    report: str
    plan_year: int | None  # the year of the plan it is recorded against
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class PlannedAudit:
    """A supplier the plan chose: its score and why, and the audits recorded against the plan
    for it since (ids)."""

    org_number: str
    score: float
    why: str
    name: str | None  # None: no supplier has that organisation number any more
    audits: tuple[int, ...] = ()


@dataclass(frozen=True)
class AuditPlanView:
    """A year's plan, the highest score first. ``in_force`` (the suppliers with a contract in
    force that year) and ``left_out`` (by the one-audit rule) are known when the plan is made;
    a saved plan shown later keeps only its choices (both None)."""

    year: int
    capacity: str
    in_force: int | None
    chosen: tuple[PlannedAudit, ...]
    left_out: tuple[LeftOut, ...] | None
    saved: bool
    created_at: datetime | None
    created_by: str | None


class Audits(UseCases):
    def plan_audits(
        self, year: int, capacity: str, *, actor: str, now: datetime, save: bool = True
    ) -> AuditPlanView:
        """Choose the suppliers to audit in ``year`` (see :mod:`cap.domain.planning`) by their
        risk today; ``capacity``: ``15%`` of the suppliers with a contract in force that year,
        or a number of audits. Saved (``save``), it replaces the year's earlier plan, unless
        an audit is recorded against that one (ActionRefused)."""
        wanted = parse_capacity(capacity)
        self._check_year(year)
        rules, today = self.settings.risk_rule_set, self.settings.calendar.local_date(now)
        with self.db.write() if save else self.db.read() as session:
            candidates, held = _candidates(session, rules, today)
            selection = choose(year, candidates, wanted, held)
            chosen = tuple(
                PlannedAudit(c.org_number, c.score, c.why, c.name) for c in selection.chosen
            )
            if not save:
                return _planned(selection, chosen, saved=False, at=None, by=None)
            _save_plan(session, selection, actor=actor, now=now, tz=self.settings.calendar.tz)
        return _planned(selection, chosen, saved=True, at=now, by=actor)

    def show_audit_plan(self, year: int) -> AuditPlanView:
        """The saved plan of ``year``, with the audits recorded against it; NotFound if there
        is none."""
        with self.db.read() as session:
            plan = session.execute(
                select(AuditPlan).where(col(AuditPlan.year) == year)
            ).scalar_one_or_none()
            if plan is None:
                raise NotFound(
                    f"year: there is no audit plan for {year}",
                    see=f"cap plan audits --year {year}",
                )
            wanted = [c["org_number"] for c in plan.chosen]
            names: dict[str, str] = {
                org: name
                for org, name in session.execute(
                    select(col(Supplier.org_number), col(Supplier.name)).where(
                        col(Supplier.org_number).in_(wanted)
                    )
                )
            }
            recorded: dict[str, list[int]] = {}
            for audit_id, org in session.execute(
                select(col(Audit.id), col(Supplier.org_number))
                .join(Supplier, col(Supplier.id) == col(Audit.supplier_id))
                .where(col(Audit.plan_id) == plan.id)
                .order_by(col(Audit.id))
            ):
                recorded.setdefault(org, []).append(audit_id)
        return AuditPlanView(
            year=plan.year,
            capacity=plan.capacity,
            in_force=None,
            chosen=tuple(
                PlannedAudit(
                    c["org_number"],
                    c["score"],
                    c["why"],
                    names.get(c["org_number"]),
                    tuple(recorded.get(c["org_number"], ())),
                )
                for c in plan.chosen
            ),
            left_out=None,
            saved=True,
            created_at=plan.created_at,
            created_by=plan.created_by,
        )

    def add_audit(self, data: AuditInput, *, actor: str, now: datetime) -> AuditView:
        """Record an audit held; against its year's plan if that chose the supplier. The date
        may not be in the future nor absurdly old (InvalidInput); an unknown supplier or
        contract is NotFound, a contract of another supplier InvalidInput."""
        today = self.settings.calendar.local_date(now)
        if data.date > today:
            raise InvalidInput(
                f"date: {data.date.isoformat()} is in the future (today is "
                f"{today.isoformat()}); record an audit once it has been held"
            )
        oldest = date(today.year - OLDEST_AUDIT_YEARS, 1, 1)
        if data.date < oldest:
            raise InvalidInput(
                f"date: {data.date.isoformat()} is before {oldest.isoformat()}, more than "
                f"{OLDEST_AUDIT_YEARS} years ago; check the year"
            )
        with self.db.write() as session:
            supplier = supplier_by_org(session, data.supplier)
            contract = _contract_of(session, data.contract, supplier)
            # Read under a share lock: the plan cannot be replaced until this audit commits.
            plan = session.execute(
                select(AuditPlan)
                .where(col(AuditPlan.year) == data.date.year)
                .with_for_update(read=True)
            ).scalar_one_or_none()
            chosen = plan is not None and any(
                c["org_number"] == supplier.org_number for c in plan.chosen
            )
            audit = Audit(
                supplier_id=supplier.id or 0,
                contract_id=contract.id if contract else None,
                kind=data.kind,
                held_on=data.date,
                auditor=data.auditor,
                report=data.report,
                plan_id=plan.id if plan is not None and chosen else None,
                created_at=now,
                created_by=actor,
            )
            session.add(audit)
            session.flush()
            return _audit_view(
                audit, supplier, contract.reference if contract else None,
                data.date.year if audit.plan_id else None,
            )  # fmt: skip

    def list_audits(self, org_number: str | None = None) -> list[AuditView]:
        """The audits held (of one supplier, if given: NotFound if unknown), the latest
        first."""
        with self.db.read() as session:
            query = (
                select(Audit, Supplier, col(Contract.reference), col(AuditPlan.year))
                .join(Supplier, col(Supplier.id) == col(Audit.supplier_id))
                .outerjoin(Contract, col(Contract.id) == col(Audit.contract_id))
                .outerjoin(AuditPlan, col(AuditPlan.id) == col(Audit.plan_id))
                .order_by(col(Audit.held_on).desc(), col(Audit.id).desc())
            )
            if org_number is not None:
                supplier = supplier_by_org(session, org_number)
                query = query.where(col(Audit.supplier_id) == supplier.id)
            return [_audit_view(a, s, ref, year) for a, s, ref, year in session.execute(query)]

    def _check_year(self, year: int) -> None:
        first, last = self.settings.calendar.covered_years()
        if not first <= year <= last:
            raise InvalidInput(
                f"year: {year} is outside the years the calendar covers ({first}-{last})"
            )


def _candidates(
    session: Session, rules: RiskRules, today: date
) -> tuple[list[Candidate], list[HeldAudit]]:
    """Every supplier with its risk and contracts, and the audits held: two queries besides
    the risks', whatever the number of suppliers."""
    risks = risks_in(session, rules, today)
    contracts: dict[int, list[ContractPeriod]] = {}
    for sid, ref, start, end in session.execute(
        select(
            col(Contract.supplier_id), col(Contract.reference), col(Contract.start_date),
            col(Contract.end_date),
        ).order_by(col(Contract.reference))
    ):  # fmt: skip
        contracts.setdefault(sid, []).append(ContractPeriod(ref, start, end))
    # Another buyer's shared audit counts as one held: no supplier is audited twice.
    held = [
        HeldAudit(risks[sid][0].org_number, AuditKind(kind), held_on)
        for sid, kind, held_on in session.execute(
            union_all(
                select(col(Audit.supplier_id), col(Audit.kind), col(Audit.held_on)),
                select(
                    col(SharedAudit.supplier_id), col(SharedAudit.kind), col(SharedAudit.held_on)
                ),
            )
        )
    ]
    candidates = [
        Candidate(
            org_number=risk.org_number,
            name=risk.name,
            score=risk.score,
            top_factor=risk.top_factor,
            last_audit=last_audit,
            contracts=tuple(contracts.get(sid, ())),
        )
        for sid, (risk, last_audit) in risks.items()
    ]
    return candidates, held


def _save_plan(
    session: Session, selection: Selection, *, actor: str, now: datetime, tz: tzinfo
) -> None:
    """Write the year's plan, over an earlier one no audit is recorded against."""
    chosen = [{"org_number": c.org_number, "score": c.score, "why": c.why}
              for c in selection.chosen]  # fmt: skip
    # Locked: an audit recorded against the earlier plan meanwhile waits, then finds this one.
    earlier = session.execute(
        select(AuditPlan).where(col(AuditPlan.year) == selection.year).with_for_update()
    ).scalar_one_or_none()
    if earlier is None:
        session.add(
            AuditPlan(year=selection.year, capacity=selection.capacity.text, chosen=chosen,
                      created_at=now, created_by=actor)
        )  # fmt: skip
        return
    audits = session.execute(
        select(func.count()).select_from(Audit).where(col(Audit.plan_id) == earlier.id)
    ).scalar_one()
    if audits:
        made = earlier.created_at.astimezone(tz).date().isoformat()
        raise ActionRefused(
            f"year: the audit plan for {selection.year} has {audits} audit"
            f"{'s' if audits > 1 else ''} recorded against it, so it stands as made on "
            f"{made} by {earlier.created_by}; nothing was changed",
            see=f"cap plan show --year {selection.year}",
        )
    earlier.capacity = selection.capacity.text
    earlier.chosen = chosen
    earlier.created_at = now
    earlier.created_by = actor
    session.add(earlier)


def _planned(
    selection: Selection,
    chosen: tuple[PlannedAudit, ...],
    *,
    saved: bool,
    at: datetime | None,
    by: str | None,
) -> AuditPlanView:
    return AuditPlanView(
        year=selection.year,
        capacity=selection.capacity.text,
        in_force=selection.in_force,
        chosen=chosen,
        left_out=selection.left_out,
        saved=saved,
        created_at=at,
        created_by=by,
    )


def _contract_of(session: Session, reference: str | None, supplier: Supplier) -> Contract | None:
    """The contract named (None for none): NotFound if unknown, InvalidInput if another
    supplier's."""
    if reference is None:
        return None
    contract: Contract | None = session.execute(
        select(Contract).where(col(Contract.reference) == reference)
    ).scalar_one_or_none()
    if contract is None:
        raise NotFound(f"contract: {reference} does not exist", see="cap contract list")
    if contract.supplier_id != supplier.id:
        raise InvalidInput(
            f"contract: {reference} is not a contract of {supplier.name} ({supplier.org_number})"
        )
    return contract


def _audit_view(
    audit: Audit, supplier: Supplier, contract: str | None, plan_year: int | None
) -> AuditView:
    assert audit.id is not None
    return AuditView(
        id=audit.id,
        supplier_org_number=supplier.org_number,
        supplier=supplier.name,
        contract=contract,
        kind=AuditKind(audit.kind),
        held_on=audit.held_on,
        auditor=audit.auditor,
        report=audit.report,
        plan_year=plan_year,
        created_at=audit.created_at,
        created_by=audit.created_by,
    )
