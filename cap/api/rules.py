"""The rules in force over the API, and a simulation of a finding's whole future under them.

The rules are shown as data, with the rules file's names (``[[deadline]]``, ``[[step]]``,
``[[notice]]``, ``[calendar]``, ``[extensions]``) and its digest, as the desk's rules page and
`cap rules check` show them; a period is its months and days, an offset its days (negative:
before the deadline). The domain's rule models are pydantic models, which
:func:`cap.workflow.to_json` does not write, hence the small views here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from cap.api.common import Caller, Flow, Instant, require
from cap.api.problems import described
from cap.config import Settings
from cap.domain.calendar import Period
from cap.domain.model import Action, Area, DeadlineKind, Limit, Role, Severity
from cap.domain.permissions import Permission
from cap.workflow import Simulation, UnaddressedRole, to_json, unaddressed_roles

router = APIRouter(tags=["rules"])
T = TypeVar("T")


@dataclass(frozen=True)
class CalendarView:
    """How deadlines are counted: closed days, the zone a deadline's day ends in, and the
    local time of day (``HH:MM``) reminders and escalations go out from."""

    timezone: str
    holiday_country: str | None
    roll_forward: bool
    extra_closed_days: tuple[date, ...]
    send_at: str


@dataclass(frozen=True)
class DeadlineRuleView:
    """A time limit for the findings it applies to (``severity``, ``area``: null for all)."""

    id: str
    kind: Limit
    period: Period
    severity: tuple[Severity, ...] | None
    area: tuple[Area, ...] | None


@dataclass(frozen=True)
class StepRuleView:
    """A reminder (``offset`` days before its deadline) or an escalation (after) of a
    deadline's ladder; ``action`` "escalate" sends the finding to sanction review."""

    id: str
    deadline: DeadlineKind
    offset: int
    to: tuple[Role, ...]
    template: str
    level: int
    action: str | None
    severity: tuple[Severity, ...] | None
    area: tuple[Area, ...] | None


@dataclass(frozen=True)
class NoticeRuleView:
    """An email a person's action (``on``) sends at once, naming ``deadline`` if any."""

    id: str
    on: Action
    to: tuple[Role, ...]
    template: str
    deadline: DeadlineKind | None
    severity: tuple[Severity, ...] | None
    area: tuple[Area, ...] | None


@dataclass(frozen=True)
class ExtensionsView:
    """Extensions per finding at most (null: no limit), and who decides them (none: anyone
    whose role may extend a deadline)."""

    max: int | None
    approvers: tuple[Role, ...]


@dataclass(frozen=True)
class RulesView:
    """The rules in force: ``digest`` as `cap rules check` gives it; the steps by ladder
    (deadline, then offset); ``unaddressed`` the roles they email with no address set."""

    digest: str
    calendar: CalendarView
    deadlines: tuple[DeadlineRuleView, ...]
    steps: tuple[StepRuleView, ...]
    notices: tuple[NoticeRuleView, ...]
    extensions: ExtensionsView
    unaddressed: tuple[UnaddressedRole, ...]


class SimulationBody(BaseModel):
    """An imagined finding, as `cap rules simulate`'s options: notified at ``notified``."""

    model_config = ConfigDict(extra="forbid")

    severity: Severity
    area: Area
    notified: Instant


def _some(values: list[T] | None) -> tuple[T, ...] | None:
    """A rule's filter as a tuple; None (every value) stays None."""
    return tuple(values) if values is not None else None


def rules_view(settings: Settings) -> RulesView:
    """The rules in force in ``settings``, as data."""
    rules = settings.rule_set
    calendar = rules.calendar_rules
    order = list(DeadlineKind)
    return RulesView(
        digest=rules.digest,
        calendar=CalendarView(
            calendar.timezone, calendar.holiday_country, calendar.roll_forward,
            tuple(calendar.extra_closed_days), calendar.send_at.strftime("%H:%M"),
        ),
        deadlines=tuple(
            DeadlineRuleView(d.id, d.kind, d.period, _some(d.severity), _some(d.area))
            for d in rules.deadlines
        ),
        steps=tuple(
            StepRuleView(s.id, s.deadline, s.offset, tuple(s.to), s.template, s.level, s.action,
                         _some(s.severity), _some(s.area))
            for s in sorted(rules.steps, key=lambda s: (order.index(s.deadline), s.offset, s.id))
        ),
        notices=tuple(
            NoticeRuleView(n.id, n.on, tuple(n.to), n.template, n.deadline, _some(n.severity),
                           _some(n.area))
            for n in rules.notices
        ),
        extensions=ExtensionsView(rules.extensions.max, tuple(rules.extensions.approvers)),
        unaddressed=tuple(unaddressed_roles(settings)),
    )  # fmt: skip


@router.get("/rules", response_model=RulesView, responses=described(401))
def show_rules(token: Caller, workflow: Flow) -> JSONResponse:
    """The rules in force: calendar, time limits, ladders, notices, extension limits."""
    require(token, Permission.READ)
    return JSONResponse(to_json(rules_view(workflow.settings)))


@router.post("/simulate", response_model=Simulation,
             responses=described(400, 401, 413, 422))  # fmt: skip
def simulate(token: Caller, workflow: Flow, body: SimulationBody) -> JSONResponse:
    """The whole future of a finding notified at ``notified`` under the rules in force, as
    `cap rules simulate --json`: the notices notifying sends, then every deadline, reminder
    and escalation (nobody answers, nothing is extended) up to the first automatic
    escalation. Writes nothing."""
    require(token, Permission.READ)
    return JSONResponse(to_json(workflow.simulate(body.severity, body.area, body.notified)))
