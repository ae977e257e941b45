"""One mapping between the lifecycle's Case and the stored Finding: every field of a case that
is written is read back as it was, under the optimistic lock, on both databases."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlmodel import col

from cap.domain.model import Area, Case, DeadlineKind, LadderMark, Severity, State
from cap.store.mapping import SAVE_FINDING, case_of, saved_params
from cap.store.models import Finding
from tests.conftest import CECILIA, World

#: A case in which every field differs from a freshly logged finding's.
CASE = Case(
    state=State.SANCTION_REVIEW,
    severity=Severity.CRITICAL,
    area=Area.CHILD_LABOUR,
    found_on=date(2026, 1, 5),
    notified_at=datetime(2026, 1, 7, 8, 30, 15, 250000, tzinfo=UTC),
    plan_due=date(2026, 2, 9),
    remediation_due=date(2026, 7, 7),
    review_due=date(2026, 2, 23),
    verification_due=date(2026, 8, 6),
    ladder={
        DeadlineKind.PLAN: LadderMark(
            due=date(2026, 2, 9),
            since=datetime(2026, 1, 7, 8, 30, tzinfo=UTC),
            done_until=datetime(2026, 3, 11, 8, 0, tzinfo=UTC),
        )
    },
    escalation_level=3,
    return_state=State.AWAITING_PLAN,
    termination_proposed_by=CECILIA,
    deadline_version=4,
    extensions=2,
    extension_request=date(2026, 3, 31),
    last_event_at=datetime(2026, 3, 11, 8, 0, 5, tzinfo=UTC),
)
NEXT_CHECK = datetime(2026, 4, 1, 7, 0, tzinfo=UTC)


def load(world: World, ref: str) -> Finding:
    with world.workflow.db.read() as session:
        return session.scalars(select(Finding).where(col(Finding.ref) == ref)).one()


def test_every_field_of_a_case_is_written_and_read_back(world: World) -> None:
    ref = world.finding()
    logged = load(world, ref)
    # A field the mapping left out would keep the logged value: each one must differ from it.
    before = case_of(logged)
    assert [f.name for f in fields(Case) if getattr(CASE, f.name) == getattr(before, f.name)] == []

    with world.workflow.db.write() as session:
        written = session.connection().execute(SAVE_FINDING, saved_params(logged, CASE, NEXT_CHECK))
        assert written.rowcount == 1

    saved = load(world, ref)
    assert case_of(saved) == CASE
    assert (saved.next_check_at, saved.version) == (NEXT_CHECK, logged.version + 1)
    assert (saved.ref, saved.title, saved.created_by) == (
        logged.ref,
        logged.title,
        logged.created_by,
    )


def test_a_case_loaded_before_a_change_is_not_written_over_it(world: World) -> None:
    ref = world.finding()
    stale = load(world, ref)
    with world.workflow.db.write() as session:
        first = session.connection().execute(SAVE_FINDING, saved_params(stale, CASE, NEXT_CHECK))
        assert first.rowcount == 1
    other = Case(state=State.WITHDRAWN, severity=Severity.MINOR, area=Area.OTHER)
    with world.workflow.db.write() as session:
        second = session.connection().execute(SAVE_FINDING, saved_params(stale, other, None))
        assert second.rowcount == 0  # the version it was loaded at is gone
    assert case_of(load(world, ref)) == CASE
