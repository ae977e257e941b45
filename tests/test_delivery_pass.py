"""How one delivery pass runs: connections reused after a refusal, grouped marks, lingering."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.domain.lifecycle import Action, ActionRequest
from cap.notify.delivery import Delivery
from cap.store.models import OutboxMessage, OutboxStatus
from tests.conftest import ANNA, LI, NOW, World
from tests.smtp_server import Handler


def notify(world: World, title: str) -> str:
    ref = world.finding(title=title)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    return ref


def statuses(world: World) -> list[OutboxStatus]:
    with world.workflow.db.read() as session:
        return list(
            session.execute(
                select(col(OutboxMessage.status)).order_by(col(OutboxMessage.id))
            ).scalars()
        )


def assert_each_sent_once(world: World, handler: Handler, refs: list[str]) -> None:
    """Every finding's message arrived once, and every row says sent."""
    assert sorted(m["X-Cap-Finding"] for m in handler.messages_to(LI)) == sorted(refs)
    assert statuses(world) == [OutboxStatus.SENT] * len(refs)


def test_a_refusal_leaves_the_connection_usable_for_the_next_message(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    notify(smtp_world, "First")  # queued first: its refusal comes before the second send
    accepted = notify(smtp_world, "Second")
    handler.script[LI] = ["550 5.1.1 No such user"]  # the first message only
    wf = smtp_world.workflow
    delivery = Delivery(wf.db, wf.settings, owner="test", connections=1)
    report = asyncio.run(delivery.run_pass(lambda: NOW))
    # One connection: without RSET the server would refuse the second MAIL as nested.
    assert (report.sent, report.failed) == (1, 1), report.errors
    assert statuses(smtp_world) == [OutboxStatus.FAILED, OutboxStatus.SENT]
    assert [m["X-Cap-Finding"] for m in handler.messages_to(LI)] == [accepted]


def test_many_messages_over_several_connections_are_each_marked_once(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    refs = [notify(smtp_world, f"Finding {i}") for i in range(40)]
    wf = smtp_world.workflow
    delivery = Delivery(wf.db, wf.settings, owner="test", connections=4)
    report = asyncio.run(delivery.run_pass(lambda: NOW))
    assert (report.claimed, report.sent, report.lost_lease) == (40, 40, 0)
    assert_each_sent_once(smtp_world, handler, refs)


@pytest.mark.slow  # a pass that lingers for seconds
def test_a_lingering_pass_sends_what_is_queued_while_it_runs(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    first = notify(smtp_world, "Before the pass")
    wf = smtp_world.workflow
    delivery = Delivery(wf.db, wf.settings, owner="test", linger=5.0)

    async def scenario() -> tuple[int, float]:
        running = asyncio.create_task(delivery.run_pass(lambda: NOW))
        while not handler.received:
            await asyncio.sleep(0.02)
        queued_at = time.monotonic()
        await asyncio.to_thread(notify, smtp_world, "During the pass")
        while len(handler.received) < 2:
            assert not running.done(), "the pass ended before the new message was queued"
            await asyncio.sleep(0.02)
        picked_up = time.monotonic() - queued_at
        return (await running).sent, picked_up

    sent, picked_up = asyncio.run(scenario())
    assert sent == 2
    assert picked_up < 2.0  # polled for, not left for the next pass
    findings = [m["X-Cap-Finding"] for m in handler.messages_to(LI)]
    assert findings[0] == first and len(set(findings)) == 2


def test_a_pass_that_finds_nothing_ends_at_once_even_when_lingering(smtp_world: World) -> None:
    wf = smtp_world.workflow
    delivery = Delivery(wf.db, wf.settings, owner="test", linger=5.0)
    started = time.monotonic()
    report = asyncio.run(delivery.run_pass(lambda: NOW))
    assert report.claimed == 0
    assert time.monotonic() - started < 2.0


def test_stopping_mid_pass_hands_claimed_messages_back(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    handler, _ = server
    for i in range(6):
        notify(smtp_world, f"Finding {i}")
    wf = smtp_world.workflow
    settings = wf.settings.model_copy(update={"delivery_batch": 2})
    delivery = Delivery(wf.db, settings, owner="test", connections=1)

    def stop_after_the_first(_: object) -> None:
        delivery.stopping = True  # as SIGTERM does, while the next batch is being claimed

    handler.on_data = stop_after_the_first
    report = asyncio.run(delivery.run_pass(lambda: NOW))
    assert report.sent == 1 == len(handler.received)
    assert report.claimed >= 2  # a prefetched batch was claimed too, and handed back
    found = statuses(smtp_world)
    assert found.count(OutboxStatus.SENT) == 1
    assert found.count(OutboxStatus.QUEUED) == 5 and OutboxStatus.SENDING not in found


def test_a_pass_never_claims_again_what_it_holds_when_the_lease_is_short(
    smtp_world: World, server: tuple[Handler, int]
) -> None:
    # A lease shorter than the pass (or the demo's fast clock) must not make the pass take
    # its own rows a second time while it still holds them: each is sent once.
    handler, _ = server
    refs = [notify(smtp_world, f"Finding {i}") for i in range(6)]
    wf = smtp_world.workflow
    settings = wf.settings.model_copy(update={"delivery_batch": 2, "delivery_lease_seconds": 0.5})
    ticks = iter(range(10_000))

    def clock() -> datetime:  # one second further at every look
        return NOW + timedelta(seconds=next(ticks))

    delivery = Delivery(wf.db, settings, owner="test", connections=1)
    report = asyncio.run(delivery.run_pass(clock))
    assert (report.sent, report.lost_lease) == (6, 0)
    assert_each_sent_once(smtp_world, handler, refs)
