"""A delivery process killed between the server's acceptance and the "sent" mark."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.notify.delivery import Delivery
from cap.store.db import Database
from cap.store.models import OutboxMessage, OutboxStatus
from cap.workflow import Workflow
from tests.conftest import ANNA, NOW, make_world
from tests.smtp_server import Handler, Received, smtp_server

pytestmark = pytest.mark.slow  # delivery processes, killed

DELIVER = """
import asyncio
from datetime import datetime, UTC
from cap.config import Settings
from cap.notify.delivery import Delivery
from cap.store.db import Database
settings = Settings()
now = datetime.fromisoformat("{now}")
asyncio.run(Delivery(Database(settings.database_url), settings).run_pass(lambda: now))
"""


@pytest.mark.parametrize("connections", [1, 4])
def test_a_killed_delivery_loses_nothing_and_duplicates_at_most_one(
    sqlite_url: str, connections: int
) -> None:
    """With one connection exactly the message in flight comes twice; with several, each
    message in flight at most twice. None is lost and every copy is the same bytes."""
    victim: list[subprocess.Popen[bytes]] = []

    def kill_after_third(item: Received) -> None:
        if len(handler.received) == 3 and victim:
            # The server has the message; the client dies before it hears "250".
            os.kill(victim[0].pid, signal.SIGKILL)

    handler = Handler(on_data=kill_after_third)
    with smtp_server(handler) as (_, port):
        settings = Settings(
            database_url=sqlite_url,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_tls="none",
            mail_from="cap@region.example",
            delivery_lease_seconds=1,
        )
        world = make_world(Workflow(Database(sqlite_url), settings))
        for i in range(5):
            ref = world.finding(title=f"Finding {i}")
            world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)

        env = {
            **os.environ,
            "CAP_DATABASE_URL": sqlite_url,
            "CAP_SMTP_HOST": "127.0.0.1",
            "CAP_SMTP_PORT": str(port),
            "CAP_SMTP_TLS": "none",
            "CAP_MAIL_FROM": "cap@region.example",
            "CAP_DELIVERY_LEASE_SECONDS": "1",
            "CAP_DELIVERY_CONNECTIONS": str(connections),
        }
        process = subprocess.Popen(
            [sys.executable, "-c", DELIVER.format(now=NOW.isoformat())], env=env
        )
        victim.append(process)
        assert process.wait(timeout=60) == -signal.SIGKILL
        accepted = len(handler.received)
        with world.workflow.db.read() as session:
            rows = session.execute(select(OutboxMessage)).scalars().all()
            statuses = Counter(r.status for r in rows)
        in_flight = accepted - statuses[OutboxStatus.SENT]
        assert 1 <= in_flight <= connections  # accepted by the server, never marked sent
        later = NOW + timedelta(seconds=2)  # the dead worker's one-second lease has run out
        report = asyncio.run(
            Delivery(world.workflow.db, settings, owner="survivor").run_pass(lambda: later)
        )
        assert report.sent == 5 - statuses[OutboxStatus.SENT]

    ids = Counter(r.message["Message-ID"] for r in handler.received)
    assert len(ids) == 5, "a message was lost"
    duplicates = [mid for mid, n in ids.items() if n > 1]
    assert len(duplicates) == in_flight and all(ids[d] == 2 for d in duplicates)
    if connections == 1:
        assert len(duplicates) == 1
    for duplicate in duplicates:
        copies = [r.data for r in handler.received if r.message["Message-ID"] == duplicate]
        assert copies[0] == copies[1]  # byte for byte the same message
    with world.workflow.db.read() as session:
        rows = session.execute(select(OutboxMessage)).scalars().all()
    assert all(r.status is OutboxStatus.SENT for r in rows)
