"""A believable demo data set: Region Stockholm's ICT contracts with Electronics Watch clauses.

:func:`seed` fills an empty, migrated database with five suppliers, six contracts and fifteen
findings spread over every state of the lifecycle, as the database would look at a given
``now``. Every finding's history is back-dated the way a person types ``--at``: relative to
``now``, on working days, in order, so that some deadlines are near and some have passed
whatever day ``now`` is.

Everything goes through the public use cases of :class:`cap.workflow.Workflow` (the rules
decide the deadlines, the lifecycle refuses anything out of order) and is derived from ``now``
alone: no randomness, so two seeds with the same ``now`` give the same data. All addresses use
the reserved ``.example`` top-level domain, so the emails queued on the way reach nobody.

:func:`add_users` gives the desk one user per role, with random passwords (cap/demo/users.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from cap.demo.findings import FINDINGS
from cap.demo.parties import (
    CONTRACTS,
    DECISION_MAKERS,
    MONITORS,
    SERVERS,
    SUPPLIERS,
    THIN_CLIENTS,
)
from cap.demo.specs import Ago, FindingSpec, StepSpec
from cap.demo.users import DemoLogin, add_users
from cap.domain.calendar import BusinessCalendar, add_months
from cap.domain.inputs import FindingInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import ObligationKind, State
from cap.domain.obligations import DutyAction, DutyRequest
from cap.errors import AlreadyExists, InvalidInput
from cap.workflow import FindingFilter, Workflow
from cap.workflow.obligations import ObligationFilter

__all__ = ["DECISION_MAKERS", "DemoLogin", "DemoSummary", "add_users", "seed"]

# -- the summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`seed` created: counts, findings per state (every state, in lifecycle
    order, zeros included) and the refs of the findings in the order they were logged."""

    suppliers: int
    contracts: int
    findings: dict[str, int] = field(default_factory=dict)
    refs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (new dict and list, safe to change)."""
        return {
            "suppliers": self.suppliers,
            "contracts": self.contracts,
            "findings": dict(self.findings),
            "refs": list(self.refs),
        }


# -- seeding ---------------------------------------------------------------------------------

#: When the suppliers and contracts were entered into cap, before any finding.
_SETUP = Ago(months=13, clock=time(8, 30))
#: Two actions of one finding that fall on the same minute (after moving one off a weekend
#: or holiday) are kept at least this far apart, in their order.
_GAP = timedelta(minutes=15)


def seed(workflow: Workflow, *, now: datetime) -> DemoSummary:
    """Fill an empty, migrated database with a believable data set, as it would look at `now`
    (aware UTC): a handful of suppliers and contracts and findings in every state, with their
    history back-dated by `--at`-style action times so that some deadlines are near, some passed.

    Contract:

    - ``now`` must be timezone-aware (:class:`InvalidInput` otherwise); any day works. Every
      recorded instant lies before ``now``, on a working day of the rules' calendar, and each
      finding's events are in time order, its ``found_on`` no later than its first event.
    - Deterministic: the same ``now`` and rules give the same data (refs depend on what the
      database already holds: ``NC-<year logged>-<n>``).
    - If any demo supplier's organisation number is already taken (seeded before),
      :class:`AlreadyExists` is raised before anything is written.
    - Not one transaction: each supplier, contract, finding and action is its own use case,
      so a failure half-way (a database outage) leaves what was written so far.
    - Actions queue their emails in the outbox as people's actions do; every address is at a
      ``.example`` domain. No sweep is run: ``cap sweep`` afterwards applies the reminders and
      escalations due now (one message per finding).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now: needs a time zone, for example 2026-11-29T10:00:00+00:00")
    calendar = workflow.settings.calendar
    today = calendar.local_date(now)

    taken = {s.org_number for s in workflow.list_suppliers()}
    clash = [s for s in SUPPLIERS if s.org_number in taken]
    if clash:
        raise AlreadyExists(
            f"org-number: a supplier with organisation number {clash[0].org_number} "
            f"({clash[0].name}) already exists; the demo data is seeded into an empty database"
        )

    setup_at = _instant(_SETUP, today, calendar)
    for supplier in SUPPLIERS:
        workflow.add_supplier(supplier, now=setup_at)
    for contract in CONTRACTS:
        workflow.add_contract(contract, now=setup_at + _GAP)
    _reports(workflow, today, setup_at + 2 * _GAP, now)

    managers = {c.reference: c.manager for c in CONTRACTS}
    suppliers = {s.org_number: s for s in SUPPLIERS}
    contacts = {c.reference: suppliers[c.supplier].email for c in CONTRACTS}

    schedule = {spec.key: _schedule(spec, today, calendar, now) for spec in FINDINGS}

    # Log in the order the findings were logged, so their numbers follow time.
    refs: dict[str, str] = {}
    for spec in sorted(FINDINGS, key=lambda s: schedule[s.key][0]):
        logged_at = schedule[spec.key][0]
        found = calendar.local_date(logged_at) - timedelta(days=spec.found_days_before)
        refs[spec.key] = workflow.log_finding(
            _finding_input(spec, found), actor=managers[spec.contract], now=logged_at
        )

    for spec in FINDINGS:
        due: date | None = None  # the date of the deadline in force after the previous step
        for step, at in zip(spec.steps, schedule[spec.key][1:], strict=True):
            actor = {"manager": managers[spec.contract], "supplier": contacts[spec.contract]}.get(
                step.actor, step.actor
            )
            request = ActionRequest(
                step.action,
                actor,
                at,
                reason=step.reason.format_map(refs) if step.reason else None,
                note=step.note.format_map(refs) if step.note else None,
                until=_until(step, due),
            )
            plan = step.plan.to_input(calendar.local_date(at)) if step.plan else None
            shown = workflow.act(
                refs[spec.key], request, now=now, plan=plan, evidence=step.evidence
            ).finding
            assert shown is not None
            due = shown.due

    return _summary(workflow, list(refs.values()), now)


