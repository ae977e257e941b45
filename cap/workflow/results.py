"""What the use cases return: frozen dataclasses, the same for every edge.

The CLI prints them, the desk will render them and the API serialise them; none of them
re-learns the shape of a finding from a dict. :func:`to_json` is the one place that turns a
result into JSON-ready values (``--json`` output, the worker's heartbeat).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from cap.domain.engine import TimelineStatus
from cap.domain.model import (
    Area,
    DeadlineKind,
    DecisionOutcome,
    Language,
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


def to_json(value: object) -> Any:
    """``value`` as JSON-ready values: a dataclass as a dict of its fields in order, an enum
    as its value, a date or instant in ISO 8601, a Decimal as its digits, a tuple as a list."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


# -- suppliers and contracts -----------------------------------------------------------------


@dataclass(frozen=True)
class ContactView:
    name: str | None
    email: str
    language: Language


@dataclass(frozen=True)
class SupplierView:
    name: str
    org_number: str
    country: str
    contacts: tuple[ContactView, ...]


@dataclass(frozen=True)
class ContractView:
    reference: str
    supplier: str  # the supplier's name
    supplier_org_number: str
    category: str
    manager: str  # the contract manager's email
    start: date | None
    end: date | None
    value: Decimal | None


# -- findings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingSummary:
    """A finding as a list shows it: ``current_deadline`` is the one that binds now (``due``
    its date), ``overdue`` whether that date has passed."""

    ref: str
    state: State
    severity: Severity
    area: Area
    title: str
    supplier: str
    supplier_org_number: str
    contract: str
    plan_due: date | None
    remediation_due: date | None
    current_deadline: DeadlineKind | None
    due: date | None
    overdue: bool
    escalation_level: int


@dataclass(frozen=True)
class PlanActionView:
    description: str
    owner: str
    due: date


@dataclass(frozen=True)
class PlanView:
    version: int
    root_cause: str
    actions: tuple[PlanActionView, ...]
    submitted_at: datetime
    submitted_by: str
    review_outcome: str | None  # "accepted", "rejected" or None before the review
    review_reason: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None


@dataclass(frozen=True)
class EvidenceView:
    id: int
    file_name: str
    sha256: str
    size: int
    content_type: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class DecisionView:
    outcome: DecisionOutcome
    rationale: str | None
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None  # None: a termination awaiting its second person
    approved_at: datetime | None


@dataclass(frozen=True)
class EventView:
    """One entry of the audit trail: ``at`` when it happened, ``recorded_at`` when it was
    written; ``data`` is what the trail keeps about it (its rule, reason, deadlines, the
    emails it queued...), as stored."""

    at: datetime
    recorded_at: datetime
    actor: str
    kind: str
    from_state: State | None
    to_state: State | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ExtensionRequestView:
    """More time the supplier asked for and nobody has granted (extend) or declined yet:
    ``until`` the date asked for, ``deadline`` the one it would move, and, from the event that
    recorded it, why, who recorded it and when it was asked."""

    until: date
    deadline: DeadlineKind | None
    reason: str | None
    requested_by: str | None
    requested_at: datetime | None


@dataclass(frozen=True)
class FindingView(FindingSummary):
    """A finding as ``show`` gives it: everything about it, with its plans, evidence,
    decisions and history; ``allowed_actions`` are what may be done next, as people type them."""

    description: str
    source: Source
    site: str | None
    site_country: str | None
    external_id: str | None
    found_on: date
    notified_at: datetime | None
    supplier_country: str
    contract_manager: str
    return_state: State | None
    termination_proposed_by: str | None
    extensions: int
    extension_request: ExtensionRequestView | None
    deadline_version: int
    next_check_at: datetime | None
    version: int
    created_at: datetime
    created_by: str
    allowed_actions: tuple[str, ...]
    plans: tuple[PlanView, ...]
    evidence: tuple[EvidenceView, ...]
    decisions: tuple[DecisionView, ...]
    events: tuple[EventView, ...]
    #: The links emailed to the supplier about it, the newest first: sent, opened, used.
    links: tuple[LinkView, ...] = ()


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


