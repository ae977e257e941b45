"""The dashboard's figures, read from stored columns (due_order) and kept per process, are the
lifecycle's: on a world of findings in every state with deadlines spread around the day
looked at, every count, list and light is what the domain says finding by finding, for each
role, on several days (both databases)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.domain.lifecycle import Action, current_deadline
from cap.domain.model import StaffRole, State
from cap.store.mapping import case_of
from cap.store.models import NO_DEADLINE, Contract, Finding, Supplier
from cap.workflow import Workflow, dashboard
from cap.workflow.dashboard import (
    FINISHED,
    SOON_DAYS,
    SUPPLIER_LIMIT,
    Dashboard,
    Light,
    Queue,
)
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import SARA, SVEN
from tests.web.test_web_dashboard import act, another_supplier

OTHER_MANAGER = "olle.manager@region.example"
#: The actions that bring a notified finding to each state, with who takes them.
PATHS: dict[State, tuple[tuple[Action, str], ...]] = {
    State.OPEN: (),
    State.AWAITING_PLAN: (),
    State.PLAN_REVIEW: ((Action.SUBMIT_PLAN, LI),),
    State.REMEDIATING: ((Action.SUBMIT_PLAN, LI), (Action.ACCEPT_PLAN, ANNA)),
    State.VERIFYING: (
        (Action.SUBMIT_PLAN, LI), (Action.ACCEPT_PLAN, ANNA), (Action.REPORT_REMEDIATION, LI),
    ),
    State.CLOSED: (
        (Action.SUBMIT_PLAN, LI), (Action.ACCEPT_PLAN, ANNA), (Action.REPORT_REMEDIATION, LI),
        (Action.VERIFY, ANNA),
    ),
    State.SANCTION_REVIEW: ((Action.ESCALATE, SARA),),
    State.TERMINATED: ((Action.ESCALATE, SARA), (Action.TERMINATE, SARA),
                       (Action.APPROVE_TERMINATION, SVEN)),
    State.WITHDRAWN: ((Action.WITHDRAW, ANNA),),
}  # fmt: skip


@dataclass(frozen=True)
class Stored:
    """A finding as stored, with what the dashboard shows of it."""

    finding: Finding
    supplier: str
    org_number: str
    manager: str


def spread_world(world: World) -> None:
    """Five suppliers (contracts of two managers), findings in every state, notified on days
    spread over three months, one termination proposed and waiting; a sixth supplier idle."""
    rng = random.Random(20260303)
    worlds = [world] + [
        another_supplier(world, name, f"556300-{n:04d}",
                         manager=ANNA.upper() if n % 2 else OTHER_MANAGER)
        for n, name in enumerate(("Alfa AB", "Bravo AB", "Charlie AB", "Delta AB"), start=1)
    ]  # fmt: skip
    for n in range(28):
        on = worlds[n % len(worlds)]
        target = list(PATHS)[n % len(PATHS)]
        ref = on.finding(title=f"Finding {n}", found_on=date(2026, 1, 1) + timedelta(days=n % 7))
        if target is State.OPEN:
            continue
        at = NOW + timedelta(days=rng.randrange(0, 90))
        act(on, ref, Action.NOTIFY, at)
        for step, (action, actor) in enumerate(PATHS[target], start=1):
            kw = {"note" if action is Action.VERIFY else "reason": "recorded by the test"}
            act(on, ref, action, at + timedelta(hours=step), actor=actor, **kw)
    proposed = worlds[1].finding(title="Proposed", found_on=date(2026, 1, 2))
    act(worlds[1], proposed, Action.NOTIFY, NOW)
    act(worlds[1], proposed, Action.ESCALATE, NOW + timedelta(hours=1), actor=SARA,
        reason="Child labour confirmed")  # fmt: skip
    act(worlds[1], proposed, Action.TERMINATE, NOW + timedelta(hours=2), actor=SARA,
        reason="Clause 7")  # fmt: skip
    another_supplier(world, "Echo AB", "556300-0009")  # nothing logged: grey


def stored(world: World) -> tuple[list[Stored], list[tuple[str, str]]]:
    """Every finding, and every supplier's name and organisation number."""
    with world.workflow.db.read() as session:
        findings = session.execute(
            select(Finding, col(Supplier.name), col(Supplier.org_number),
                   col(Contract.manager_email))
            .join(Supplier, col(Supplier.id) == col(Finding.supplier_id))
            .join(Contract, col(Contract.id) == col(Finding.contract_id))
        ).all()  # fmt: skip
        suppliers = session.execute(select(col(Supplier.name), col(Supplier.org_number))).all()
    return [Stored(*row) for row in findings], [(name, org) for name, org in suppliers]


