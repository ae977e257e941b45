"""The outbox a page at a time: failed first, then waiting, then sent, newest first within
each; counted per status in SQL; the CLI's list unchanged (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import OutboxStatus
from cap.errors import InvalidInput
from cap.store.models import OutboxMessage
from tests.conftest import ANNA, NOW, World


def test_pages_in_order_of_concern(world: World) -> None:
    wf = world.workflow
    for minute in range(7):
        at = NOW + timedelta(minutes=minute)
        ref = world.finding(now=at)
        wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, at), now=at)
    ids = [m.id for m in sorted(wf.list_outbox(), key=lambda m: m.id)]
    statuses = {ids[0]: OutboxStatus.SENT, ids[1]: OutboxStatus.FAILED, ids[2]: OutboxStatus.SENT,
                ids[3]: OutboxStatus.SENDING, ids[4]: OutboxStatus.FAILED}  # fmt: skip
    with wf.db.write() as session:
        for message, status in statuses.items():
            session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == message)
                            .values(status=status))  # fmt: skip
    # failed (newest first), then queued and sending (newest first), then sent.
    order = [ids[4], ids[1], ids[6], ids[5], ids[3], ids[2], ids[0]]
    first = wf.outbox_page(page=1, page_size=3)
    assert [e.id for e in first.entries] == order[:3]
    assert (first.pages, first.total) == (3, 7)
    assert first.counts == {OutboxStatus.QUEUED: 2, OutboxStatus.SENDING: 1,
                            OutboxStatus.SENT: 2, OutboxStatus.FAILED: 2}  # fmt: skip
    assert [e.id for e in wf.outbox_page(page=3, page_size=3).entries] == order[6:]
    assert wf.outbox_page(page=4, page_size=3).entries == ()
    sent = wf.outbox_page(OutboxStatus.SENT, page_size=3)
    assert [e.id for e in sent.entries] == [ids[2], ids[0]] and sent.pages == 1
    assert sent.counts[OutboxStatus.FAILED] == 2  # the counts are the whole outbox's
    assert all(e.created_at >= NOW for e in first.entries)
    # The command line's list is as it was: newest first, whatever the status.
    assert [m.id for m in wf.list_outbox()] == ids[::-1]
    with pytest.raises(InvalidInput, match=r"^page: 0 is not a page number"):
        wf.outbox_page(page=0)


def test_an_empty_outbox_has_one_empty_page(world: World) -> None:
    page = world.workflow.outbox_page()
    assert (page.entries, page.pages, page.total) == ((), 1, 0)
    assert set(page.counts.values()) == {0}