def unreached_of(ref: str, trail: Mapping[str, Any]) -> list[Unreached]:
    """What an action's notifications (the ``notifications`` of its event) did not reach."""
    return [
        Unreached(ref, m.get("rule", "?"), m["kind"], m["role"], m["why"])
        for m in trail.get("not_sent", [])
    ]


@dataclass(frozen=True)
class ActionResult:
    """What an action did: the finding's new state and version, and the event recorded (with
    the emails it queued); ``finding`` is the finding as shown after it, when asked for."""

    ref: str
    state: State
    version: int
    event: EventView
    finding: FindingView | None = None

    @property
    def unreached(self) -> list[Unreached]:
        """The action's emails that reached nobody (the action is recorded all the same)."""
        return unreached_of(self.ref, self.event.data.get("notifications", {}))


@dataclass(frozen=True)
class SkippedRow:
    """A row left out: its external id is already the finding ``ref`` of its contract."""

    index: int
    external_id: str
    ref: str


@dataclass(frozen=True)
class ImportResult:
    refs: tuple[str, ...]  # the findings logged, in row order
    skipped: tuple[SkippedRow, ...] = ()


# -- the rules over time ---------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    """One dated item of a finding's future under the rules: a deadline (at the end of its
    day), or a reminder or escalation of its ladder. ``due`` is the date of the deadline it
    belongs to; ``done``: a step already taken."""

    at: datetime
    due: date
    kind: str  # "deadline", "reminder" or "escalation"
    deadline: DeadlineKind
    rule: str | None
    template: str | None
    to: tuple[Role, ...]
    level: int
    action: str | None  # what the step does beyond its email ("escalate")
    done: bool


@dataclass(frozen=True)
class UpcomingStep(StepView):
    """A step of a finding's timeline: ``status`` says whether the next sweep applies it
    ("due"), passes over it ("catch_up_skip") or it waits ("upcoming")."""

    status: TimelineStatus


@dataclass(frozen=True)
class TimelineView:
    ref: str
    state: State
    events: tuple[EventView, ...]
    upcoming: tuple[UpcomingStep, ...]


@dataclass(frozen=True)
class NoticeView:
    """An email an action sends at once (in a simulation: the notification's); ``due`` is the
    date of the deadline it names, if any. Laid out as a :class:`StepView`, though a notice
    belongs to no deadline's ladder: no ``deadline``, level 0, no ``action``."""

    at: datetime
    due: date | None
    kind: str  # "notice"
    deadline: None
    rule: str
    template: str
    to: tuple[Role, ...]
    level: int
    action: None


@dataclass(frozen=True)
class Simulation:
    """The future of an imagined finding notified at ``notified``: the notices the
    notification sends, then every deadline and step up to the first automatic escalation."""

    notified: datetime
    timeline: tuple[NoticeView | StepView, ...]


@dataclass(frozen=True)
class SweepAction:
    """A ladder step a sweep took (``outcome`` "applied") or passed over ("skipped");
    ``action`` is "escalate" when it sent the finding to sanction review."""

    ref: str
    rule: str
    deadline: DeadlineKind
    due: date
    step_due_at: datetime
    to: tuple[Role, ...]
    template: str
    level: int
    outcome: str
    action: str | None


@dataclass(frozen=True)
class SweepReport:
    dry_run: bool
    examined: int
    steps: int
    skipped: int
    escalated: int
    queued: int
    seconds: float  # to the millisecond
    errors: tuple[str, ...]  # one per finding whose sweep failed (retried later)
    actions: tuple[SweepAction, ...]
    unreached: tuple[Unreached, ...]


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


@dataclass(frozen=True)
class ReappliedDeadline:
    """A deadline the current rules set differently (``requested``: the date asked for, when
    the calendar rolled it forward to ``new``)."""

    ref: str
    deadline: DeadlineKind
    old: date | None
    new: date
    requested: date | None


@dataclass(frozen=True)
class Reapplication:
    dry_run: bool  # True: shown, not written
    changes: tuple[ReappliedDeadline, ...]


# -- mail ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxMessageView:
    id: int
    finding: str | None  # its ref; None for a digest or a report's email
    obligation: int | None  # the report a report_* email is about
    kind: str
    recipient: str
    role: str
    language: str
    subject: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    message_id: str
    queued_at: datetime  # when it was queued (again, after a retry)
    created_at: datetime


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


@dataclass(frozen=True)
class QueuedDigest:
    to: str  # the contract manager
    findings: int  # how many findings it lists


# -- people of the desk ----------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    """A person of the desk, without the password hash. ``session_version`` is what a session
    cookie carries: it changes when the user is disabled or changes role or password."""

    id: int
    email: str  # as typed when added
    name: str | None
    role: StaffRole
    language: Language | None
    created_at: datetime
    disabled_at: datetime | None
    session_version: int


class LoginRefusal(StrEnum):
    # A wrong password and an unknown address are one reason: telling them apart would tell a
    # guesser which accounts exist.
    WRONG_CREDENTIALS = "wrong_credentials"
    THROTTLED = "throttled"
    DISABLED = "disabled"


@dataclass(frozen=True)
class LoginResult:
    """A sign-in: ``user`` when it succeeded, else ``refusal`` (and, when throttled,
    ``wait_minutes`` before the next attempt can succeed); ``message`` is for the person."""

    user: UserView | None
    refusal: LoginRefusal | None = None
    wait_minutes: int | None = None

    @property
    def message(self) -> str | None:
        if self.refusal is LoginRefusal.WRONG_CREDENTIALS:
            return "wrong email or password"
        if self.refusal is LoginRefusal.THROTTLED:
            unit = "minute" if self.wait_minutes == 1 else "minutes"
            return f"wrong email or password, or too many attempts; wait {self.wait_minutes} {unit}"
        if self.refusal is LoginRefusal.DISABLED:
            return "this account is disabled; ask an administrator"
        return None


@dataclass(frozen=True)
class LinkView:
    """A link sent to a supplier (cap.workflow.links): for which finding, to whom, until when,
    and how it was used."""

    id: int
    supplier_id: int
    finding_ref: str | None
    address: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    first_opened_at: datetime | None
    last_opened_at: datetime | None
    uses: int


@dataclass(frozen=True)
class TokenView:
    """A token of the API (cap.workflow.tokens), never the token itself: ``prefix`` tells it
    apart."""

    id: int
    name: str
    role: StaffRole
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: ``token`` is shown this once and kept nowhere."""

    view: TokenView
    token: str


# -- reporting obligations -------------------------------------------------------------------


@dataclass(frozen=True)
class ObligationView:
    """A report a contract obliges its supplier to send. ``overdue``: still owed after its
    due day (``days_overdue`` days); ``next_step_at``: when its ladder acts next."""

    id: int
    kind: ObligationKind
    title: str | None
    contract: str
    supplier: str
    supplier_org_number: str
    manager: str
    contract_start: date | None
    due: date
    first_due: date
    state: ObligationState
    overdue: bool
    days_overdue: int | None
    received_on: date | None
    escalation_level: int
    next_step_at: datetime | None
    version: int


@dataclass(frozen=True)
class ObligationEventView:
    at: datetime
    actor: str
    kind: str
    from_state: ObligationState | None
    to_state: ObligationState | None
    data: dict[str, Any]


@dataclass(frozen=True)
class ObligationDetail:
    obligation: ObligationView
    allowed: tuple[DutyAction, ...]  # what people may do now
    events: tuple[ObligationEventView, ...]
    timeline: tuple[StepView, ...]
