"""The current deadline as SQL (the dashboard's and the list's) is the lifecycle's, and so is
the SQL overdue test, in every state with every deadline absent, earlier, later or tied (both
databases)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import col

from cap.domain.lifecycle import current_deadline
from cap.domain.model import State
from cap.store.mapping import case_of
from cap.store.models import Finding
from cap.workflow.views import current_deadline_columns, overdue_clause
from tests.conftest import ANNA, NOW, World

EARLY, LATE = date(2026, 3, 1), date(2026, 3, 20)
TODAY = date(2026, 3, 10)


def test_the_sql_current_deadline_and_overdue_are_the_lifecycles(world: World) -> None:
    template_ref = world.finding()
    calendar = world.workflow.settings.calendar
    now = calendar.end_of_day(TODAY) - timedelta(hours=1)
    with world.workflow.db.write() as session:
        template = session.execute(
            select(Finding).where(col(Finding.ref) == template_ref)
        ).scalar_one()
        number = 0
        for state in State:
            for plan, review, remediation, verification in itertools.product(
                (None, EARLY, LATE), repeat=4
            ):
                number += 1
                session.add(
                    Finding(
                        ref=f"T-{number}", supplier_id=template.supplier_id,
                        contract_id=template.contract_id, source=template.source,
                        area=template.area, severity=template.severity, title="t",
                        found_on=template.found_on, state=state, plan_due=plan,
                        review_due=review, remediation_due=remediation,
                        verification_due=verification, created_at=NOW, created_by=ANNA,
                    )
                )  # fmt: skip
    kind, due = current_deadline_columns()
    with world.workflow.db.read() as session:
        rows = session.execute(
            select(Finding, kind, due, overdue_clause(TODAY)).where(
                col(Finding.ref).startswith("T-")
            )
        ).all()
    assert len(rows) == len(State) * 3**4
    wrong = []
    for finding, sql_kind, sql_due, sql_overdue in rows:
        expected = current_deadline(case_of(finding))
        got = (sql_kind, sql_due) if sql_due is not None or sql_kind is not None else None
        late = expected is not None and calendar.is_overdue(expected[1], now)
        if got != expected or bool(sql_overdue) != late:
            wrong.append((case_of(finding), got, expected, sql_overdue))
    assert wrong == []
    assert {row[2] for row in rows} == {None, EARLY, LATE}