def expected_lights(
    findings: list[Stored], suppliers: list[tuple[str, str]], today: date
) -> tuple[dict[Light, int], list[tuple[str, Light, int, int, int, int]]]:
    """Each light's count and the red and amber suppliers, worst first, finding by finding."""
    tallies: dict[str, list[int]] = {org: [0, 0, 0, 0] for _, org in suppliers}
    for s in findings:
        f = s.finding
        if f.state in FINISHED:
            continue
        current = current_deadline(case_of(f))
        tally = tallies[s.org_number]
        tally[0] += current is not None and current[1] < today
        tally[1] += f.state is State.SANCTION_REVIEW
        tally[2] += current is not None and today <= current[1] <= today + timedelta(SOON_DAYS)
        tally[3] += 1
    names = dict((org, name) for name, org in suppliers)
    ranked = []
    for org, (late, sanction, soon, open_n) in tallies.items():
        light = (Light.RED if late or sanction else Light.AMBER if soon
                 else Light.GREEN if open_n else Light.GREY)  # fmt: skip
        ranked.append((list(Light).index(light), -(late + sanction), -soon, names[org], org,
                       (names[org], light, late, sanction, soon, open_n)))  # fmt: skip
    ranked.sort()
    counts = Counter(row[-1][1] for row in ranked)
    flagged = [row[-1] for row in ranked if row[-1][1] in (Light.RED, Light.AMBER)]
    return {light: counts[light] for light in Light}, flagged[:SUPPLIER_LIMIT]


def assert_as_the_lifecycle_says(
    board: Dashboard, findings: list[Stored], suppliers: list[tuple[str, str]],
    me: str, role: StaffRole,
) -> None:  # fmt: skip
    today, limit = board.today, dashboard.LIST_LIMIT
    assert {c.state: c.count for c in board.states} == {
        state: sum(s.finding.state is state for s in findings) for state in State
    }
    due = {s.finding.ref: current_deadline(case_of(s.finding)) for s in findings}
    by_due = sorted(
        (d[1], s.finding.id or 0, s.finding.ref) for s in findings if (d := due[s.finding.ref])
    )
    overdue = [ref for day, _, ref in by_due if day < today]
    soon = [ref for day, _, ref in by_due if today <= day <= today + timedelta(SOON_DAYS)]
    assert board.overdue == len(overdue)
    assert [i.ref for i in board.overdue_items] == overdue[:limit]
    assert board.due_soon == len(soon)
    assert [i.ref for i in board.due_soon_items] == soon[:limit]
    for item in (*board.overdue_items, *board.due_soon_items):
        assert (item.deadline, item.due) == due[item.ref]

    lights, flagged = expected_lights(findings, suppliers, today)
    assert {c.light: c.count for c in board.lights} == lights
    assert [(f.name, f.light, f.overdue, f.sanction_review, f.due_soon, f.open)
            for f in board.flagged] == flagged  # fmt: skip

    def waiting(state: State) -> list[Stored]:
        return [s for s in findings if s.finding.state is state]

    def listed(items: list[Stored], yours_first: bool) -> list[str]:
        """Yours first (on a contract ``me`` manages), then the most pressing (the earliest
        deadline, none last), then the longest waiting."""

        def order(s: Stored) -> tuple[bool, date, datetime, int]:
            current = due[s.finding.ref]
            mine = yours_first and s.manager.lower() == me
            assert s.finding.last_event_at is not None
            return (not mine, current[1] if current else NO_DEADLINE, s.finding.last_event_at,
                    s.finding.id or 0)  # fmt: skip

        return [s.finding.ref for s in sorted(items, key=order)][:limit]

    plans, fixes = waiting(State.PLAN_REVIEW), waiting(State.VERIFYING)
    sanctions = waiting(State.SANCTION_REVIEW)
    proposed = [s for s in sanctions if s.finding.termination_proposed_by is not None]
    counts = {q.queue: (q.count, q.yours) for q in board.queues}
    items = {q.queue: [i.ref for i in q.items] for q in board.queues}
    if role is StaffRole.CONTRACT_MANAGER:
        mine = [sum(s.manager.lower() == me for s in q) for q in (plans, fixes)]
        assert counts == {Queue.PLANS: (len(plans), mine[0]), Queue.FIXES: (len(fixes), mine[1])}
        assert items == {Queue.PLANS: listed(plans, True), Queue.FIXES: listed(fixes, True)}
    elif role is StaffRole.SUSTAINABILITY_MANAGER:
        for_me = [s for s in proposed if (s.finding.termination_proposed_by or "").lower() != me]
        unproposed = [s for s in sanctions if s not in proposed]
        assert counts == {Queue.SANCTIONS: (len(unproposed), 0),
                          Queue.TERMINATIONS: (len(for_me), 0)}  # fmt: skip
        assert items == {Queue.SANCTIONS: listed(unproposed, False),
                         Queue.TERMINATIONS: listed(for_me, False)}  # fmt: skip
    else:
        assert counts == {Queue.PLANS: (len(plans), 0), Queue.FIXES: (len(fixes), 0),
                          Queue.SANCTIONS: (len(sanctions) - len(proposed), 0),
                          Queue.TERMINATIONS: (len(proposed), 0)}  # fmt: skip

    unfinished = sorted(
        (s.finding.found_on, s.finding.created_at, s.finding.id or 0, s.finding.ref)
        for s in findings
        if s.finding.state not in FINISHED
    )
    assert [f.ref for f in board.oldest] == [row[-1] for row in unfinished[:limit]]


