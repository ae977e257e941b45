"""Reporting obligations: what a contract obliges the supplier to report, and by when.

The case study's: a report on the supplier's social-risk work within six months of the
contract's start. An obligation has one deadline (``report``) whose reminder and escalation
ladder the rules describe like a finding's (``[[step]] deadline = "report"``), run by the same
engine (:mod:`cap.domain.engine`). A report long overdue is escalated like a missing plan: the
ladder's escalating step hands it to the decision makers.

Its life is a small ``transitions`` machine of its own: ``due`` → ``received`` (the report came
in, possibly late), ``due`` → ``escalated`` (the ladder's last step), ``escalated`` →
``received``, either → ``waived`` (the buyer no longer asks for it, with a reason), and
``extend`` to a new date (back to ``due``, the ladder afresh). Pure: :func:`perform_duty` reads
no clock and changes only a copy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from transitions import Machine

from cap.domain.calendar import BusinessCalendar, add_months
from cap.domain.lifecycle import CLOCK_SKEW, SANCTION_REVIEW_LEVEL, UNTIL_HORIZON_YEARS
from cap.domain.model import DeadlineKind, LadderMark, ObligationKind, ObligationState
from cap.errors import ActionRefused, InvalidInput

__all__ = [
    "DUTY_IN_FORCE",
    "Duty",
    "DutyAction",
    "DutyChange",
    "DutyRequest",
    "allowed_duty_actions",
    "check_title",
    "perform_duty",
]

#: Longest description of a report.
TITLE_MAX_LENGTH = 200

#: What each kind of report is called in English (the CLI, calendar events; the desk and the
#: emails have their own words in both languages).
REPORT_NAMES: dict[ObligationKind, str] = {
    ObligationKind.SOCIAL_RISK_REPORT: "social-risk report",
    ObligationKind.SELF_ASSESSMENT: "self-assessment",
    ObligationKind.MINERALS_REPORT: "conflict-minerals report",
    ObligationKind.OTHER: "report",
}


def report_name(kind: ObligationKind, title: str | None) -> str:
    """What people call a report: its title, or its kind in words."""
    return title or REPORT_NAMES[kind]


class DutyAction(StrEnum):
    """What happens to a reporting obligation: the value is the trigger and the CLI's word."""

    RECEIVE = "receive"
    EXTEND = "extend"
    WAIVE = "waive"
    ESCALATE = "escalate"  # the ladder's escalating step; people do not type it


_OWED = (ObligationState.DUE, ObligationState.ESCALATED)
_TRANSITIONS: tuple[tuple[DutyAction, tuple[ObligationState, ...], ObligationState], ...] = (
    (DutyAction.RECEIVE, _OWED, ObligationState.RECEIVED),
    (DutyAction.EXTEND, _OWED, ObligationState.DUE),
    (DutyAction.WAIVE, _OWED, ObligationState.WAIVED),
    (DutyAction.ESCALATE, (ObligationState.DUE,), ObligationState.ESCALATED),
)

#: The one machine shared by every obligation (driven on copies, as findings' is).
DUTY_MACHINE = Machine(
    model=None,
    states=list(ObligationState),
    initial=ObligationState.DUE,
    auto_transitions=False,
    transitions=[{"trigger": a.value, "source": list(s), "dest": d} for a, s, d in _TRANSITIONS],
)

#: Which deadline binds in which state: only while the report is simply due. Once escalated,
#: the decision makers have it, as a finding in sanction review.
DUTY_IN_FORCE: dict[ObligationState, tuple[DeadlineKind, ...]] = {
    ObligationState.DUE: (DeadlineKind.REPORT,),
}


@dataclass
class Duty:
    """The part of an obligation its life reads and changes (a plain object, like
    :class:`~cap.domain.model.Case`, so that the shared machine drives a copy)."""

    state: ObligationState
    due: date
    ladder: dict[DeadlineKind, LadderMark] = field(default_factory=dict)
    escalation_level: int = 0
    deadline_version: int = 0
    received_on: date | None = None
    last_event_at: datetime | None = None


@dataclass(frozen=True)
class DutyRequest:
    """What a person (or the sweep) asks for. ``at`` is when it was recorded (aware);
    ``received_on`` the day the report came in (receive); ``until`` the new date (extend)."""

    action: DutyAction
    actor: str
    at: datetime
    received_on: date | None = None
    reference: str | None = None
    reason: str | None = None
    until: date | None = None


@dataclass(frozen=True)
class DutyChange:
    duty: Duty
    action: DutyAction
    from_state: ObligationState
    to_state: ObligationState
    data: dict[str, Any]


def allowed_duty_actions(state: ObligationState) -> tuple[DutyAction, ...]:
    """What people may do in ``state`` (escalating is the ladder's)."""
    return tuple(
        a for a, sources, _ in _TRANSITIONS if state in sources and a is not DutyAction.ESCALATE
    )


