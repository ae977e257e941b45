"""What the pages call the domain's values: states, areas, severities, roles, actions... in
English here, marked for the catalog (``N_``), translated when rendered (the ``label`` filter).
"""

from __future__ import annotations

from enum import StrEnum

from cap.domain.model import (
    Action,
    Area,
    DeadlineKind,
    DecisionOutcome,
    Limit,
    ObligationKind,
    ObligationState,
    OutboxStatus,
    Role,
    Severity,
    Source,
    StaffRole,
    State,
)
from cap.domain.obligations import DutyAction


def N_(message: str) -> str:
    """Marks ``message`` for the catalog; it is translated where it is shown."""
    return message


_NAMED: tuple[tuple[StrEnum, str], ...] = (
    (State.OPEN, N_("open")),
    (State.AWAITING_PLAN, N_("awaiting plan")),
    (State.PLAN_REVIEW, N_("plan review")),
    (State.REMEDIATING, N_("remediating")),
    (State.VERIFYING, N_("verifying")),
    (State.SANCTION_REVIEW, N_("sanction review")),
    (State.CLOSED, N_("closed")),
    (State.TERMINATED, N_("terminated")),
    (State.WITHDRAWN, N_("withdrawn")),
    (Severity.MINOR, N_("minor")),
    (Severity.MAJOR, N_("major")),
    (Severity.CRITICAL, N_("critical")),
    (Area.CHILD_LABOUR, N_("child labour")),
    (Area.FORCED_LABOUR, N_("forced labour")),
    (Area.FREEDOM_OF_ASSOCIATION, N_("freedom of association")),
    (Area.DISCRIMINATION, N_("discrimination")),
    (Area.WORKING_HOURS, N_("working hours")),
    (Area.WAGES, N_("wages")),
    (Area.HEALTH_AND_SAFETY, N_("health and safety")),
    (Area.PROCESS_CHEMICALS, N_("process chemicals")),
    (Area.ANTI_CORRUPTION, N_("anti-corruption")),
    (Area.RESPONSIBLE_MINERALS, N_("responsible minerals")),
    (Area.ENVIRONMENT, N_("environment")),
    (Area.TRANSPARENCY, N_("transparency")),
    (Area.OTHER, N_("other area")),
    (Source.DESKTOP_AUDIT, N_("desktop audit")),
    (Source.FACTORY_AUDIT, N_("factory audit")),
    (Source.MONITORING_REPORT, N_("monitoring report")),
    (Source.SUPPLIER_REPORT, N_("supplier's own report")),
    (Source.WORKER_COMPLAINT, N_("worker complaint")),
    (Source.OTHER, N_("other source")),
    (StaffRole.ADMIN, N_("admin")),
    (StaffRole.CONTRACT_MANAGER, N_("contract manager")),
    (StaffRole.SUSTAINABILITY_MANAGER, N_("sustainability manager")),
    (StaffRole.VIEWER, N_("viewer")),
    (Role.SUPPLIER, N_("supplier")),
    (Role.CONTRACT_MANAGER, N_("contract manager")),
    (Role.SUSTAINABILITY_MANAGER, N_("sustainability manager")),
    (Role.DECISION_MAKERS, N_("decision makers")),
    (DeadlineKind.PLAN, N_("plan due")),
    (DeadlineKind.PLAN_REVIEW, N_("plan review due")),
    (DeadlineKind.REMEDIATION, N_("remediation due")),
    (DeadlineKind.VERIFICATION, N_("verification due")),
    (DeadlineKind.REPORT, N_("report due")),
    (Limit.PLAN_REVISION, N_("plan revision")),
    (ObligationKind.SOCIAL_RISK_REPORT, N_("Social-risk report")),
    (ObligationKind.SELF_ASSESSMENT, N_("Self-assessment")),
    (ObligationKind.MINERALS_REPORT, N_("Conflict-minerals report")),
    (ObligationKind.OTHER, N_("Other report")),
    (ObligationState.DUE, N_("owed")),
    (ObligationState.ESCALATED, N_("escalated")),
    (ObligationState.RECEIVED, N_("received")),
    (ObligationState.WAIVED, N_("waived")),
    (DutyAction.RECEIVE, N_("Record the report as received")),
    (DutyAction.EXTEND, N_("Move the due date")),
    (DutyAction.WAIVE, N_("Waive the report")),
    (DutyAction.ESCALATE, N_("Escalate to the decision makers")),
    (OutboxStatus.QUEUED, N_("queued")),
    (OutboxStatus.SENDING, N_("sending")),
    (OutboxStatus.SENT, N_("sent")),
    (OutboxStatus.FAILED, N_("failed")),
    (DecisionOutcome.EXTENSION, N_("extension")),
    (DecisionOutcome.RESUMED, N_("resumed without sanction")),
    (DecisionOutcome.WARNING, N_("warning")),
    (DecisionOutcome.PENALTY, N_("contractual penalty")),
    (DecisionOutcome.TERMINATION, N_("termination")),
    (Action.NOTIFY, N_("Notify the supplier")),
    (Action.SUBMIT_PLAN, N_("Record a plan")),
    (Action.ACCEPT_PLAN, N_("Accept the plan")),
    (Action.REJECT_PLAN, N_("Reject the plan")),
    (Action.REPORT_REMEDIATION, N_("Record the supplier's report of a fix")),
    (Action.VERIFY, N_("Verify and close")),
    (Action.REJECT_REMEDIATION, N_("Reject the fix")),
    (Action.ESCALATE, N_("Escalate to sanction review")),
    (Action.REQUEST_EXTENSION, N_("Record a request for more time")),
    (Action.EXTEND, N_("Extend a deadline")),
    (Action.DECLINE_EXTENSION, N_("Decline the request for more time")),
    (Action.RESUME, N_("Resume without sanction")),
    (Action.WARN, N_("Decide a warning")),
    (Action.PENALISE, N_("Decide a contractual penalty")),
    (Action.TERMINATE, N_("Propose termination")),
    (Action.APPROVE_TERMINATION, N_("Approve termination")),
    (Action.WITHDRAW, N_("Withdraw the finding")),
)


#: By enum and value: members of two enums compare (and hash) equal when their values are,
#: and Area.OTHER is not Source.OTHER.
_LABELS: dict[tuple[type[StrEnum], str], str] = {
    (type(member), member.value): text for member, text in _NAMED
}


def label(value: StrEnum) -> str:
    """The English label of ``value``, the catalog's message id (the enum's value in words
    when the pages have no label of their own for it)."""
    for kind in type(value).__mro__:
        text = _LABELS.get((kind, value.value))
        if text is not None:
            return text
    return value.value.replace("_", " ")
