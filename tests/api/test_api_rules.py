"""The API's rules (both databases): every staff role reads the rules in force as data (the
rules file's names, its digest) and simulates an imagined finding as `cap rules simulate
--json` does; a bad value is 422 naming the field, a moment the calendar does not cover too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from cap.domain.model import Area, Role, Severity, StaffRole
from cap.workflow import to_json, unaddressed_roles
from tests.api.conftest import Api
from tests.conftest import World

PROBLEM = "application/problem+json"
NOTIFIED = datetime(2026, 3, 3, 10, 0, tzinfo=timezone(timedelta(hours=1)))  # a Tuesday
ASKED = {"severity": "critical", "area": "child_labour", "notified": NOTIFIED.isoformat()}


def test_every_role_reads_the_rules_in_force(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    rules = api_world.workflow.settings.rule_set
    for role in StaffRole:
        shown = api_as(role).get("rules")
        assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["digest"] == rules.digest
    assert body["calendar"] == {
        "timezone": rules.calendar_rules.timezone,
        "holiday_country": rules.calendar_rules.holiday_country,
        "roll_forward": rules.calendar_rules.roll_forward,
        "extra_closed_days": [d.isoformat() for d in rules.calendar_rules.extra_closed_days],
        "send_at": rules.calendar_rules.send_at.strftime("%H:%M"),
    }
    assert [d["id"] for d in body["deadlines"]] == [d.id for d in rules.deadlines]
    plan = next(d for d in body["deadlines"] if d["id"] == rules.deadlines[0].id)
    period = rules.deadlines[0].period
    assert plan["period"] == {"months": period.months, "days": period.days}
    assert sorted(s["id"] for s in body["steps"]) == sorted(s.id for s in rules.steps)
    escalation = next(s for s in rules.steps if s.action == "escalate")
    [shown_step] = [s for s in body["steps"] if s["id"] == escalation.id]
    to = [r.value for r in escalation.to]
    assert shown_step == {**shown_step, "offset": escalation.offset, "action": "escalate",
                          "to": to, "level": escalation.level}  # fmt: skip
    ladder = [s for s in body["steps"] if s["deadline"] == "plan"]
    assert [s["offset"] for s in ladder] == sorted(s["offset"] for s in ladder)
    assert [n["id"] for n in body["notices"]] == [n.id for n in rules.notices]
    approvers = [r.value for r in rules.extensions.approvers]
    assert body["extensions"] == {"max": rules.extensions.max, "approvers": approvers}
    assert body["unaddressed"] == to_json(unaddressed_roles(api_world.workflow.settings))


def test_the_simulation_is_the_workflows(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    expected = api_world.workflow.simulate(Severity.CRITICAL, Area.CHILD_LABOUR, NOTIFIED)
    for role in StaffRole:
        simulated = api_as(role).post("simulate", json=ASKED)
        assert simulated.status_code == 200, simulated.text
        assert simulated.json() == to_json(expected)
    body = simulated.json()
    assert body["notified"] == NOTIFIED.isoformat()
    assert body["timeline"][0]["kind"] == "notice"
    assert Role.SUPPLIER.value in body["timeline"][0]["to"]
    assert body["timeline"][-1]["action"] == "escalate"
    minor = api_as(StaffRole.VIEWER).post("simulate", json={**ASKED, "severity": "minor"})
    assert minor.json() == to_json(
        api_world.workflow.simulate(Severity.MINOR, Area.CHILD_LABOUR, NOTIFIED)
    )
    assert minor.json() != body


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"notified": "2026-03-03T10:00:00"}, "notified: '2026-03-03T10:00:00' has no UTC offset"),
        ({"notified": "next Tuesday"}, "notified: 'next Tuesday' is not a date and time"),
        ({"notified": "2026-02-30T10:00:00+01:00"}, "notified: '2026-02-30T10:00:00+01:00' is not"),
        # Seconds since 1970, which pydantic would take: not ISO 8601, not in the document.
        ({"notified": 1772528400}, "notified: 1772528400 is not a date and time"),
        ({"notified": "1772528400"}, "notified: '1772528400' is not a date and time"),
        ({"severity": "grave"}, "severity: 'grave' is not one of"),
        ({"area": "weather"}, "area: 'weather' is not one of"),
        ({"colour": "red"}, "colour: is not a known field"),
    ],
)
def test_a_bad_value_is_422_naming_the_field(
    api_as: Callable[[StaffRole | None], Api],
    api_world: World,
    change: dict[str, object],
    said: str,
) -> None:
    refused = api_as(StaffRole.VIEWER).post("simulate", json={**ASKED, **change})
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["errors"][0]["field"] == next(iter(change))
    assert refused.json()["detail"].startswith(said)


def test_a_missing_value_and_a_moment_outside_the_calendar_are_422(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    viewer = api_as(StaffRole.VIEWER)
    missing = viewer.post("simulate", json={k: v for k, v in ASKED.items() if k != "notified"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "notified"
    far = viewer.post("simulate", json={**ASKED, "notified": "2200-03-03T10:00:00+01:00"})
    assert far.status_code == 422 and far.headers["content-type"] == PROBLEM
    assert far.json()["detail"].startswith("notified: 2200-03-03T10:00:00+01:00 is")
    assert far.json()["errors"][0]["field"] == "notified"


def test_the_rules_need_a_working_token(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    anonymous, unknown = api_as(None), {"authorization": "Bearer not-a-token"}
    for response in (anonymous.get("rules"), anonymous.get("rules", headers=unknown),
                     anonymous.post("simulate", json=ASKED, headers=unknown)):  # fmt: skip
        assert response.status_code == 401 and response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"] == 'Bearer realm="cap"'
    # Without any Authorization header, the desk's CSRF check refuses a POST first.
    assert anonymous.post("simulate", json=ASKED).status_code in (401, 403)
