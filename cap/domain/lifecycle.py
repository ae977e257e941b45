"""The non-compliance lifecycle: one shared state machine and the rules of each action.

One ``transitions`` machine serves every finding (``model=None``); actions are triggered with
``MACHINE.events[name].trigger(case)`` on a :class:`Case` copy. The machine callbacks do no I/O
and the caller persists the returned :class:`Change` in one transaction, so a refused or failed
action never leaves a half-changed finding behind.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from transitions import EventData, Machine

from cap.domain.calendar import BusinessCalendar, Period, add_months
from cap.domain.model import (
    ACTIVE_STATES,
    Action,
    Area,
    Case,
    DeadlineKind,
    DecisionOutcome,
    LadderMark,
    Limit,
    Severity,
    State,
)
from cap.errors import ActionRefused, InvalidInput

__all__ = [
    "IN_FORCE",
    "MACHINE",
    "Action",
    "ActionRequest",
    "Change",
    "DeadlineChange",
    "DeadlinePolicy",
    "DecisionNote",
    "Periods",
    "allowed_actions",
    "available_actions",
    "build_machine",
    "current_deadline",
    "deadline_of",
    "deadlines_in_force",
    "is_overdue",
    "mermaid_diagram",
    "perform",
    "set_deadline",
]

#: Escalation level of a finding in sanction review (levels 1-2 are notices before it).
SANCTION_REVIEW_LEVEL = 3

#: How far in the future an ``at`` may lie: clocks of the people recording actions drift.
CLOCK_SKEW = timedelta(minutes=5)

#: How many years after the action a date typed for a new deadline (``until``) may lie:
#: further is a typo (2046 for 2026), not an extension anyone grants.
UNTIL_HORIZON_YEARS = 3


#: States a sanction review can return to: the active states.
_RETURNABLE = ACTIVE_STATES
_SANCTIONABLE = (*ACTIVE_STATES, State.SANCTION_REVIEW)
#: States in which the supplier owes something by a deadline (a plan, the fix): the only ones
#: in which it can ask for more time.
_SUPPLIER_OWES = (State.AWAITING_PLAN, State.REMEDIATING)

# (trigger, sources, destination). ``None`` as destination: the state does not change.
# ``"<return>"``: back to the state the sanction review came from.
_RETURN = "<return>"
TRANSITION_TABLE: tuple[tuple[Action, tuple[State, ...], State | str | None], ...] = (
    (Action.NOTIFY, (State.OPEN,), State.AWAITING_PLAN),
    (Action.SUBMIT_PLAN, (State.AWAITING_PLAN,), State.PLAN_REVIEW),
    (Action.ACCEPT_PLAN, (State.PLAN_REVIEW,), State.REMEDIATING),
    (Action.REJECT_PLAN, (State.PLAN_REVIEW,), State.AWAITING_PLAN),
    (Action.REPORT_REMEDIATION, (State.REMEDIATING,), State.VERIFYING),
    (Action.VERIFY, (State.VERIFYING,), State.CLOSED),
    (Action.REJECT_REMEDIATION, (State.VERIFYING,), State.REMEDIATING),
    (Action.ESCALATE, ACTIVE_STATES, State.SANCTION_REVIEW),
    (Action.REQUEST_EXTENSION, _SUPPLIER_OWES, None),
    (Action.EXTEND, ACTIVE_STATES, None),
    (Action.EXTEND, (State.SANCTION_REVIEW,), _RETURN),
    (Action.DECLINE_EXTENSION, _SUPPLIER_OWES, None),
    (Action.RESUME, (State.SANCTION_REVIEW,), _RETURN),
    (Action.WARN, (State.SANCTION_REVIEW,), _RETURN),
    (Action.PENALISE, (State.SANCTION_REVIEW,), _RETURN),
    (Action.TERMINATE, (State.SANCTION_REVIEW,), None),
    (Action.APPROVE_TERMINATION, (State.SANCTION_REVIEW,), State.TERMINATED),
    (Action.WITHDRAW, (State.OPEN, *_SANCTIONABLE), State.WITHDRAWN),
)


def _returns_to(target: State) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        model = event.model
        assert isinstance(model, Case)
        return model.return_state == target

    return condition


def build_machine(
    machine_class: type[Machine] = Machine, model: Any = None, **options: Any
) -> Machine:
    """Build a machine from :data:`TRANSITION_TABLE` (also used to draw the diagram)."""
    machine = machine_class(
        model=model,
        states=list(State),
        initial=State.OPEN,
        auto_transitions=False,
        send_event=True,
        **options,
    )
    for action, sources, dest in TRANSITION_TABLE:
        if dest == _RETURN:
            for target in _RETURNABLE:
                machine.add_transition(
                    action.value, list(sources), target, conditions=[_returns_to(target)]
                )
        else:
            machine.add_transition(action.value, list(sources), dest)
    return machine


#: The one machine shared by every finding.
MACHINE = build_machine()

_ALLOWED: dict[State, tuple[Action, ...]] = {
    state: tuple(a for a in Action if any(a == t and state in s for t, s, _ in TRANSITION_TABLE))
    for state in State
}


def allowed_actions(state: State) -> tuple[Action, ...]:
    """The actions the state allows, in lifecycle order."""
    return _ALLOWED[state]


def available_actions(case: Case) -> tuple[Action, ...]:
    """The actions a person can take on ``case`` now: its state's, less the termination step
    that does not fit (approval needs a proposal; a second proposal is refused) and declining
    an extension nobody asked for."""
    pending = case.termination_proposed_by is not None
    skip = {Action.TERMINATE if pending else Action.APPROVE_TERMINATION}
    if case.extension_request is None:
        skip.add(Action.DECLINE_EXTENSION)
    return tuple(a for a in _ALLOWED[case.state] if a not in skip)


class Periods(Protocol):
    """Where time limits come from: the rules (:class:`cap.domain.rules.Rules`)."""

    def period(self, limit: Limit, severity: Severity, area: Area) -> Period: ...


@dataclass(frozen=True)
class DeadlinePolicy:
    """Fixed time limits whatever the severity: the case study's defaults, for tests and tools."""

    plan: Period = Period(months=1)
    remediation: Period = Period(months=6)
    plan_revision: Period = Period(days=14)
    plan_review: Period = Period(days=14)
    verification: Period = Period(days=30)

    def period(self, limit: Limit, severity: Severity, area: Area) -> Period:
        period: Period = getattr(self, limit.value)
        return period


