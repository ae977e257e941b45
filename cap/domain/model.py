"""Vocabulary of the domain: enumerations and the lifecycle view of a finding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Source(StrEnum):
    DESKTOP_AUDIT = "desktop_audit"
    FACTORY_AUDIT = "factory_audit"
    MONITORING_REPORT = "monitoring_report"
    SUPPLIER_REPORT = "supplier_report"
    WORKER_COMPLAINT = "worker_complaint"
    OTHER = "other"


class Area(StrEnum):
    """Code-of-conduct areas of the Swedish regions' supplier code and Electronics Watch clauses."""

    CHILD_LABOUR = "child_labour"
    FORCED_LABOUR = "forced_labour"
    FREEDOM_OF_ASSOCIATION = "freedom_of_association"
    DISCRIMINATION = "discrimination"
    WORKING_HOURS = "working_hours"
    WAGES = "wages"
    HEALTH_AND_SAFETY = "health_and_safety"
    PROCESS_CHEMICALS = "process_chemicals"
    ANTI_CORRUPTION = "anti_corruption"
    RESPONSIBLE_MINERALS = "responsible_minerals"
    ENVIRONMENT = "environment"
    TRANSPARENCY = "transparency"
    OTHER = "other"


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class Language(StrEnum):
    SV = "sv"
    EN = "en"


class State(StrEnum):
    OPEN = "open"
    AWAITING_PLAN = "awaiting_plan"
    PLAN_REVIEW = "plan_review"
    REMEDIATING = "remediating"
    VERIFYING = "verifying"
    SANCTION_REVIEW = "sanction_review"
    CLOSED = "closed"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"


#: States in which the supplier or the buyer owes something by a deadline.
ACTIVE_STATES: tuple[State, ...] = (
    State.AWAITING_PLAN,
    State.PLAN_REVIEW,
    State.REMEDIATING,
    State.VERIFYING,
)
FINAL_STATES: tuple[State, ...] = (State.CLOSED, State.TERMINATED, State.WITHDRAWN)


class DeadlineKind(StrEnum):
    PLAN = "plan"
    REMEDIATION = "remediation"


class DecisionOutcome(StrEnum):
    EXTENSION = "extension"
    RESUMED = "resumed"
    WARNING = "warning"
    PENALTY = "penalty"
    TERMINATION = "termination"


@dataclass
class Case:
    """The part of a finding the lifecycle reads and changes.

    A plain object, so that one shared ``transitions`` machine can drive it (a SQLModel row
    cannot be a transitions model) and so that a refused or failed action only ever touched a
    copy. ``return_state`` is where a sanction review goes back to.
    """

    state: State
    severity: Severity
    area: Area
    found_on: date | None = None
    notified_at: datetime | None = None
    plan_due: date | None = None
    remediation_due: date | None = None
    escalation_level: int = 0
    return_state: State | None = None
    termination_proposed_by: str | None = None
    deadline_version: int = 0
    extensions: int = 0
    last_event_at: datetime | None = None
