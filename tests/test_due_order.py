"""Finding.due_order, the date of the deadline that binds a finding now (what the lists sort
and the dashboard counts by), is kept with every write of the finding, and the migration that
added it fills it in as the lifecycle would (both databases)."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select, text
from sqlmodel import col

from cap.domain.lifecycle import ActionRequest, current_deadline
from cap.domain.model import Action
from cap.store.mapping import case_of
from cap.store.models import NO_DEADLINE, Finding
from tests.conftest import ANNA, NOW, World


def _stored(world: World, ref: str) -> Finding:
    statement = select(Finding).where(col(Finding.ref) == ref)
    with world.workflow.db.read() as session:
        found: Finding = session.execute(statement).scalar_one()
    return found


def _expected(finding: Finding) -> object:
    current = current_deadline(case_of(finding))
    return current[1] if current else NO_DEADLINE


def test_due_order_follows_the_finding_through_its_life(world: World) -> None:
    ref = world.finding()
    assert _stored(world, ref).due_order == NO_DEADLINE  # open: nothing owed yet
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    notified = _stored(world, ref)
    assert notified.due_order == notified.plan_due == _expected(notified)
    later = NOW + timedelta(hours=1)
    world.workflow.act(ref, ActionRequest(Action.WITHDRAW, ANNA, later, reason="dup"), now=later)
    assert _stored(world, ref).due_order == NO_DEADLINE


def test_the_migration_fills_it_in_as_the_lifecycle_would(world: World) -> None:
    refs = [world.finding(title=f"t{n}") for n in range(3)]
    for ref in refs[:2]:
        world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    db = world.workflow.db
    config = db.alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        command.upgrade(config, "head")
    with db.engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM finding")).scalar_one() == 3
    for ref in refs:
        stored = _stored(world, ref)
        assert stored.due_order == _expected(stored)
    assert _stored(world, refs[0]).due_order != NO_DEADLINE