@dataclass(frozen=True)
class ActionRequest:
    """What a person asks for. ``at`` is when it happened (aware), ``actor`` who did it."""

    action: Action
    actor: str
    at: datetime
    reason: str | None = None
    note: str | None = None
    until: date | None = None
    deadline: DeadlineKind | None = None


@dataclass(frozen=True)
class DeadlineChange:
    kind: DeadlineKind
    old: date | None
    new: date
    requested: date | None = None  # the date asked for, when the calendar rolled it forward

    def as_data(self) -> dict[str, str | None]:
        return {
            "deadline": self.kind.value,
            "old": self.old.isoformat() if self.old else None,
            "new": self.new.isoformat(),
            "requested": self.requested.isoformat() if self.requested else None,
        }


@dataclass(frozen=True)
class DecisionNote:
    """A sanction-review decision to record. ``approves_pending``: completes a termination."""

    outcome: DecisionOutcome
    rationale: str | None
    approves_pending: bool = False


@dataclass(frozen=True)
class Change:
    """The result of an action: the new case and what the audit trail must say about it."""

    case: Case
    action: Action
    from_state: State
    to_state: State
    data: dict[str, Any] = field(default_factory=dict)
    deadline_changes: tuple[DeadlineChange, ...] = ()
    decision: DecisionNote | None = None


_NEEDS_REASON = {
    Action.REJECT_PLAN,
    Action.REJECT_REMEDIATION,
    Action.ESCALATE,
    Action.REQUEST_EXTENSION,
    Action.EXTEND,
    Action.DECLINE_EXTENSION,
    Action.WARN,
    Action.PENALISE,
    Action.TERMINATE,
    Action.WITHDRAW,
}
_NEEDS_NOTE = {Action.VERIFY}
_DECISIONS = {
    Action.EXTEND: DecisionOutcome.EXTENSION,
    Action.RESUME: DecisionOutcome.RESUMED,
    Action.WARN: DecisionOutcome.WARNING,
    Action.PENALISE: DecisionOutcome.PENALTY,
    Action.TERMINATE: DecisionOutcome.TERMINATION,
    Action.APPROVE_TERMINATION: DecisionOutcome.TERMINATION,
}


