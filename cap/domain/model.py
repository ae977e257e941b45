"""Vocabulary of the domain: enumerations and the lifecycle view of a finding."""

from __future__ import annotations

from dataclasses import dataclass, field
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


class DeadlineKind(StrEnum):
    """The deadlines a finding carries (two for the supplier, two for the buyer), and the one
    a contract's reporting obligation carries (``report``)."""

    PLAN = "plan"
    PLAN_REVIEW = "plan_review"
    REMEDIATION = "remediation"
    VERIFICATION = "verification"
    REPORT = "report"


#: The deadlines of findings (``report`` belongs to a contract's reporting obligation).
FINDING_DEADLINES: tuple[DeadlineKind, ...] = (
    DeadlineKind.PLAN,
    DeadlineKind.PLAN_REVIEW,
    DeadlineKind.REMEDIATION,
    DeadlineKind.VERIFICATION,
)


class Role(StrEnum):
    """Who receives a notification."""

    SUPPLIER = "supplier"
    CONTRACT_MANAGER = "contract_manager"
    SUSTAINABILITY_MANAGER = "sustainability_manager"
    DECISION_MAKERS = "decision_makers"


class StaffRole(StrEnum):
    """What a person signed in to the desk may do (:class:`Role` is who receives an email)."""

    ADMIN = "admin"  # people and their roles
    CONTRACT_MANAGER = "contract_manager"  # findings, plans, verification
    SUSTAINABILITY_MANAGER = "sustainability_manager"  # escalations and sanction decisions
    VIEWER = "viewer"  # reads only


class OutboxStatus(StrEnum):
    """Where an email stands in the outbox (a name people filter by, hence here)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class DecisionOutcome(StrEnum):
    EXTENSION = "extension"
    RESUMED = "resumed"
    WARNING = "warning"
    PENALTY = "penalty"
    TERMINATION = "termination"


class Action(StrEnum):
    """What people do to a finding: the value is the trigger, ``label`` what users type."""

    NOTIFY = "notify"
    SUBMIT_PLAN = "submit_plan"
    ACCEPT_PLAN = "accept_plan"
    REJECT_PLAN = "reject_plan"
    REPORT_REMEDIATION = "report_remediation"
    VERIFY = "verify"
    REJECT_REMEDIATION = "reject_remediation"
    ESCALATE = "escalate"
    REQUEST_EXTENSION = "request_extension"
    EXTEND = "extend"
    DECLINE_EXTENSION = "decline_extension"
    RESUME = "resume"
    WARN = "warn"
    PENALISE = "penalise"
    TERMINATE = "terminate"
    APPROVE_TERMINATION = "approve_termination"
    WITHDRAW = "withdraw"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-")


class Limit(StrEnum):
    """The time limits a finding can be given, each counted from the event that starts it."""

    PLAN = "plan"  # from notification
    PLAN_REVISION = "plan_revision"  # from the rejection of a plan
    PLAN_REVIEW = "plan_review"  # the buyer's review, from submission
    REMEDIATION = "remediation"  # from notification
    VERIFICATION = "verification"  # the buyer's verification, from the supplier's report
    REPORT = "report"  # a contract's reporting obligation, from the contract's start


#: The time limits of findings (``report`` is a contract's).
FINDING_LIMITS: tuple[Limit, ...] = (
    Limit.PLAN,
    Limit.PLAN_REVISION,
    Limit.PLAN_REVIEW,
    Limit.REMEDIATION,
    Limit.VERIFICATION,
)


class ObligationKind(StrEnum):
    """What a contract obliges the supplier to report (``other`` is described by a title)."""

    SOCIAL_RISK_REPORT = "social_risk_report"  # the case study's: due six months after start
    SELF_ASSESSMENT = "self_assessment"
    MINERALS_REPORT = "minerals_report"  # conflict-minerals due diligence (e.g. a CMRT)
    OTHER = "other"


class ObligationState(StrEnum):
    """Where a reporting obligation stands: owed by its date, escalated to the decision
    makers once long overdue, received, or waived by the buyer."""

    DUE = "due"
    ESCALATED = "escalated"
    RECEIVED = "received"
    WAIVED = "waived"


@dataclass(frozen=True)
class LadderMark:
    """Progress of one deadline's reminder and escalation ladder.

    ``due`` is the deadline the ladder belongs to (a new date starts a new ladder), ``since``
    when that deadline was set (steps due before it do not apply), ``done_until`` the due
    instant of the last step processed.
    """

    due: date
    since: datetime | None = None
    done_until: datetime | None = None


@dataclass
class Case:
    """The part of a finding the lifecycle reads and changes.

    A plain object, so that one shared ``transitions`` machine can drive it (a SQLModel row
    cannot be a transitions model) and so that a refused or failed action only ever touched a
    copy. ``return_state`` is where a sanction review goes back to; ``extension_request`` the
    date the supplier asked for in a request nobody has answered yet.
    """

    # (``ladder`` is replaced, never mutated in place, so a shallow copy of a Case is safe.)

    state: State
    severity: Severity
    area: Area
    found_on: date | None = None
    notified_at: datetime | None = None
    plan_due: date | None = None
    remediation_due: date | None = None
    review_due: date | None = None
    verification_due: date | None = None
    ladder: dict[DeadlineKind, LadderMark] = field(default_factory=dict)
    escalation_level: int = 0
    return_state: State | None = None
    termination_proposed_by: str | None = None
    deadline_version: int = 0
    extensions: int = 0
    extension_request: date | None = None
    last_event_at: datetime | None = None


#: Every kind of email cap sends, in the order of the lifecycle: the rules name them as
#: templates, and every command that reads the rules checks the names against these.
EMAIL_KINDS: tuple[str, ...] = (
    "cap_requested",
    "plan_reminder",
    "plan_overdue",
    "formal_notice",
    "plan_received",
    "review_reminder",
    "plan_accepted",
    "plan_rejected",
    "remediation_reminder",
    "remediation_overdue",
    "verification_reminder",
    "finding_closed",
    "remediation_rejected",
    "extension_requested",
    "extension_declined",
    "escalation_contract_manager",
    "escalation_sustainability_manager",
    "sanction_review_opened",
    "decision_extension",
    "decision_warning",
    "decision_penalty",
    "decision_termination",
    "daily_digest",
    "report_reminder",
    "report_overdue",
    "report_escalated",
)

#: The kinds about a contract's reporting obligation (the others are about a finding): the
#: report ladder's steps name these, and only these.
REPORT_EMAIL_KINDS: tuple[str, ...] = ("report_reminder", "report_overdue", "report_escalated")
