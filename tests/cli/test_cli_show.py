"""`cap finding show` as people read it: aligned fields, local times to the minute."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from cap.domain.lifecycle import Action, ActionRequest
from tests.cli_runner import Cap
from tests.conftest import ANNA, NOW, World

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_fields_align_and_every_instant_is_local_to_the_minute(cap: Cap, world: World) -> None:
    ref = world.finding()
    # 09:00 UTC in winter is 10:00 in Stockholm; the microseconds must not show.
    at = NOW.replace(microsecond=123456)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, at), now=NOW)
    out = cap.ok("finding", "show", ref)
    head, _, history = out.partition("\nhistory\n")

    fields = [line for line in head.splitlines()[1:] if line.startswith("  ") and line.strip()]
    labels = {line.split("  ")[1].strip() for line in fields[:3]}
    assert labels == {"state", "severity", "area"}, fields
    columns = {re.match(r"  \S+(?: \S+)* +", line).end() for line in fields[:12]}  # type: ignore[union-attr]
    assert len(columns) == 1, fields
    assert re.search(r"^  notified +2026-03-03 10:00 Tue$", head, re.M), head
    assert re.search(r"^  plan due +\d{4}-\d{2}-\d{2} \(end of day\)$", head, re.M), head

    rows = history.splitlines()
    assert rows[0].split()[:4] == ["WHEN", "(LOCAL)", "WHAT", "WHO"]
    logged = datetime.fromisoformat(cap.show(ref)["events"][0]["at"]).astimezone(STOCKHOLM)
    assert rows[1].startswith(f"  {logged:%Y-%m-%d %H:%M %a}  logged")
    assert rows[2].startswith("  2026-03-03 10:00 Tue  notify")
    # Columns line up: WHAT starts at the same place in every row.
    assert (
        len({row.index("logged") if "logged" in row else row.index("notify") for row in rows[1:]})
        == 1
    )
    assert "+00:00" not in out and ".123456" not in out and "T09:00" not in out