def perform(
    case: Case,
    request: ActionRequest,
    *,
    now: datetime,
    calendar: BusinessCalendar,
    policy: Periods,
) -> Change:
    """Apply ``request`` to a copy of ``case`` and return the change; ``case`` is never modified.

    Raises :class:`ActionRefused` when the state or history does not allow the action (the
    message lists what is allowed) and :class:`InvalidInput` for a missing or bad value.
    """
    action = request.action
    if action not in _ALLOWED[case.state]:
        allowed = ", ".join(a.label for a in available_actions(case)) or "nothing (final state)"
        raise ActionRefused(
            f"cannot {action.label}: the finding is {case.state.value}; allowed now: {allowed}"
        )
    if action is Action.DECLINE_EXTENSION and case.extension_request is None:
        raise ActionRefused(
            "cannot decline-extension: no extension request is pending; record the supplier's "
            "request with request-extension first"
        )
    _check_request(case, request, now, calendar)
    if case.found_on is not None and calendar.local_date(request.at) < case.found_on:
        raise InvalidInput(
            f"at: {request.at.isoformat()} is before the finding was found "
            f"({case.found_on.isoformat()})"
        )

    new = copy.copy(case)
    data: dict[str, Any] = {}
    if request.reason:
        data["reason"] = request.reason
    if request.note:
        data["note"] = request.note
    changes: list[DeadlineChange] = []
    decision: DecisionNote | None = None
    leaving_review = case.state is State.SANCTION_REVIEW and action not in (
        Action.TERMINATE,
        Action.APPROVE_TERMINATION,
    )

    def limit(kind: Limit) -> date:
        period = policy.period(kind, case.severity, case.area)
        return calendar.due_date(request.at, period, field=f"{kind.value}_due")

    at = request.at
    if action is Action.NOTIFY:
        new.notified_at = at
        changes.append(set_deadline(new, DeadlineKind.PLAN, limit(Limit.PLAN), at))
        changes.append(set_deadline(new, DeadlineKind.REMEDIATION, limit(Limit.REMEDIATION), at))
    elif action is Action.SUBMIT_PLAN:
        changes.append(set_deadline(new, DeadlineKind.PLAN_REVIEW, limit(Limit.PLAN_REVIEW), at))
    elif action is Action.ACCEPT_PLAN:
        _clear(new, DeadlineKind.PLAN_REVIEW)
    elif action is Action.REJECT_PLAN:
        _clear(new, DeadlineKind.PLAN_REVIEW)
        if request.until is not None:
            _check_after(request.until, calendar.local_date(at), "until", "the rejection")
            data["until"] = request.until.isoformat()  # a person's date: rules never redo it
            changes.append(_set_requested(new, DeadlineKind.PLAN, request.until, calendar, at))
        else:
            changes.append(set_deadline(new, DeadlineKind.PLAN, limit(Limit.PLAN_REVISION), at))
        new.escalation_level = 0
    elif action is Action.REPORT_REMEDIATION:
        changes.append(set_deadline(new, DeadlineKind.VERIFICATION, limit(Limit.VERIFICATION), at))
    elif action in (Action.VERIFY, Action.REJECT_REMEDIATION):
        _clear(new, DeadlineKind.VERIFICATION)
    elif action is Action.ESCALATE:
        new.return_state = case.state
        new.escalation_level = max(case.escalation_level, SANCTION_REVIEW_LEVEL)
    elif action is Action.REQUEST_EXTENSION:
        kind = _requested(case, request)
        assert request.until is not None
        data["until"] = request.until.isoformat()
        data["deadline"] = kind.value
        if case.extension_request is not None:
            # The supplier's latest word stands: a new request replaces one not yet answered.
            data["replaces"] = case.extension_request.isoformat()
        new.extension_request = request.until
    elif action is Action.EXTEND:
        changes.append(_extend(new, case, request, calendar))
        new.extensions += 1
        new.escalation_level = 0
        if case.extension_request is not None:
            data["granted_request"] = case.extension_request.isoformat()
        new.extension_request = None  # answered, whatever date was given
    elif action is Action.DECLINE_EXTENSION:
        assert case.extension_request is not None
        data["until"] = case.extension_request.isoformat()
        new.extension_request = None
    elif action is Action.TERMINATE:
        if case.termination_proposed_by is not None:
            raise ActionRefused(
                f"cannot terminate: termination was already proposed by "
                f"{case.termination_proposed_by}; it awaits approve-termination by someone else"
            )
        new.termination_proposed_by = request.actor
    elif action is Action.APPROVE_TERMINATION:
        if case.termination_proposed_by is None:
            raise ActionRefused(
                "cannot approve-termination: nobody has proposed termination; "
                "use terminate to propose it"
            )
        if _same_person(case.termination_proposed_by, request.actor):
            raise ActionRefused(
                f"cannot approve-termination: {request.actor} proposed it; termination needs "
                "the approval of a different person"
            )
        data["proposed_by"] = case.termination_proposed_by
        new.return_state = None
        new.termination_proposed_by = None  # resolved: the decision row keeps both names

    if action in _DECISIONS:
        decision = DecisionNote(
            outcome=_DECISIONS[action],
            rationale=request.reason or request.note,
            approves_pending=action is Action.APPROVE_TERMINATION,
        )
    if leaving_review:
        if case.termination_proposed_by is not None:
            data["termination_proposal_dropped"] = case.termination_proposed_by
        new.termination_proposed_by = None
    if action is Action.WITHDRAW:
        new.return_state = None

    if not MACHINE.events[action.value].trigger(new):  # pragma: no cover - table guarantees a match
        raise ActionRefused(f"cannot {action.label} from {case.state.value}")
    if leaving_review and new.state is not State.WITHDRAWN:
        new.return_state = None
    if new.state is not case.state and new.extension_request is not None:
        # A request is about what the supplier owes in the state it was made in (a plan or a
        # fix): once that changes, nobody is to answer it any more.
        data["extension_request_dropped"] = new.extension_request.isoformat()
        new.extension_request = None
    if changes:
        new.deadline_version += 1
    new.last_event_at = request.at
    if changes:
        data["deadlines"] = [c.as_data() for c in changes]
    return Change(
        case=new,
        action=action,
        from_state=case.state,
        to_state=new.state,
        data=data,
        deadline_changes=tuple(changes),
        decision=decision,
    )


