"""The outbox: rows commit with the action that causes them, and a key is queued once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Table, func, inspect, select, text

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.errors import Conflict
from cap.notify.outbox import insert_rows
from cap.store.db import Database
from cap.store.models import Event, OutboxMessage, OutboxStatus
from cap.workflow import QueuedDigest, Workflow
from tests.conftest import ANNA, NOW, World, empty_pg, make_world


def counts(wf: Workflow) -> tuple[int, int]:
    with wf.db.read() as session:
        outbox = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        events = session.execute(select(func.count()).select_from(Event)).scalar_one()
        return int(outbox), int(events)


def test_an_action_whose_transaction_rolls_back_queues_nothing(
    pg_url: str, tmp_path: object
) -> None:
    """Another transaction changes the finding while the action is writing: the action's
    guarded update finds a new version, raises Conflict, and its outbox rows vanish with it."""
    empty_pg(pg_url)
    wf = Workflow(Database(pg_url), Settings(database_url=pg_url))
    world = make_world(wf)
    ref = world.finding()
    blocker = Database(pg_url)
    outcome: list[BaseException] = []

    with blocker.engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("UPDATE finding SET version = version + 1 WHERE ref = :r"), {"r": ref})

        def notify() -> None:
            try:
                wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
            except BaseException as exc:  # handed to the test thread
                outcome.append(exc)

        worker = threading.Thread(target=notify)
        worker.start()
        with blocker.engine.connect() as watcher:  # wait until the action waits on our lock
            for _ in range(200):
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar_one()
                if waiting:
                    break
                time.sleep(0.05)
            assert waiting, "the action never reached its guarded update"
        tx.commit()
        worker.join(timeout=30)

    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
    assert counts(wf) == (0, 1)  # no outbox row, only the 'logged' event
    blocker.engine.dispose()
    wf.db.engine.dispose()


def test_a_key_is_queued_once(world: World) -> None:
    wf = world.workflow
    ref = world.finding()
    wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    with wf.db.read() as session:
        [row] = session.execute(select(OutboxMessage)).scalars().all()
    table = inspect(OutboxMessage).local_table  # OutboxMessage.__table__
    assert isinstance(table, Table)
    duplicate = {c.name: getattr(row, c.name) for c in table.columns if c.name != "id"}
    duplicate["subject"] = "a second attempt to queue the same notification"
    with wf.db.write() as session:
        insert_rows(session, [duplicate])
    with wf.db.read() as session:
        rows = session.execute(select(OutboxMessage)).scalars().all()
    assert len(rows) == 1 and rows[0].subject != duplicate["subject"]


def test_a_failed_message_can_be_retried_by_hand(world: World) -> None:
    wf = world.workflow
    ref = world.finding()
    wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    [message] = wf.list_outbox()
    with pytest.raises(Exception, match="only failed messages"):
        wf.retry_message(message.id, now=NOW)
    with wf.db.write() as session:
        row = session.get(OutboxMessage, message.id)
        assert row is not None
        row.status = OutboxStatus.FAILED
        row.last_error = "550 no such user"
    later = NOW + timedelta(days=2)
    retried = wf.retry_message(message.id, now=later)
    assert retried.status == "queued" and retried.next_attempt_at == later
    assert [m.status for m in wf.list_outbox(OutboxStatus.QUEUED)] == ["queued"]
    with pytest.raises(Exception, match="message 999 does not exist"):
        wf.retry_message(999, now=later)


def test_contract_managers_get_one_digest_a_day(world: World) -> None:
    wf = world.workflow
    late = world.finding(title="Union blocked")
    far = world.finding(title="No minerals policy")
    wf.act(late, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)  # plan due 7 April
    wf.act(far, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    wf.act(
        far, ActionRequest(Action.EXTEND, ANNA, NOW, reason="r", until=date(2026, 6, 1)), now=NOW
    )
    day = datetime(2026, 4, 9, 5, 0, tzinfo=UTC)
    assert wf.queue_digests(now=day) == [QueuedDigest(to=ANNA, findings=1)]
    assert wf.queue_digests(now=day + timedelta(hours=3)) == []  # today's is queued already
    digests = [m for m in wf.list_outbox() if m.kind == "daily_digest"]
    assert len(digests) == 1 and digests[0].recipient == ANNA
    with wf.db.read() as session:
        row = session.get(OutboxMessage, digests[0].id)
        assert row is not None
        assert late in row.text_body and far not in row.text_body
    wf.queue_digests(now=day + timedelta(days=1))
    assert len([m for m in wf.list_outbox() if m.kind == "daily_digest"]) == 2
