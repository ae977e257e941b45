"""Who is told what when a person acts on a finding."""

from __future__ import annotations

from cap.domain.lifecycle import Action
from cap.domain.model import DeadlineKind
from cap.notify.outbox import Notice, Role

SUPPLIER = (Role.SUPPLIER,)

ACTION_NOTICES: dict[Action, tuple[Notice, ...]] = {
    Action.NOTIFY: (Notice("cap_requested", SUPPLIER, DeadlineKind.PLAN),),
    Action.SUBMIT_PLAN: (
        Notice("plan_received", (Role.SUPPLIER, Role.CONTRACT_MANAGER), DeadlineKind.REMEDIATION),
    ),
    Action.ACCEPT_PLAN: (Notice("plan_accepted", SUPPLIER, DeadlineKind.REMEDIATION),),
    Action.REJECT_PLAN: (Notice("plan_rejected", SUPPLIER, DeadlineKind.PLAN),),
    Action.VERIFY: (Notice("finding_closed", SUPPLIER),),
    Action.REJECT_REMEDIATION: (
        Notice("remediation_rejected", SUPPLIER, DeadlineKind.REMEDIATION),
    ),
    Action.ESCALATE: (
        Notice("sanction_review_opened", (Role.DECISION_MAKERS, Role.SUSTAINABILITY_MANAGER)),
    ),
    # The extension's own date is passed by the workflow (it depends on which deadline moved).
    Action.EXTEND: (Notice("decision_extension", SUPPLIER),),
    Action.WARN: (Notice("decision_warning", SUPPLIER),),
    Action.PENALISE: (Notice("decision_penalty", SUPPLIER),),
    Action.APPROVE_TERMINATION: (Notice("decision_termination", SUPPLIER),),
}