def _check_request(
    case: Case, request: ActionRequest, now: datetime, calendar: BusinessCalendar
) -> None:
    if request.at.tzinfo is None:
        raise InvalidInput("at: needs a UTC offset, for example 2026-03-02T10:00:00+01:00")
    if request.at > now + CLOCK_SKEW:
        raise InvalidInput(
            f"at: {request.at.isoformat()} is in the future; record actions once they happened"
        )
    calendar.check_covered(request.at, "at")
    if request.until is not None:
        calendar.check_covered(request.until, "until")
        years = UNTIL_HORIZON_YEARS
        latest = add_months(calendar.local_date(request.at), 12 * years)
        if request.until > latest:
            raise InvalidInput(
                f"until: {request.until.isoformat()} is more than {years} years away; give a "
                f"date up to {latest.isoformat()} ({years} years after the action)"
            )
    if case.last_event_at is not None and request.at < case.last_event_at:
        raise InvalidInput(
            f"at: {request.at.isoformat()} is before the finding's last recorded event "
            f"({case.last_event_at.isoformat()}); record actions in the order they happened"
        )
    if not request.actor.strip():
        raise InvalidInput("as: the actor is required (an email address)")
    action = request.action
    if action in _NEEDS_REASON and not (request.reason and request.reason.strip()):
        raise InvalidInput(f"reason: {action.label} needs a reason")
    if action in _NEEDS_NOTE and not (request.note and request.note.strip()):
        raise InvalidInput(f"note: {action.label} needs a verification note")
    if action is Action.EXTEND and request.until is None:
        raise InvalidInput("until: extend needs the new deadline date")
    if action is Action.REQUEST_EXTENSION and request.until is None:
        raise InvalidInput("until: request-extension needs the date the supplier asks for")


_DUE_FIELD = {
    DeadlineKind.PLAN: "plan_due",
    DeadlineKind.PLAN_REVIEW: "review_due",
    DeadlineKind.REMEDIATION: "remediation_due",
    DeadlineKind.VERIFICATION: "verification_due",
}


def set_deadline(case: Case, kind: DeadlineKind, due: date, at: datetime) -> DeadlineChange:
    """Give ``case`` a new deadline; its reminder ladder starts afresh from ``at``."""
    old = deadline_of(case, kind)
    setattr(case, _DUE_FIELD[kind], due)
    case.ladder = {**case.ladder, kind: LadderMark(due=due, since=at)}
    return DeadlineChange(kind, old, due)