def new_duty(due: date, at: datetime) -> Duty:
    """An obligation just recorded: due on ``due``, its ladder counting from ``at`` (steps that
    fell due before it was recorded never apply, as for a finding's back-dated deadline)."""
    return Duty(
        state=ObligationState.DUE,
        due=due,
        ladder={DeadlineKind.REPORT: LadderMark(due=due, since=at)},
    )


def perform_duty(
    duty: Duty, request: DutyRequest, *, now: datetime, calendar: BusinessCalendar
) -> DutyChange:
    """Apply ``request`` to a copy of ``duty``.

    Raises :class:`ActionRefused` when the state does not allow it (the message says what is
    allowed) and :class:`InvalidInput` naming the field of a missing or bad value.
    """
    action = request.action
    if not any(a is action and duty.state in s for a, s, _ in _TRANSITIONS):
        allowed = ", ".join(a.value for a in allowed_duty_actions(duty.state))
        raise ActionRefused(
            f"cannot {action.value}: the report is {duty.state.value}; "
            f"allowed now: {allowed or 'nothing (it is settled)'}"
        )
    _check(duty, request, now, calendar)
    new = copy.copy(duty)
    data: dict[str, Any] = {}
    if request.reason:
        data["reason"] = request.reason.strip()
    if action is DutyAction.RECEIVE:
        assert request.received_on is not None
        new.received_on = request.received_on
        new.ladder = {}
        data["received_on"] = request.received_on.isoformat()
        data["late"] = request.received_on > duty.due
        if request.reference:
            data["reference"] = request.reference.strip()
    elif action is DutyAction.EXTEND:
        assert request.until is not None
        due = calendar.roll(request.until, field="until")
        data["old"], data["new"] = duty.due.isoformat(), due.isoformat()
        if due != request.until:
            data["requested"] = request.until.isoformat()
        new.due = due
        new.ladder = {DeadlineKind.REPORT: LadderMark(due=due, since=request.at)}
        new.deadline_version += 1
        new.escalation_level = 0
    elif action is DutyAction.WAIVE:
        new.ladder = {}
    elif action is DutyAction.ESCALATE:
        new.escalation_level = max(duty.escalation_level, SANCTION_REVIEW_LEVEL)
    DUTY_MACHINE.events[action.value].trigger(new)
    new.last_event_at = request.at
    return DutyChange(new, action, duty.state, new.state, data)


def _check(duty: Duty, request: DutyRequest, now: datetime, calendar: BusinessCalendar) -> None:
    if request.at.tzinfo is None:
        raise InvalidInput("at: needs a UTC offset, for example 2026-03-02T10:00:00+01:00")
    if request.at > now + CLOCK_SKEW:
        raise InvalidInput(
            f"at: {request.at.isoformat()} is in the future; record what has happened"
        )
    if duty.last_event_at is not None and request.at < duty.last_event_at:
        raise InvalidInput(
            f"at: {request.at.isoformat()} is before the report's last recorded event "
            f"({duty.last_event_at.isoformat()}); record events in the order they happened"
        )
    if not request.actor.strip():
        raise InvalidInput("as: the actor is required (an email address)")
    today = calendar.local_date(request.at)
    if request.action is DutyAction.RECEIVE:
        if request.received_on is None:
            raise InvalidInput("on: receive needs the day the report came in")
        if request.received_on > today:
            raise InvalidInput(
                f"on: {request.received_on.isoformat()} is in the future; give the day the "
                f"report came in (today is {today.isoformat()})"
            )
        calendar.check_covered(request.received_on, "on")
    if request.action in (DutyAction.WAIVE, DutyAction.EXTEND) and not (
        request.reason and request.reason.strip()
    ):
        raise InvalidInput(f"reason: {request.action.value} needs a reason")
    if request.action is DutyAction.EXTEND:
        if request.until is None:
            raise InvalidInput("until: extend needs the new due date")
        calendar.check_covered(request.until, "until")
        if request.until <= duty.due:
            raise InvalidInput(
                f"until: {request.until.isoformat()} must be after the current due date "
                f"({duty.due.isoformat()})"
            )
        latest = add_months(today, 12 * UNTIL_HORIZON_YEARS)
        if request.until > latest:
            raise InvalidInput(
                f"until: {request.until.isoformat()} is more than {UNTIL_HORIZON_YEARS} years "
                f"away; give a date up to {latest.isoformat()}"
            )


def check_title(kind: ObligationKind, title: str | None) -> str | None:
    """The description of a report as stored: required for ``other``, one line, not too long."""
    text = " ".join(title.split()) if title else None
    if kind is ObligationKind.OTHER and not text:
        raise InvalidInput("title: a report of kind 'other' needs a title saying what it is")
    if text and len(text) > TITLE_MAX_LENGTH:
        raise InvalidInput(f"title: {len(text)} characters; write at most {TITLE_MAX_LENGTH}")
    return text
