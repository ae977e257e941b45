"""Simulating the rules as a use case: an imagined finding's notices, deadlines and ladder
steps up to the first automatic escalation, under the rules in force or other ones; nothing
read or written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cap.config import Settings, default_rules_path
from cap.domain.calendar import OutsideCalendar
from cap.domain.model import Area, Role, Severity
from cap.domain.rules import load_rules
from cap.store.db import Database
from cap.workflow import NoticeView, StepView, Workflow

NOTIFIED = datetime(2026, 3, 3, 10, 0, tzinfo=timezone(timedelta(hours=1)))  # a Tuesday


@pytest.fixture
def workflow() -> Iterator[Workflow]:
    # A database nobody opens: simulating reads and writes nothing.
    wf = Workflow(Database("sqlite://"), Settings(database_url="sqlite://"))
    yield wf
    wf.db.engine.dispose()


def test_the_notices_come_first_then_the_ladder_up_to_the_escalation(workflow: Workflow) -> None:
    simulation = workflow.simulate(Severity.CRITICAL, Area.CHILD_LABOUR, NOTIFIED)
    assert simulation.notified == NOTIFIED
    notices = [e for e in simulation.timeline if isinstance(e, NoticeView)]
    steps = [e for e in simulation.timeline if isinstance(e, StepView)]
    assert simulation.timeline == (*notices, *steps)
    assert [(n.rule, n.at, n.to) for n in notices] == [
        ("N-cap-requested", NOTIFIED, (Role.SUPPLIER,)),
        ("N-critical-alert", NOTIFIED, (Role.SUSTAINABILITY_MANAGER,)),
    ]
    [deadline] = [s for s in steps if s.kind == "deadline"]
    assert {n.due for n in notices} == {deadline.due}  # the plan deadline they announce
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    assert [s.action for s in steps].count("escalate") == 1
    assert steps[-1].action == "escalate" and steps[-1].rule == "E-plan-14d-critical"
    assert not any(s.done for s in steps)


def test_a_minor_finding_gets_only_the_notices_meant_for_every_finding(workflow: Workflow) -> None:
    simulation = workflow.simulate(Severity.MINOR, Area.WAGES, NOTIFIED)
    assert [e.rule for e in simulation.timeline if isinstance(e, NoticeView)] == ["N-cap-requested"]


def test_other_rules_can_be_simulated_before_they_are_in_force(
    workflow: Workflow, tmp_path: Path
) -> None:
    changed = tmp_path / "rules.toml"
    changed.write_text(
        default_rules_path().read_text().replace('period = "1 month"', 'period = "2 months"', 1)
    )
    in_force = workflow.simulate(Severity.MAJOR, Area.WAGES, NOTIFIED)
    proposed = workflow.simulate(Severity.MAJOR, Area.WAGES, NOTIFIED, rules=load_rules(changed))

    def plan_due(timeline: tuple[NoticeView | StepView, ...]) -> date:
        return next(e.due for e in timeline if isinstance(e, StepView) and e.kind == "deadline")

    assert plan_due(in_force.timeline) == date(2026, 4, 7)  # after Easter
    assert plan_due(proposed.timeline) == date(2026, 5, 4)  # 3 May is a Sunday


def test_a_moment_the_calendar_does_not_cover_is_refused(workflow: Workflow) -> None:
    with pytest.raises(OutsideCalendar, match=r"^notified: "):
        workflow.simulate(Severity.MAJOR, Area.WAGES, NOTIFIED.replace(year=2200))