def _clear(case: Case, kind: DeadlineKind) -> None:
    setattr(case, _DUE_FIELD[kind], None)
    case.ladder = {k: v for k, v in case.ladder.items() if k is not kind}


def _set_requested(
    case: Case, kind: DeadlineKind, requested: date, calendar: BusinessCalendar, at: datetime
) -> DeadlineChange:
    # Every deadline obeys the same calendar rule, including dates a person typed in.
    due = calendar.roll(requested, field="until")
    change = set_deadline(case, kind, due, at)
    if due != requested:
        return DeadlineChange(kind, change.old, due, requested)
    return change


def deadline_of(case: Case, kind: DeadlineKind) -> date | None:
    due: date | None = getattr(case, _DUE_FIELD[kind])
    return due


def _owed(state: State | None) -> DeadlineKind:
    """The supplier's deadline that applies in ``state``: the plan's while one is awaited."""
    return DeadlineKind.PLAN if state is State.AWAITING_PLAN else DeadlineKind.REMEDIATION


def _requested(case: Case, request: ActionRequest) -> DeadlineKind:
    """The deadline an extension request is about (the one the supplier owes now), once the
    date asked for is checked to move it."""
    kind = _owed(case.state)
    if request.deadline is not None and request.deadline is not kind:
        raise InvalidInput(
            f"deadline: a request is about the deadline the supplier owes now ({kind.value}), "
            f"not {request.deadline.value}"
        )
    current = deadline_of(case, kind)
    assert request.until is not None
    if current is not None:
        _check_after(request.until, current, "until", f"the current {kind.value} deadline")
    return kind


def _extend(
    new: Case, case: Case, request: ActionRequest, calendar: BusinessCalendar
) -> DeadlineChange:
    state = case.return_state if case.state is State.SANCTION_REVIEW else case.state
    kind = request.deadline or _owed(state)
    if kind not in (DeadlineKind.PLAN, DeadlineKind.REMEDIATION):
        raise InvalidInput(
            f"deadline: only the supplier's deadlines (plan, remediation) are extended, "
            f"not {kind.value}"
        )
    if kind is DeadlineKind.PLAN and state is not State.AWAITING_PLAN:
        raise InvalidInput(
            "deadline: the plan deadline can only be extended while a plan is awaited; "
            "extend the remediation deadline instead"
        )
    current = deadline_of(case, kind)
    assert request.until is not None
    if current is not None:
        _check_after(request.until, current, "until", f"the current {kind.value} deadline")
    return _set_requested(new, kind, request.until, calendar, request.at)


def _check_after(value: date, bound: date, name: str, what: str) -> None:
    if value <= bound:
        raise InvalidInput(
            f"{name}: {value.isoformat()} must be after {what} ({bound.isoformat()})"
        )


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


#: Which deadlines are in force in which state: each runs its own reminder ladder.
IN_FORCE: dict[State, tuple[DeadlineKind, ...]] = {
    State.AWAITING_PLAN: (DeadlineKind.PLAN, DeadlineKind.REMEDIATION),
    State.PLAN_REVIEW: (DeadlineKind.PLAN_REVIEW, DeadlineKind.REMEDIATION),
    State.REMEDIATING: (DeadlineKind.REMEDIATION,),
    State.VERIFYING: (DeadlineKind.VERIFICATION,),
}


def deadlines_in_force(case: Case) -> list[tuple[DeadlineKind, date]]:
    """The deadlines that bind someone now, earliest first."""
    found = [
        (kind, due)
        for kind in IN_FORCE.get(case.state, ())
        if (due := deadline_of(case, kind)) is not None
    ]
    return sorted(found, key=lambda item: item[1])


def current_deadline(case: Case) -> tuple[DeadlineKind, date] | None:
    """The earliest deadline in force, or ``None`` when nothing is owed by a date."""
    found = deadlines_in_force(case)
    return found[0] if found else None


def is_overdue(case: Case, calendar: BusinessCalendar, now: datetime) -> bool:
    current = current_deadline(case)
    return current is not None and calendar.is_overdue(current[1], now)


def mermaid_diagram() -> str:
    """The lifecycle as a Mermaid state diagram (no graphviz needed)."""
    from transitions.extensions.diagrams import GraphMachine

    machine = build_machine(
        GraphMachine,
        model=Machine.self_literal,
        graph_engine="mermaid",
        title="cap finding lifecycle",
    )
    return str(machine.get_graph().draw(None))
