"""Suppliers scored by the risk rules, for `cap risk` and the follow-up plan.

The facts of every supplier are read with a handful of aggregate queries (suppliers, contract
values, findings counted by state and severity, sites, last audits), whatever the number of
suppliers; the scoring is :func:`cap.domain.risk.score_supplier`'s.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Integer, func, literal_column, or_, select, union_all
from sqlmodel import Session, col

from cap.domain.model import Severity, Source, State
from cap.domain.risk import (
    CountryRisk,
    FactorScore,
    RiskRules,
    Site,
    SupplierFacts,
    score_supplier,
)
from cap.store.models import Audit, Contract, Finding, SharedAudit, Supplier
from cap.workflow.base import UseCases
from cap.workflow.records import supplier_by_org

#: Findings that count as past: the case ended with the supplier (a withdrawn finding was
#: logged in error and never counts, nor do its site and date).
PAST_STATES: tuple[State, ...] = (State.CLOSED, State.TERMINATED)
#: The findings whose date stands for an audit for a supplier with no audit recorded.
AUDIT_SOURCES: tuple[Source, ...] = (Source.FACTORY_AUDIT, Source.DESKTOP_AUDIT)


@dataclass(frozen=True)
class SupplierRisk:
    """A supplier's risk on ``as_of`` (the buyer's date): the score from 0 to 100, the factor
    that gives it the most points, and the breakdown (each factor, each country of
    production)."""

    org_number: str
    name: str
    country: str
    as_of: date
    score: float
    top_factor: str | None
    factors: tuple[FactorScore, ...]
    countries: tuple[CountryRisk, ...]


@dataclass
class _Facts:
    """A supplier's facts as the queries gather them."""

    org_number: str
    name: str
    country: str
    sites: list[Site] = field(default_factory=list)
    contract_value: Decimal = Decimal(0)
    open_findings: Counter[Severity] = field(default_factory=Counter)
    past_findings: Counter[Severity] = field(default_factory=Counter)
    last_audit: date | None = None


class Risks(UseCases):
    def supplier_risks(self, *, now: datetime) -> list[SupplierRisk]:
        """Every supplier's risk, the highest score first; equal scores by name."""
        rules, today = self.settings.risk_rule_set, self._today(now)  # broken rules: at once
        with self.db.read() as session:
            facts = _gather(session, None, today)
        risks = [_scored(f, rules, today) for f in facts.values()]
        return sorted(risks, key=lambda r: (-r.score, r.name, r.org_number))

    def supplier_risk(self, org_number: str, *, now: datetime) -> SupplierRisk:
        """One supplier's risk; NotFound for an unknown organisation number."""
        rules, today = self.settings.risk_rule_set, self._today(now)
        with self.db.read() as session:
            supplier = supplier_by_org(session, org_number)
            assert supplier.id is not None
            facts = _gather(session, supplier.id, today)
        return _scored(facts[supplier.id], rules, today)

    def _today(self, now: datetime) -> date:
        return now.astimezone(self.settings.calendar.tz).date()


def _scored(facts: _Facts, rules: RiskRules, today: date) -> SupplierRisk:
    scored = score_supplier(
        SupplierFacts(
            country=facts.country,
            sites=tuple(facts.sites),
            contract_value=facts.contract_value,
            open_findings=facts.open_findings,
            past_findings=facts.past_findings,
            last_audit=facts.last_audit,
        ),
        rules,
        today=today,
    )
    return SupplierRisk(
        org_number=facts.org_number,
        name=facts.name,
        country=facts.country,
        as_of=today,
        score=scored.score,
        top_factor=scored.top_factor,
        factors=scored.factors,
        countries=scored.countries,
    )


def _gather(session: Session, supplier_id: int | None, today: date) -> dict[int, _Facts]:
    """The facts of one supplier (``supplier_id``) or of all, by supplier id: five queries."""

    def mine(column: Any) -> list[ColumnElement[bool]]:
        return [] if supplier_id is None else [column == supplier_id]

    supplier = select(
        col(Supplier.id), col(Supplier.org_number), col(Supplier.name), col(Supplier.country)
    ).where(*mine(col(Supplier.id)))
    facts = {
        sid: _Facts(org, name, country) for sid, org, name, country in session.execute(supplier)
    }

    in_force = or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= today)
    values = (
        select(col(Contract.supplier_id), func.sum(col(Contract.value)))
        .where(in_force, *mine(col(Contract.supplier_id)))
        .group_by(col(Contract.supplier_id))
    )
    for sid, total in session.execute(values):
        facts[sid].contract_value = _decimal(total)

    counted = [col(Finding.state) != State.WITHDRAWN, *mine(col(Finding.supplier_id))]
    counts = (
        select(col(Finding.supplier_id), col(Finding.state), col(Finding.severity), func.count())
        .where(*counted)
        .group_by(col(Finding.supplier_id), col(Finding.state), col(Finding.severity))
    )
    for sid, state, severity, count in session.execute(counts):
        counter = facts[sid].past_findings if state in PAST_STATES else facts[sid].open_findings
        counter[Severity(severity)] += count

    sites = (
        select(col(Finding.supplier_id), col(Finding.site_country), col(Finding.site))
        .where(*counted, col(Finding.site_country).is_not(None))
        .distinct()
    )
    for sid, country, site in session.execute(sites):
        facts[sid].sites.append(Site(country, site))

    # The last audit recorded, ours or one another buyer shared (an audit is not held twice
    # for two buyers), or failing one the last finding of an audit: one query.
    recorded = (
        select(col(Audit.supplier_id), func.max(col(Audit.held_on)), _flag("1"))
        .where(*mine(col(Audit.supplier_id)))
        .group_by(col(Audit.supplier_id))
    )
    shared = (
        select(col(SharedAudit.supplier_id), func.max(col(SharedAudit.held_on)), _flag("1"))
        .where(*mine(col(SharedAudit.supplier_id)))
        .group_by(col(SharedAudit.supplier_id))
    )
    stand_in = (
        select(col(Finding.supplier_id), func.max(col(Finding.found_on)), _flag("0"))
        .where(*counted, col(Finding.source).in_(AUDIT_SOURCES))
        .group_by(col(Finding.supplier_id))
    )
    audited: set[int] = set()
    for sid, last, is_recorded in session.execute(union_all(recorded, shared, stand_in)):
        day = _date(last)
        if is_recorded:
            known = facts[sid].last_audit if sid in audited else None
            audited.add(sid)
            facts[sid].last_audit = max(day, known) if known and day else day or known
        elif sid not in audited:
            facts[sid].last_audit = day
    return facts


def risks_in(
    session: Session, rules: RiskRules, today: date
) -> dict[int, tuple[SupplierRisk, date | None]]:
    """Every supplier's risk on ``today`` and its last audit as the risk counts it, by
    supplier id, read in ``session`` (for a use case scoring suppliers in its own
    transaction)."""
    return {
        sid: (_scored(f, rules, today), f.last_audit)
        for sid, f in _gather(session, None, today).items()
    }


def _flag(value: str) -> ColumnElement[int]:
    """A constant column telling the rows of a UNION apart."""
    return literal_column(value, Integer())


def _decimal(value: Any) -> Decimal:
    """A sum of values as a Decimal (SQLite's SUM of NUMERIC may come back as a float)."""
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _date(value: Any) -> date | None:
    """MAX of a date column: a date, or on SQLite its ISO text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
