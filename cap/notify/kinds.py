"""The kinds of email cap sends and what rendering one gives: known without loading Jinja2
(the rules check their template names against these on every command that reads them)."""

from __future__ import annotations

from dataclasses import dataclass

#: Every kind of email, in the order of the lifecycle.
KINDS: tuple[str, ...] = (
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
    "escalation_contract_manager",
    "escalation_sustainability_manager",
    "sanction_review_opened",
    "decision_extension",
    "decision_warning",
    "decision_penalty",
    "decision_termination",
    "daily_digest",
)


@dataclass(frozen=True)
class RenderedEmail:
    """One email ready to be sent.

    ``subject`` is a single line: every run of CR, LF, other control characters and whitespace
    is collapsed to one space, the ends are stripped, and it is at most
    :data:`cap.notify.render.SUBJECT_MAX_LENGTH` characters (cut with "…"), so it is safe to
    put in a header.
    ``text`` ends with exactly one newline and has no trailing spaces; ``html`` is a complete
    document with inline styles only.
    """

    subject: str
    text: str
    html: str
