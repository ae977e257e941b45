"""The yearly follow-up plan: which suppliers to audit in a year. Pure: facts in, a choice out.

The case study follows up 10-15% of its high-risk suppliers a year, and holds a desktop audit
once per supplier per contract period: one audit covers every contract of the supplier whose
period (start..end) it falls in. So a year's plan:

- counts the suppliers with a contract in force that year (the base of a percentage);
- leaves out, with the reason, a supplier whose contracts in force that year all had a desktop
  audit within their period already (a site audit does not count: it is another kind of
  follow-up);
- chooses from the others the highest risk scores first (equal scores by name), as many as the
  capacity allows, each with the reason it was chosen.

Standard library only: the command line imports :class:`AuditKind` to offer its values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from cap.errors import InvalidInput


class AuditKind(StrEnum):
    DESKTOP = "desktop"  # documents and routines, by a consultant: once per contract period
    SITE = "site"  # a visit to a factory or site


_PERCENT = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,2})?)\s*%")
_COUNT = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class Capacity:
    """How many audits a year allows: a share of the suppliers with a contract in force that
    year (``percent``), or a number of audits (``count``); ``text`` as it was given."""

    text: str
    percent: Decimal | None = None
    count: int | None = None

    def slots(self, in_force: int) -> int:
        """The number of audits for ``in_force`` suppliers: a percentage rounded to the nearest
        whole audit (halves up), and at least one while any supplier is in force (a share too
        small to make one audit still means "audit someone")."""
        if self.count is not None:
            return self.count
        assert self.percent is not None
        share = (Decimal(in_force) * self.percent / 100).quantize(Decimal(1), ROUND_HALF_UP)
        return max(int(share), 1 if in_force else 0)


def parse_capacity(text: str) -> Capacity:
    """``15%`` (more than 0, at most 100) or ``12`` (a whole number from 1); else
    InvalidInput naming ``capacity``."""
    given = text.strip()
    percent = _PERCENT.fullmatch(given)
    if percent:
        share = Decimal(percent.group(1))
        if not 0 < share <= 100:
            raise InvalidInput(
                f"capacity: {given!r} is not a share of the suppliers; give more than 0% and at "
                "most 100%"
            )
        return Capacity(f"{share.normalize():f}%", percent=share)
    if _COUNT.fullmatch(given):
        count = int(given)
        if count < 1:
            raise InvalidInput(f"capacity: {given!r} plans no audit; give 1 or more")
        return Capacity(str(count), count=count)
    raise InvalidInput(
        f"capacity: {given!r} is neither a percentage (e.g. 15%) nor a number of audits (e.g. 12)"
    )


@dataclass(frozen=True)
class ContractPeriod:
    """A contract's period; an open start or end runs without limit."""

    reference: str
    start: date | None
    end: date | None

    def in_force_in(self, year: int) -> bool:
        return (self.start is None or self.start.year <= year) and (
            self.end is None or self.end.year >= year
        )

    def holds(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def __str__(self) -> str:
        start = self.start.isoformat() if self.start else "open"
        end = self.end.isoformat() if self.end else "open"
        return f"{self.reference} ({start}..{end})"


@dataclass(frozen=True)
class Candidate:
    """A supplier as the plan sees it: its risk (score and top factor, see
    :func:`cap.domain.risk.score_supplier`), its last audit and all its contracts."""

    org_number: str
    name: str
    score: float
    top_factor: str | None
    last_audit: date | None
    contracts: tuple[ContractPeriod, ...]


@dataclass(frozen=True)
class HeldAudit:
    org_number: str
    kind: AuditKind
    held_on: date


@dataclass(frozen=True)
class Choice:
    org_number: str
    score: float
    why: str
    name: str


@dataclass(frozen=True)
class LeftOut:
    """A supplier the one-audit rule leaves out, and why."""

    org_number: str
    score: float
    reason: str
    name: str


@dataclass(frozen=True)
class Selection:
    year: int
    capacity: Capacity
    in_force: int  # suppliers with a contract in force in the year: a percentage's base
    chosen: tuple[Choice, ...]
    left_out: tuple[LeftOut, ...]


def choose(
    year: int,
    candidates: Sequence[Candidate],
    capacity: Capacity,
    audits: Sequence[HeldAudit],
) -> Selection:
    """The suppliers to audit in ``year``: see the module's description. Deterministic: the
    same facts give the same plan, in the same order."""
    desktop: dict[str, list[date]] = {}
    for audit in audits:
        if audit.kind is AuditKind.DESKTOP:
            desktop.setdefault(audit.org_number, []).append(audit.held_on)
    in_force = [c for c in candidates if any(p.in_force_in(year) for p in c.contracts)]
    ranked = sorted(in_force, key=lambda c: (-c.score, c.name, c.org_number))
    eligible: list[Candidate] = []
    left_out: list[LeftOut] = []
    for candidate in ranked:
        reason = _covered(candidate, year, desktop.get(candidate.org_number, []))
        if reason is None:
            eligible.append(candidate)
        else:
            left_out.append(LeftOut(candidate.org_number, candidate.score, reason, candidate.name))
    slots = capacity.slots(len(in_force))
    chosen = tuple(Choice(c.org_number, c.score, why(c), c.name) for c in eligible[:slots])
    return Selection(year, capacity, len(in_force), chosen, tuple(left_out))


def why(candidate: Candidate) -> str:
    """Why a supplier is chosen: ``score 71.3, top factor open_findings; last audit
    2024-05-02``."""
    top = f"top factor {candidate.top_factor}" if candidate.top_factor else "no factor scored"
    last = candidate.last_audit
    audited = f"last audit {last.isoformat()}" if last else "never audited"
    return f"score {candidate.score:.1f}, {top}; {audited}"


def _covered(candidate: Candidate, year: int, desktop: list[date]) -> str | None:
    """Why the one-audit rule leaves ``candidate`` out of ``year``'s plan, or None: every
    contract in force that year had a desktop audit within its period."""
    held: list[str] = []
    for period in (p for p in candidate.contracts if p.in_force_in(year)):
        within = sorted(d for d in desktop if period.holds(d))
        if not within:
            return None
        held.append(f"{period} on {within[-1].isoformat()}")
    return "desktop audit already held in the period of " + "; ".join(held)
