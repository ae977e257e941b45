"""Notifications that reach nobody say so: in the sweep's report and output, in the worker's
log, and after an action, each naming the setting to fix."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.store.db import Database
from cap.worker import Worker
from cap.workflow import Unreached, Workflow, to_json
from tests.cli_runner import Cap
from tests.conftest import ANNA, World, make_world

NOTIFIED = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # plan due 7 April 2026
PLAN_ESCALATION = datetime(2026, 5, 7, 7, 0, tzinfo=UTC)  # E-plan-30d, 09:00 CEST
FORMAL_NOTICE = datetime(2026, 4, 21, 7, 0, tzinfo=UTC)  # E-plan-14d, 09:00 CEST
NO_DECISION_MAKERS = Unreached(
    "", "E-plan-30d", "sanction_review_opened", "decision_makers", "CAP_DECISION_MAKERS is not set"
)


def notified(world: World) -> str:
    ref = world.finding(now=NOTIFIED)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOTIFIED), now=NOTIFIED)
    return ref


def staffed(settings: Settings, **people: str) -> World:
    configured = settings.model_copy(update=people)
    return make_world(Workflow(Database(configured.database_url), configured))


def expected(ref: str, case: Unreached = NO_DECISION_MAKERS) -> Unreached:
    return Unreached(ref, case.rule, case.template, case.role, case.why)


# -- the sweep's report ------------------------------------------------------------------------


def test_an_escalation_to_nobody_is_in_the_report(settings: Settings) -> None:
    world = staffed(settings)
    ref = notified(world)
    report = world.workflow.sweep(now=PLAN_ESCALATION)
    assert (report.escalated, report.queued) == (1, 0)
    assert report.unreached == (expected(ref),)
    assert to_json(report)["unreached"] == [asdict(expected(ref))]
    assert str(report.unreached[0]) == (
        f"{ref}: rule E-plan-30d (sanction_review_opened) reached nobody for decision_makers: "
        "CAP_DECISION_MAKERS is not set"
    )


def test_an_escalation_with_decision_makers_reaches_them(settings: Settings) -> None:
    world = staffed(settings, decision_makers="cecilia@region.example")
    notified(world)
    report = world.workflow.sweep(now=PLAN_ESCALATION)
    assert (report.escalated, report.queued, report.unreached) == (1, 1, ())


def test_only_the_role_without_an_address_is_unreached(settings: Settings) -> None:
    """The formal notice goes to the supplier and the contract manager; the sustainability
    manager, unset, is the one case reported."""
    world = staffed(settings)
    ref = notified(world)
    world.workflow.sweep(now=FORMAL_NOTICE - timedelta(days=1))  # the earlier steps
    report = world.workflow.sweep(now=FORMAL_NOTICE)
    assert (report.steps, report.queued) == (1, 2)
    assert report.unreached == (
        Unreached(
            ref,
            "E-plan-14d",
            "formal_notice",
            "sustainability_manager",
            "CAP_SUSTAINABILITY_MANAGER is not set",
        ),
    )


def test_a_dry_run_reports_who_would_be_unreached(settings: Settings) -> None:
    world = staffed(settings)
    ref = notified(world)
    report = world.workflow.sweep(now=PLAN_ESCALATION, dry_run=True)
    assert report.unreached == (expected(ref),)


# -- the command line --------------------------------------------------------------------------


def test_cap_sweep_warns_on_stderr_and_succeeds(cap: Cap, world: World) -> None:
    ref = notified(world)
    line = (
        f"warning: {ref}: rule E-plan-30d (sanction_review_opened) reached nobody for "
        "decision_makers: CAP_DECISION_MAKERS is not set"
    )
    dry = cap.run("sweep", "--now", PLAN_ESCALATION.isoformat(), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["unreached"] == [asdict(expected(ref))]
    assert line in dry.stderr.splitlines()

    run = cap.run("sweep", "--now", PLAN_ESCALATION.isoformat())
    assert run.returncode == 0, run.stderr
    assert "escalated 1, queued 0 email(s)" in run.stdout
    assert [x for x in run.stderr.splitlines() if x.startswith(("warning:", "error:"))] == [line]


def test_an_action_whose_notice_reaches_nobody_warns(cap: Cap, world: World) -> None:
    ref = notified(world)
    run = cap.run("finding", "escalate", ref, "--reason", "Ignored three reminders")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"{ref}: escalate recorded (awaiting_plan -> sanction_review)")
    assert run.stderr.splitlines() == [
        f"warning: {ref}: rule N-sanction-review (sanction_review_opened) reached nobody for "
        "decision_makers: CAP_DECISION_MAKERS is not set",
        f"warning: {ref}: rule N-sanction-review (sanction_review_opened) reached nobody for "
        "sustainability_manager: CAP_SUSTAINABILITY_MANAGER is not set",
    ]


def test_an_action_that_reaches_everyone_does_not_warn(cap: Cap, world: World) -> None:
    ref = world.finding(now=NOTIFIED)
    run = cap.run("finding", "notify", ref, "--json")
    assert run.returncode == 0, run.stderr
    assert "warning" not in run.stderr


# -- the worker --------------------------------------------------------------------------------


def test_the_worker_counts_and_logs_each_unreached_notification(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    world = staffed(settings)
    ref = notified(world)
    worker = Worker(world.workflow.settings, clock=lambda: PLAN_ESCALATION, owner="w")
    with caplog.at_level(logging.INFO, logger="cap.worker"):
        worker.sweep_job()
    [line] = [r.getMessage() for r in caplog.records if "event=sweep" in r.getMessage()]
    assert "escalated=1" in line and "unreached=1" in line
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [str(expected(ref))]
    assert "CAP_DECISION_MAKERS" in warnings[0]


def test_a_worker_with_everyone_configured_logs_no_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    world = staffed(settings, decision_makers="cecilia@region.example")
    notified(world)
    worker = Worker(world.workflow.settings, clock=lambda: PLAN_ESCALATION, owner="w")
    with caplog.at_level(logging.INFO, logger="cap.worker"):
        worker.sweep_job()
    assert any("unreached=0" in r.getMessage() for r in caplog.records)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