def test_the_figures_are_the_lifecycles(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    spread_world(world)
    findings, suppliers = stored(world)
    assert {s.finding.state for s in findings} == set(State)
    # Both sides of each boundary: the day a deadline falls on (due, not overdue) and the
    # day after, the first day it is due soon and the day before; plus days far off.
    dues = sorted({d[1] for s in findings if (d := current_deadline(case_of(s.finding)))})
    days = {NOW.date() + timedelta(days=n) for n in (40, 130, 220)}
    for due in dues[:: max(1, len(dues) // 4)]:
        soon = due - timedelta(days=SOON_DAYS)
        days |= {due, due + timedelta(days=1), soon, soon - timedelta(days=1)}
    calendar = world.workflow.settings.calendar
    sustainability = StaffRole.SUSTAINABILITY_MANAGER
    cases = ((BO, StaffRole.VIEWER), (ANNA, StaffRole.CONTRACT_MANAGER),
             (SVEN, sustainability), (SARA, sustainability))  # fmt: skip
    shown: Counter[str] = Counter()  # the comparison compared something
    for day in sorted(days):
        now = calendar.end_of_day(day) - timedelta(minutes=1)  # the day's last minute
        for _ in range(2):  # computed, then kept
            for email, role in cases:
                board = world.workflow.dashboard(now=now, user_email=email, role=role)
                assert board.today == day
                assert_as_the_lifecycle_says(board, findings, suppliers, email.lower(), role)
                shown.update(
                    {"overdue": board.overdue, "soon": board.due_soon, "oldest": len(board.oldest),
                     "yours": sum(q.yours for q in board.queues),
                     "listed": sum(len(q.items) for q in board.queues),
                     **{c.light.value: c.count for c in board.lights}}
                )  # fmt: skip
    assert all(shown[what] for what in ("overdue", "soon", "oldest", "yours", "listed", *Light))
    # Lists shorter than the findings waiting (yours first, then the others), and more
    # suppliers tied than are read by id (all are read, in order of name).
    monkeypatch.setattr(dashboard, "LIST_LIMIT", 2)
    monkeypatch.setattr(dashboard, "ID_BATCH", 1)
    short = Workflow(world.workflow.db, world.workflow.settings)  # nothing kept
    for day in sorted(days)[::3]:
        now = calendar.end_of_day(day) - timedelta(minutes=1)
        for email, role in cases:
            board = short.dashboard(now=now, user_email=email, role=role)
            assert_as_the_lifecycle_says(board, findings, suppliers, email.lower(), role)