def _reports(workflow: Workflow, today: date, recorded: datetime, now: datetime) -> None:
    """Reports the contracts oblige their suppliers to send (the contracts started years ago,
    so none is owed by default): one due in ten days, one three weeks overdue (the first
    sweep sends its notice; within days of the demo's clock it reaches the decision makers),
    and one that came in late."""
    calendar = workflow.settings.calendar
    managers = {c.reference: c.manager for c in CONTRACTS}
    soon, overdue, late = (
        (SERVERS, ObligationKind.SOCIAL_RISK_REPORT, None, 10),
        (MONITORS, ObligationKind.MINERALS_REPORT, None, -21),
        (THIN_CLIENTS, ObligationKind.OTHER, "Code of conduct self-assessment, 2025", -60),
    )
    for contract, kind, title, days in (soon, overdue, late):
        workflow.add_obligation(
            contract, kind=kind, title=title, due=today + timedelta(days=days),
            actor=managers[contract], now=recorded,
        )  # fmt: skip
    came_in = calendar.roll_back(today - timedelta(days=45))
    [received] = workflow.list_obligations(now=now, where=ObligationFilter(contract=late[0]))
    workflow.act_on_obligation(
        received.id,
        DutyRequest(DutyAction.RECEIVE, managers[late[0]], calendar.at(came_in, time(10, 0)),
                    received_on=came_in, reference="AUR-SAQ-2025.pdf"),
        now=now,
    )  # fmt: skip


def _instant(ago: Ago, today: date, calendar: BusinessCalendar) -> datetime:
    """The UTC instant ``ago`` names, moved back to the last working day on or before it."""
    day = add_months(today, -ago.months) - timedelta(days=ago.days)
    return calendar.at(calendar.roll_back(day), ago.clock)


def _schedule(
    spec: FindingSpec, today: date, calendar: BusinessCalendar, now: datetime
) -> list[datetime]:
    """When ``spec`` was logged, then when each of its steps happened: in order, before ``now``.

    Raises ``AssertionError`` when the data set itself is wrong (a step out of order by more
    than a moved weekend explains, or one that would lie in the future).
    """
    times: list[datetime] = []
    for ago in (spec.logged, *(s.when for s in spec.steps)):
        at = _instant(ago, today, calendar)
        if times and at <= times[-1]:
            # Two days moved back onto the same working day: keep them in their order.
            assert times[-1] - at < timedelta(days=7), f"demo finding {spec.key}: steps disorder"
            at = times[-1] + _GAP
        times.append(at)
    assert times[-1] < now, f"demo finding {spec.key}: its last step would be in the future"
    return times


def _until(step: StepSpec, due: date | None) -> date | None:
    """An extension's new date, or the one a request asks for: ``due``, the deadline in force
    after the previous step, moved on."""
    if step.extend_days is None:
        return None
    if due is None:
        raise AssertionError("demo data: an extension needs a deadline in force to move")
    return due + timedelta(days=step.extend_days)


def _finding_input(spec: FindingSpec, found: date) -> FindingInput:
    visit = found - timedelta(days=3)
    return FindingInput(
        contract=spec.contract,
        severity=spec.severity,
        area=spec.area,
        source=spec.source,
        title=spec.title,
        description=spec.description.format(found=found.isoformat(), visit=visit.isoformat()),
        site=spec.site,
        site_country=spec.site_country,
        found_on=found,
    )


def _summary(workflow: Workflow, refs: list[str], now: datetime) -> DemoSummary:
    mine = set(refs)
    states = Counter(
        f.state for f in workflow.list_findings(FindingFilter(), now=now) if f.ref in mine
    )
    return DemoSummary(
        suppliers=len(SUPPLIERS),
        contracts=len(CONTRACTS),
        findings={state.value: states.get(state, 0) for state in State},
        refs=refs,
    )
