"""`cap outbox list` shows when each message was sent, or when it is tried next, in local time."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from cap.domain.lifecycle import Action, ActionRequest
from tests.cli_runner import Cap
from tests.conftest import ANNA, NOW, World

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _local(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M %a")


def _table(out: str) -> list[dict[str, str]]:
    """The rows of an aligned table, by heading (columns start where their heading starts)."""
    header, *lines = out.splitlines()
    starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", header)]
    names = [header[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
    return [
        {n: line[a:b].strip() for n, a, b in zip(names, starts, [*starts[1:], None], strict=True)}
        for line in lines
    ]


def test_sent_rows_show_the_sent_time_and_waiting_rows_the_next_try(cap: Cap, world: World) -> None:
    sent_ref = world.finding()
    world.workflow.act(sent_ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    cap.ok("outbox", "send")
    waiting_ref = world.finding(title="No union access")
    world.workflow.act(waiting_ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)

    stored = {m["finding"]: m for m in cap.json("outbox", "list")}
    shown = {row["ABOUT"]: row for row in _table(cap.ok("outbox", "list"))}
    assert stored[sent_ref]["status"] == "sent"
    assert shown[sent_ref]["SENT (LOCAL)"] == _local(stored[sent_ref]["sent_at"])
    assert shown[sent_ref]["NEXT TRY (LOCAL)"] == "-"
    assert stored[waiting_ref]["status"] == "queued"
    assert shown[waiting_ref]["SENT (LOCAL)"] == "-"
    assert shown[waiting_ref]["NEXT TRY (LOCAL)"] == _local(stored[waiting_ref]["next_attempt_at"])
