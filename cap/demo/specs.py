"""How the demo describes a finding and its history, relative to the day it is seeded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from cap.domain.inputs import PlanAction, PlanInput
from cap.domain.lifecycle import Action
from cap.domain.model import Area, Severity, Source
from cap.workflow import EvidenceFile


@dataclass(frozen=True)
class Ago:
    """A working-day instant before ``now``: ``months`` calendar months and ``days`` days
    back from today (negative ``days`` go forward again), at ``clock`` local time."""

    months: int = 0
    days: int = 0
    clock: time = time(10, 0)


@dataclass(frozen=True)
class PlanSpec:
    """A plan; each action is (description, owner, days after the submission it is due)."""

    root_cause: str
    actions: tuple[tuple[str, str, int], ...]

    def to_input(self, submitted: date) -> PlanInput:
        return PlanInput(
            root_cause=self.root_cause,
            actions=[
                PlanAction(description=d, owner=o, due=submitted + timedelta(days=n))
                for d, o, n in self.actions
            ],
        )


@dataclass(frozen=True)
class StepSpec:
    """One action in a finding's history. ``reason`` and ``note`` may name other findings of
    the data set as ``{KEY}``; ``extend_days`` moves the current deadline that many days (an
    extension's date, or the one a request for more time asks for)."""

    when: Ago
    action: Action
    actor: str = "manager"  # "manager", "supplier" (the contract's) or an address
    reason: str | None = None
    note: str | None = None
    plan: PlanSpec | None = None
    evidence: tuple[EvidenceFile, ...] = ()
    extend_days: int | None = None


@dataclass(frozen=True)
class FindingSpec:
    """A finding and its history. ``description`` may use ``{found}`` (the date it was found)
    and ``{visit}`` (three days earlier, the first day of an audit or monitoring visit)."""

    key: str
    contract: str
    severity: Severity
    area: Area
    source: Source
    title: str
    description: str
    site: str | None
    site_country: str | None
    logged: Ago
    found_days_before: int
    steps: tuple[StepSpec, ...] = ()
