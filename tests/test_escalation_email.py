"""The email of an automatic escalation describes the finding as the escalation leaves it: in
sanction review at level 3, not in the state it is leaving."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.store.db import Database
from cap.store.models import OutboxMessage
from cap.workflow import Workflow
from tests.conftest import ANNA, make_world

NOTIFIED = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # plan due 7 April 2026
PLAN_ESCALATION = datetime(2026, 5, 7, 7, 0, tzinfo=UTC)  # E-plan-30d, 09:00 CEST

#: How the layout of each language shows the state and the level, before and after.
SHOWN = {
    "sv": ("Status: sanktionsprövning", "Eskaleringsnivå: 3", "Status: inväntar åtgärdsplan"),
    "en": ("State: sanction review", "Escalation level: 3", "State: awaiting plan"),
}


def swept(settings: Settings, language: str, now: datetime) -> list[OutboxMessage]:
    """A finding notified on 3 March, swept once at ``now``: the decision makers' emails."""
    configured = settings.model_copy(
        update={"decision_makers": "cecilia@region.example", "default_language": language}
    )
    world = make_world(Workflow(Database(configured.database_url), configured))
    ref = world.finding(now=NOTIFIED)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOTIFIED), now=NOTIFIED)
    world.workflow.sweep(now=now)
    with world.workflow.db.read() as session:
        return list(
            session.execute(
                select(OutboxMessage)
                .where(col(OutboxMessage.recipient) == "cecilia@region.example")
                .order_by(col(OutboxMessage.id))
            ).scalars()
        )


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_sanction_review_email_shows_the_sanction_review_state(
    settings: Settings, language: str
) -> None:
    [row] = swept(settings, language, PLAN_ESCALATION)
    state, level, before = SHOWN[language]
    assert (row.kind, row.language) == ("sanction_review_opened", language)
    assert state in row.text_body.splitlines()
    assert level in row.text_body.splitlines()
    assert before not in row.text_body
    assert state.split(": ")[1] in row.html_body
